"""The Job controller's arithmetic (how many pods to run, when a job is complete or has failed
too often, the failure back-off and when a pod finished) and, against an in-memory apiserver
whose watch events arrive only when the test delivers them, that it never creates pods twice
while its cache lags behind its own writes and waits out the back-off before a retry."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from controller.job import controller as jobs
from controller.job.backoff import (
    BackoffRecord,
    FinishClock,
    backoff_delay,
    backoff_record,
    finished_time,
    remaining_backoff,
)
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeApi, FakeCluster

NS = "default"
T0 = "2030-01-01T00:00:00Z"
T0_EPOCH = 1893456000.0


def job(restart_policy: str = "Never", **spec: Any) -> batch_pb2.Job:
    obj = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": NS, "uid": "uid-pi"},
            "spec": {
                "parallelism": 1,
                "backoffLimit": 6,
                **spec,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-pi"}},
                "template": {
                    "metadata": {
                        "labels": {"batch.kubernetes.io/controller-uid": "uid-pi", "job-name": "pi"}
                    },
                    "spec": {
                        "restartPolicy": restart_policy,
                        "containers": [{"name": "pi", "image": "perl"}],
                    },
                },
            },
        },
        batch_pb2.Job,
    )
    assert isinstance(obj, batch_pb2.Job)
    return obj


_uids = itertools.count()


def pod(
    phase: str = "Running", *, restarts: int = 0, finished: str = "", ready_false_at: str = ""
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.uid = f"uid-{next(_uids)}"
    p.status.phase = phase
    c = p.status.container_statuses.add(name="pi", restart_count=restarts)
    if finished:
        c.state.terminated.finished_at = finished
    if ready_false_at:
        p.status.conditions.add(type="Ready", status="False", last_transition_time=ready_false_at)
    return p


# ---------------------------------------------------------------- how many pods run


@pytest.mark.parametrize(
    "spec,active,succeeded,expected",
    [
        ({"completions": 5, "parallelism": 2}, 0, 0, 2),
        ({"completions": 5, "parallelism": 2}, 2, 4, 1),  # one more completion to go
        ({"completions": 5, "parallelism": 2}, 0, 5, 0),
        ({"completions": 1}, 0, 0, 1),
        ({"parallelism": 3}, 0, 0, 3),  # a work queue: no completions
        ({"parallelism": 3}, 2, 1, 2),  # one succeeded: let the rest finish
        ({"completions": 3, "parallelism": 3, "suspend": True}, 3, 0, 0),
    ],
)
def test_how_many_pods_should_run(
    spec: dict[str, Any], active: int, succeeded: int, expected: int
) -> None:
    assert jobs.want_active(job(**spec), active, succeeded) == expected


@pytest.mark.parametrize(
    "spec,active,succeeded,expected",
    [
        ({"completions": 3}, 0, 3, True),
        ({"completions": 3}, 1, 3, False),  # a pod still runs
        ({"completions": 3}, 0, 2, False),
        ({"parallelism": 2}, 0, 1, True),
        ({"parallelism": 2}, 1, 1, False),
    ],
)
def test_when_a_job_is_complete(
    spec: dict[str, Any], active: int, succeeded: int, expected: bool
) -> None:
    assert jobs.is_complete(job(**spec), active, succeeded) is expected


def test_failed_pods_beyond_the_backoff_limit() -> None:
    assert not jobs.exceeds_backoff_limit(job(backoffLimit=2), 2)
    assert jobs.exceeds_backoff_limit(job(backoffLimit=2), 3)
    assert jobs.exceeds_backoff_limit(job(backoffLimit=0), 1)


@pytest.mark.parametrize(
    "policy,limit,pods,expected",
    [
        ("OnFailure", 2, [pod(restarts=1)], False),
        ("OnFailure", 2, [pod(restarts=1), pod("Pending", restarts=1)], True),
        ("OnFailure", 0, [pod(restarts=1)], True),
        ("OnFailure", 2, [pod("Failed", restarts=5)], False),  # only running or pending pods
        ("Never", 1, [pod(restarts=3)], False),
    ],
)
def test_restarts_in_place_against_the_backoff_limit(
    policy: str, limit: int, pods: list[core_pb2.Pod], expected: bool
) -> None:
    j = job(restart_policy=policy, backoffLimit=limit)
    assert jobs.past_backoff_limit_on_failure(j, pods) is expected


def test_active_deadline() -> None:
    j = job(activeDeadlineSeconds=30)
    assert jobs.deadline_remaining(j, 100.0, 110.0) == 20.0
    assert jobs.deadline_remaining(j, 100.0, 131.0) == -1.0
    assert jobs.deadline_remaining(j, None, 110.0) is None
    assert jobs.deadline_remaining(job(), 100.0, 110.0) is None


def test_a_pod_from_the_template() -> None:
    p = jobs.new_pod(job())
    assert p.metadata.generate_name == "pi-" and p.metadata.namespace == NS
    assert p.metadata.labels["job-name"] == "pi"
    (ref,) = p.metadata.owner_references
    assert (
        ref.api_version,
        ref.kind,
        ref.name,
        ref.uid,
        ref.controller,
        ref.block_owner_deletion,
    ) == ("batch/v1", "Job", "pi", "uid-pi", True, True)
    assert p.spec.restart_policy == "Never" and p.spec.containers[0].image == "perl"


def test_conditions() -> None:
    status = batch_pb2.JobStatus()
    assert jobs.set_condition(status, "Failed", "True", "DeadlineExceeded", "m", T0)
    assert not jobs.set_condition(status, "Failed", "True", "DeadlineExceeded", "m", "later")
    (c,) = status.conditions
    assert (c.type, c.status, c.reason, c.last_probe_time, c.last_transition_time) == (
        "Failed",
        "True",
        "DeadlineExceeded",
        T0,
        T0,
    )
    assert jobs.is_finished(status)


# ---------------------------------------------------------------- back-off


@pytest.mark.parametrize(
    "failures,expected",
    [(0, 0.0), (1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0), (7, 360.0), (30, 360.0)],
)
def test_backoff_doubles_from_10s_to_6min(failures: int, expected: float) -> None:
    assert backoff_delay(failures, 10.0, 360.0) == expected


def test_the_backoff_counts_failures_since_the_last_success() -> None:
    assert backoff_record([], []) == BackoffRecord()
    assert backoff_record([], [3.0, 1.0]) == BackoffRecord(2, 3.0)
    assert backoff_record([5.0], [1.0, 6.0, 7.0]) == BackoffRecord(2, 7.0)
    assert backoff_record([9.0], [1.0, 6.0]) == BackoffRecord()
    assert remaining_backoff(BackoffRecord(2, 100.0), 105.0, 10.0, 360.0) == 15.0
    assert remaining_backoff(BackoffRecord(2, 100.0), 125.0, 10.0, 360.0) == 0.0
    assert remaining_backoff(BackoffRecord(), 105.0, 10.0, 360.0) == 0.0


def test_when_a_pod_finished() -> None:
    assert finished_time(pod("Failed", finished=T0)) == T0_EPOCH
    assert finished_time(pod("Failed", ready_false_at=T0)) == T0_EPOCH
    assert finished_time(pod("Failed")) is None
    deleted = pod("Failed")
    deleted.metadata.deletion_timestamp = "2030-01-01T00:00:30Z"
    deleted.metadata.deletion_grace_period_seconds = 30
    assert finished_time(deleted) == T0_EPOCH


def test_the_moment_a_failure_is_seen_refines_its_second() -> None:
    now = [T0_EPOCH + 0.6]
    clock = FinishClock(lambda: now[0])
    assert clock.finished_at(pod("Failed", finished=T0)) == T0_EPOCH + 0.6
    now[0] = T0_EPOCH + 50
    late = pod("Failed", finished=T0)  # seen long after: the reported time stands, within 1 s
    assert clock.finished_at(late) == T0_EPOCH + 1.0
    silent = pod("Failed")
    assert clock.finished_at(silent) == T0_EPOCH + 50
    now[0] += 10
    assert clock.finished_at(silent) == T0_EPOCH + 50  # remembered


# ---------------------------------------------------------------- against a lagging cache


class JobCluster(FakeCluster):
    def __init__(self) -> None:
        super().__init__()
        self.jobs: FakeApi[batch_pb2.Job] = FakeApi(resources.JOB, itertools.count(10_000))


async def until(check: Callable[[], bool], what: str, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def quiet() -> None:
    await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running(controller: jobs.JobController) -> AsyncIterator[None]:
    task = asyncio.create_task(controller.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def finish(cluster: JobCluster, p: core_pb2.Pod, phase: str) -> None:
    done = core_pb2.Pod()
    done.CopyFrom(await cluster.pods.get(p.metadata.name, NS))
    done.status.phase = phase
    await cluster.pods.update_status(done)


async def settled(cluster: JobCluster, check: Callable[[batch_pb2.JobStatus], bool]) -> None:
    """Delivers every event until the job's stored status passes `check`."""

    async def status() -> batch_pb2.JobStatus:
        return (await cluster.jobs.get("pi", NS)).status

    for _ in range(100):
        cluster.deliver(resources.POD, resources.JOB)
        if check(await status()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the job's status stays {await status()}")


async def test_it_does_not_create_again_before_its_cache_shows_its_creates() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(completions=4, parallelism=2))
    controller = jobs.JobController(cluster, SharedInformerFactory(cluster), backoff=0.2)  # type: ignore[arg-type]
    key = f"{NS}/pi"
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 2, "2 creates")
        # The status write comes back, the pods do not yet: the job is synced again.
        cluster.deliver(resources.JOB)
        await quiet()
        assert len(cluster.pods.created) == 2
        assert controller.expectations.pending(key) == (2, 0)
        cluster.deliver(resources.POD, resources.JOB)
        await until(lambda: controller.expectations.satisfied(key), "the creates seen")
        await quiet()
        assert len(cluster.pods.created) == 2

        # One succeeds: exactly one replacement, the other still runs.
        await finish(cluster, cluster.pods.created[0], "Succeeded")
        cluster.deliver(resources.POD)
        await until(lambda: len(cluster.pods.created) == 3, "a third pod")
        cluster.deliver(resources.JOB)
        await quiet()
        assert len(cluster.pods.created) == 3
        await settled(cluster, lambda s: (s.active, s.succeeded) == (2, 1))


