"""The CronJob controller against an in-memory apiserver with its clock in the test's hands: when
Jobs are created (the most recent missed time only, never twice, not past the starting deadline,
in the CronJob's time zone), the concurrency policies, suspension, the active list and the last
schedule and success times, the history limits, the events Kubernetes records, and when it looks
again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from controller.cronjob import schedule as cron_schedule
from controller.cronjob.controller import CronJobController
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.apimachinery.cron import parse_standard
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster

NS = "default"
KEY = f"{NS}/hello"
CREATED = datetime(2030, 1, 1, 12, 0, 20, tzinfo=UTC)  # a Tuesday


def cron_job(created: datetime = CREATED, **spec: Any) -> batch_pb2.CronJob:
    obj = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {
                "name": "hello",
                "namespace": NS,
                "uid": "uid-hello",
                "creationTimestamp": timeutil.format_time(created),
            },
            "spec": {
                "schedule": "*/1 * * * *",
                "concurrencyPolicy": "Allow",
                "suspend": False,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {
                    "metadata": {"labels": {"app": "hello"}, "annotations": {"team": "a"}},
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [{"name": "hello", "image": "busybox"}],
                            }
                        }
                    },
                },
                **spec,
            },
        },
        batch_pb2.CronJob,
    )
    assert isinstance(obj, batch_pb2.CronJob)
    return obj


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t.timestamp()


class Harness:
    def __init__(self, cluster: FakeCluster, controller: CronJobController, clock: Clock) -> None:
        self.cluster, self.controller, self.clock = cluster, controller, clock

    async def sync(self) -> float | None:
        """Delivers every pending event to the caches, then reconciles the CronJob once."""
        await self.settle()
        return await self.controller.reconcile(KEY)

    async def settle(self) -> None:
        for _ in range(3):
            self.cluster.deliver()
            await asyncio.sleep(0.01)

    async def stored(self) -> batch_pb2.CronJob:
        return await self.cluster.cronjobs.get("hello", NS)

    async def events(self) -> list[tuple[str, str, str]]:
        await self.controller.recorder.flush()
        return [(e.type, e.reason, e.message) for e in self.cluster.events.created]

    async def reasons(self) -> list[str]:
        return [reason for _, reason, _ in await self.events()]

    async def finish(self, name: str, condition: str, at: datetime) -> None:
        job = batch_pb2.Job()
        job.CopyFrom(await self.cluster.jobs.get(name, NS))
        stamp = timeutil.format_time(at)
        job.status.start_time = job.status.start_time or stamp
        job.status.conditions.add(type=condition, status="True", last_transition_time=stamp)
        if condition == "Complete":
            job.status.completion_time = stamp
        await self.cluster.jobs.update_status(job)


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    cluster = FakeCluster()
    clock = Clock(CREATED)
    informers = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    controller = CronJobController(cluster, informers, clock=clock)  # type: ignore[arg-type]
    informers.start()
    await informers.wait_for_cache_sync(5)
    try:
        yield Harness(cluster, controller, clock)
    finally:
        await informers.shutdown()


def minutes(t: datetime) -> int:
    return int(t.timestamp()) // 60


# ---------------------------------------------------------------- when


@pytest.mark.parametrize(
    "spec,now,most_recent",
    [
        ({}, CREATED + timedelta(seconds=30), None),  # 12:00:20 -> next 12:01
        ({}, CREATED + timedelta(seconds=45), datetime(2030, 1, 1, 12, 1, tzinfo=UTC)),
        ({}, CREATED + timedelta(minutes=10), datetime(2030, 1, 1, 12, 10, tzinfo=UTC)),
        (
            {"schedule": "0 * * * *"},
            CREATED + timedelta(hours=5),
            datetime(2030, 1, 1, 17, tzinfo=UTC),
        ),
        (
            {"schedule": "30 6-16/4 * * 1-5"},  # irregular: 06:30, 10:30, 14:30 on weekdays
            CREATED + timedelta(days=2),
            datetime(2030, 1, 3, 10, 30, tzinfo=UTC),
        ),
        (
            {"schedule": "@every 7m"},
            CREATED + timedelta(minutes=30),
            CREATED + timedelta(minutes=28),
        ),
    ],
)
def test_the_most_recent_time_due(
    spec: dict[str, Any], now: datetime, most_recent: datetime | None
) -> None:
    cj = cron_job(**spec)
    recent = cron_schedule.most_recent_schedule_time(cj, now, cron_schedule.parse(cj), True)
    assert recent.most_recent == most_recent


def test_starting_deadline_limits_how_far_back_it_looks() -> None:
    cj = cron_job(schedule="0 * * * *", startingDeadlineSeconds=600)
    schedule = cron_schedule.parse(cj)
    at_five_past = datetime(2030, 1, 1, 15, 5, tzinfo=UTC)
    assert cron_schedule.most_recent_schedule_time(cj, at_five_past, schedule, True).most_recent
    at_twenty_past = datetime(2030, 1, 1, 15, 20, tzinfo=UTC)
    recent = cron_schedule.most_recent_schedule_time(cj, at_twenty_past, schedule, True)
    assert recent.most_recent is None


def test_many_missed_times_are_counted_as_many() -> None:
    cj = cron_job()
    now = CREATED + timedelta(minutes=150)
    recent = cron_schedule.most_recent_schedule_time(cj, now, cron_schedule.parse(cj), True)
    assert recent.missed is cron_schedule.Missed.MANY


def test_a_schedule_that_never_fires_is_invalid() -> None:
    cj = cron_job(schedule="0 0 31 2 *")  # 31 February never comes
    with pytest.raises(cron_schedule.InvalidSchedule):
        cron_schedule.most_recent_schedule_time(cj, CREATED, cron_schedule.parse(cj), True)
    every = parse_standard("@every 1s")
    assert cron_schedule.next_schedule_delay(cj, CREATED, every) == pytest.approx(1.1, abs=0.01)


@pytest.mark.parametrize(
    "zone,scheduled,annotation",
    [
        (None, datetime(2030, 1, 1, 9, tzinfo=UTC), "2030-01-01T09:00:00Z"),
        ("Europe/Paris", datetime(2030, 1, 1, 8, tzinfo=UTC), "2030-01-01T09:00:00+01:00"),
        ("Asia/Kolkata", datetime(2030, 1, 1, 3, 30, tzinfo=UTC), "2030-01-01T09:00:00+05:30"),
    ],
)
def test_time_zones_and_the_scheduled_timestamp(
    zone: str | None, scheduled: datetime, annotation: str
) -> None:
    spec: dict[str, Any] = {"schedule": "0 9 * * *"}
    if zone:
        spec["timeZone"] = zone
    cj = cron_job(created=datetime(2029, 12, 31, 23, tzinfo=UTC), **spec)
    upcoming = cron_schedule.parse(cj).next(datetime(2029, 12, 31, 23, tzinfo=UTC))
    assert upcoming == scheduled
    assert cron_schedule.scheduled_timestamp(cj, scheduled) == annotation
    assert cron_schedule.job_name(cj, scheduled) == f"hello-{minutes(scheduled)}"


# ---------------------------------------------------------------- the controller


async def test_nothing_before_the_first_time_then_a_job_at_it(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job())
    harness.clock.t = CREATED + timedelta(seconds=10)  # 12:00:30
    delay = await harness.sync()
    assert harness.cluster.jobs.created == []
    assert delay == pytest.approx(30.1, abs=0.01)  # just past 12:01

    harness.clock.t = datetime(2030, 1, 1, 12, 1, 0, 100_000, tzinfo=UTC)
    delay = await harness.sync()
    [job] = harness.cluster.jobs.created
    scheduled = datetime(2030, 1, 1, 12, 1, tzinfo=UTC)
    assert job.metadata.name == f"hello-{minutes(scheduled)}"
    assert dict(job.metadata.labels) == {"app": "hello"}
    assert dict(job.metadata.annotations) == {
        "team": "a",
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2030-01-01T12:01:00Z",
    }
    [ref] = job.metadata.owner_references
    assert (ref.kind, ref.name, ref.uid, ref.controller) == ("CronJob", "hello", "uid-hello", True)
    assert job.spec.template.spec.containers[0].image == "busybox"
    status = (await harness.stored()).status
    assert [a.name for a in status.active] == [job.metadata.name]
    assert status.active[0].kind == "Job" and status.active[0].uid == job.metadata.uid
    assert status.last_schedule_time == "2030-01-01T12:01:00Z"
    assert delay == pytest.approx(60.0, abs=0.01)  # just past 12:02
    assert await harness.events() == [
        ("Normal", "SuccessfulCreate", f"Created job {job.metadata.name}")
    ]

    # The same time again, whatever the cache shows: no second Job.
    await harness.sync()
    harness.clock.t += timedelta(seconds=30)
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 1


async def test_only_the_most_recent_missed_time_runs(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(schedule="0 * * * *"))
    harness.clock.t = datetime(2030, 1, 1, 17, 30, tzinfo=UTC)  # 13:00 to 17:00 were missed
    await harness.sync()
    [job] = harness.cluster.jobs.created
    assert job.metadata.name == f"hello-{minutes(datetime(2030, 1, 1, 17, tzinfo=UTC))}"
    assert "TooManyMissedTimes" not in await harness.reasons()


async def test_a_time_past_the_starting_deadline_is_missed(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(startingDeadlineSeconds=10))
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 30, tzinfo=UTC)
    delay = await harness.sync()
    assert harness.cluster.jobs.created == []
    assert delay == pytest.approx(30.1, abs=0.01)
    harness.clock.t = datetime(2030, 1, 1, 12, 2, 5, tzinfo=UTC)  # within 10 s of 12:02
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 1


async def test_a_deadline_looks_back_no_further(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(
        cron_job(schedule="0 * * * *", startingDeadlineSeconds=60)
    )
    harness.clock.t = datetime(2030, 1, 1, 13, 0, 30, tzinfo=UTC)
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 1
    assert "MissSchedule" not in await harness.reasons()


async def test_too_many_missed_start_times(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job())
    harness.clock.t = CREATED + timedelta(hours=3)
    await harness.sync()
    assert ("Warning", "TooManyMissedTimes") in [(t, r) for t, r, _ in await harness.events()]
    [job] = harness.cluster.jobs.created  # still the most recent one
    assert job.metadata.name == f"hello-{minutes(datetime(2030, 1, 1, 15, 0, tzinfo=UTC))}"


async def test_allow_runs_jobs_side_by_side(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job())
    for minute in (1, 2, 3):
        harness.clock.t = datetime(2030, 1, 1, 12, minute, 1, tzinfo=UTC)
        await harness.sync()
    assert len(harness.cluster.jobs.created) == 3
    await harness.settle()
    assert len((await harness.stored()).status.active) == 3


async def test_forbid_skips_a_time_while_a_job_runs(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(concurrencyPolicy="Forbid"))
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 1, tzinfo=UTC)
    await harness.sync()
    first = harness.cluster.jobs.created[0].metadata.name
    harness.clock.t = datetime(2030, 1, 1, 12, 2, 1, tzinfo=UTC)
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 1
    assert (
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    ) in await harness.events()
    # Once it has finished, the next time runs.
    await harness.finish(first, "Complete", datetime(2030, 1, 1, 12, 2, 30, tzinfo=UTC))
    harness.clock.t = datetime(2030, 1, 1, 12, 3, 1, tzinfo=UTC)
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 2


async def test_replace_deletes_the_running_job_first(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(concurrencyPolicy="Replace"))
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 1, tzinfo=UTC)
    await harness.sync()
    first = harness.cluster.jobs.created[0].metadata.name
    harness.clock.t = datetime(2030, 1, 1, 12, 2, 1, tzinfo=UTC)
    await harness.sync()
    second = harness.cluster.jobs.created[1].metadata.name
    assert harness.cluster.jobs.deleted == [first]
    assert [a.name for a in (await harness.stored()).status.active] == [second]
    assert ("Normal", "SuccessfulDelete", f"Deleted job {first}") in await harness.events()


async def test_a_suspended_cron_job_starts_nothing(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(suspend=True))
    harness.clock.t = CREATED + timedelta(minutes=5)
    assert await harness.sync() is None  # only a change to the CronJob helps
    assert harness.cluster.jobs.created == []


async def test_finished_jobs_leave_the_active_list(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job())
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 1, tzinfo=UTC)
    await harness.sync()
    name = harness.cluster.jobs.created[0].metadata.name
    done = datetime(2030, 1, 1, 12, 1, 40, tzinfo=UTC)
    await harness.finish(name, "Complete", done)
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 45, tzinfo=UTC)
    await harness.sync()
    status = (await harness.stored()).status
    assert list(status.active) == []
    assert status.last_successful_time == timeutil.format_time(done)
    assert (
        "Normal",
        "SawCompletedJob",
        f"Saw completed job: {name}, condition: Complete",
    ) in await harness.events()


async def test_history_limits_delete_the_oldest_finished_jobs(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(
        cron_job(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1)
    )
    for minute, outcome in ((1, "Complete"), (2, "Failed"), (3, "Complete"), (4, "Failed")):
        harness.clock.t = datetime(2030, 1, 1, 12, minute, 1, tzinfo=UTC)
        await harness.sync()
        job = harness.cluster.jobs.created[-1].metadata.name
        await harness.finish(job, outcome, datetime(2030, 1, 1, 12, minute, 30, tzinfo=UTC))
    harness.clock.t = datetime(2030, 1, 1, 12, 4, 40, tzinfo=UTC)
    await harness.sync()
    names = [j.metadata.name for j in harness.cluster.jobs.created]
    assert sorted(harness.cluster.jobs.deleted) == sorted([names[0], names[1]])
    assert sorted(harness.cluster.jobs.store) == sorted(f"{NS}/{n}" for n in names[2:])


async def test_a_job_gone_from_the_api_leaves_the_active_list(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(schedule="0 * * * *"))
    harness.clock.t = datetime(2030, 1, 1, 13, 0, 1, tzinfo=UTC)
    await harness.sync()
    name = harness.cluster.jobs.created[0].metadata.name
    await harness.cluster.jobs.delete(name, NS)
    harness.clock.t += timedelta(seconds=5)
    await harness.sync()
    assert list((await harness.stored()).status.active) == []
    assert ("Normal", "MissingJob", f"Active job went missing: {name}") in await harness.events()


async def test_a_job_in_the_cache_but_not_the_status_is_reported(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(schedule="0 * * * *"))
    stray = batch_pb2.Job()
    stray.metadata.name, stray.metadata.namespace = "hello-manual", NS
    stray.metadata.owner_references.add(
        api_version="batch/v1", kind="CronJob", name="hello", uid="uid-hello", controller=True
    )
    await harness.cluster.jobs.create(stray)
    harness.clock.t = CREATED + timedelta(seconds=5)
    await harness.sync()
    assert (
        "Warning",
        "UnexpectedJob",
        "Saw a job that the controller did not create or forgot: hello-manual",
    ) in await harness.events()


async def test_a_job_already_created_for_the_time_is_taken_into_the_status(
    harness: Harness,
) -> None:
    """A restart between the create and the status write: the name says it was made."""
    await harness.cluster.cronjobs.create(cron_job())
    harness.clock.t = datetime(2030, 1, 1, 12, 1, 1, tzinfo=UTC)
    await harness.sync()
    name = harness.cluster.jobs.created[0].metadata.name
    stored = await harness.stored()
    stored.status.ClearField("active")
    stored.status.ClearField("last_schedule_time")
    await harness.cluster.cronjobs.update_status(stored)
    await harness.sync()
    assert len(harness.cluster.jobs.created) == 1
    assert [a.name for a in (await harness.stored()).status.active] == [name]


async def test_in_a_time_zone(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(
        cron_job(
            created=datetime(2030, 1, 1, 6, tzinfo=UTC),
            schedule="0 9 * * *",
            timeZone="Europe/Paris",
        )
    )
    harness.clock.t = datetime(2030, 1, 1, 7, 59, tzinfo=UTC)
    assert await harness.sync() == pytest.approx(60.1, abs=0.01)  # 09:00 in Paris is 08:00 UTC
    harness.clock.t = datetime(2030, 1, 1, 8, 0, 1, tzinfo=UTC)
    await harness.sync()
    [job] = harness.cluster.jobs.created
    assert (
        job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        == "2030-01-01T09:00:00+01:00"
    )


async def test_an_unknown_time_zone_or_schedule_stops_it_with_an_event(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(timeZone="Mars/Olympus"))
    harness.clock.t = CREATED + timedelta(minutes=2)
    assert await harness.sync() is None
    assert harness.cluster.jobs.created == []
    assert (
        "Warning",
        "UnknownTimeZone",
        'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus',
    ) in await harness.events()


async def test_a_schedule_that_never_fires_stops_it_with_an_event(harness: Harness) -> None:
    await harness.cluster.cronjobs.create(cron_job(schedule="0 0 31 2 *"))
    harness.clock.t = CREATED + timedelta(minutes=2)
    assert await harness.sync() is None
    assert (
        "Warning",
        "InvalidSchedule",
        "invalid schedule: 0 0 31 2 * : time difference between two schedules is less than 1 "
        "second",
    ) in await harness.events()


async def test_a_cron_job_being_deleted_starts_nothing(harness: Harness) -> None:
    cj = cron_job()
    cj.metadata.deletion_timestamp = timeutil.format_time(CREATED)
    await harness.cluster.cronjobs.create(cj)
    harness.clock.t = CREATED + timedelta(minutes=2)
    assert await harness.sync() is None
    assert harness.cluster.jobs.created == []