async def test_a_failed_pod_is_replaced_after_the_backoff() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(backoffLimit=3))
    controller = jobs.JobController(cluster, SharedInformerFactory(cluster), backoff=0.3)  # type: ignore[arg-type]
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 1, "the first pod")
        cluster.deliver()
        await quiet()
        await finish(cluster, cluster.pods.created[0], "Failed")
        failed_at = time.monotonic()
        cluster.deliver()
        await until(lambda: len(cluster.pods.created) == 2, "a replacement")
        assert time.monotonic() - failed_at >= 0.3
        await settled(cluster, lambda s: (s.active, s.failed) == (1, 1))


async def test_a_job_it_failed_gets_no_new_pod_while_its_cache_still_shows_it_running() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(restart_policy="OnFailure", backoffLimit=1))
    controller = jobs.JobController(cluster, SharedInformerFactory(cluster), backoff=0.2)  # type: ignore[arg-type]
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 1, "the first pod")
        cluster.deliver(resources.POD, resources.JOB)
        await quiet()
        restarted = core_pb2.Pod()
        restarted.CopyFrom(await cluster.pods.get(cluster.pods.created[0].metadata.name, NS))
        restarted.status.phase = "Running"
        restarted.status.container_statuses.add(name="pi", restart_count=1)
        await cluster.pods.update_status(restarted)
        cluster.deliver(resources.POD)
        await until(lambda: cluster.pods.deleted != [], "the restarting pod deleted")
        await settled_without_job_events(cluster)
        # Its pod's deletion is seen, the job's Failed status is not yet: no replacement.
        cluster.deliver(resources.POD)
        await quiet()
        assert len(cluster.pods.created) == 1
        cluster.deliver(resources.POD, resources.JOB)
        await quiet()
        assert len(cluster.pods.created) == 1
        assert jobs.is_finished((await cluster.jobs.get("pi", NS)).status)


async def settled_without_job_events(cluster: JobCluster) -> None:
    """Waits until the controller has stored the job as finished, its events held back."""
    for _ in range(100):
        if jobs.is_finished((await cluster.jobs.get("pi", NS)).status):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the job was never stored finished")
