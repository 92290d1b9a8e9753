"""The Job controller's arithmetic (how many pods to run, the restarts and deadline that fail a
job, the failure back-off and when a pod finished, a pod from the template, conditions) and,
against an in-memory apiserver whose watch events arrive only when the test delivers them, that
it never creates pods twice while its cache lags behind its own writes and waits out the
back-off before a retry."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest

from controller.job import conditions, manage, pods
from controller.job import controller as jobs
from controller.job import sync as job_sync
from controller.job.backoff import (
    BackoffRecord,
    FinishClock,
    backoff_delay,
    finished_time,
    next_record,
    remaining_backoff,
    remaining_for_index,
)
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeApi, FakeCluster, FinalizingFakeApi, running

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
                "completionMode": "NonIndexed",
                "podReplacementPolicy": "TerminatingOrFailed",
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
    ],
)
def test_how_many_pods_should_run(
    spec: dict[str, Any], active: int, succeeded: int, expected: int
) -> None:
    assert manage.want_active(job(**spec), active, succeeded) == expected


@pytest.mark.parametrize(
    "policy,limit,pods_,expected",
    [
        ("OnFailure", 2, [pod(restarts=1)], False),
        ("OnFailure", 2, [pod(restarts=1), pod("Pending", restarts=1)], True),
        ("OnFailure", 0, [pod(restarts=1)], True),
        ("OnFailure", 2, [pod("Failed", restarts=5)], False),  # only running or pending pods
        ("Never", 1, [pod(restarts=3)], False),
    ],
)
def test_restarts_in_place_against_the_backoff_limit(
    policy: str, limit: int, pods_: list[core_pb2.Pod], expected: bool
) -> None:
    j = job(restart_policy=policy, backoffLimit=limit)
    assert job_sync.past_backoff_limit_on_failure(j, pods_) is expected


def test_active_deadline() -> None:
    j = job(activeDeadlineSeconds=30)
    j.status.start_time = T0
    assert job_sync.deadline_remaining(j, T0_EPOCH + 10) == 20.0
    assert job_sync.deadline_remaining(j, T0_EPOCH + 31) == -1.0
    j.spec.suspend = True  # the clock stops while suspended
    assert job_sync.deadline_remaining(j, T0_EPOCH + 31) is None
    assert job_sync.deadline_remaining(job(), T0_EPOCH) is None


def test_a_pod_from_the_template() -> None:
    p = pods.new_pod(job())
    assert p.metadata.generate_name == "pi-" and p.metadata.namespace == NS
    assert p.metadata.labels["job-name"] == "pi"
    assert list(p.metadata.finalizers) == ["batch.kubernetes.io/job-tracking"]
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
    assert (
        not p.spec.hostname
        and "batch.kubernetes.io/job-completion-index" not in p.metadata.annotations
    )


def test_an_indexed_pod() -> None:
    p = pods.new_pod(job(completionMode="Indexed", completions=3), 2, (1, 0))
    assert p.metadata.generate_name == "pi-2-"
    assert p.metadata.annotations["batch.kubernetes.io/job-completion-index"] == "2"
    assert p.metadata.labels["batch.kubernetes.io/job-completion-index"] == "2"
    assert p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "1"
    assert "batch.kubernetes.io/job-index-ignored-failure-count" not in p.metadata.annotations
    assert p.spec.hostname == "pi-2"
    [env] = p.spec.containers[0].env
    assert env.name == "JOB_COMPLETION_INDEX"
    assert env.value_from.field_ref.field_path == (
        "metadata.labels['batch.kubernetes.io/job-completion-index']"
    )
    long = job(completionMode="Indexed", completions=3)
    long.metadata.name = "x" * 60
    assert pods.new_pod(long, 12).metadata.generate_name == "x" * 54 + "-12-"


def test_conditions() -> None:
    status = batch_pb2.JobStatus()
    assert not conditions.ensure(status, "Suspended", "False", "JobResumed", "m", T0)
    assert conditions.ensure(status, "Failed", "True", "DeadlineExceeded", "m", T0)
    assert not conditions.ensure(status, "Failed", "True", "DeadlineExceeded", "m", "later")
    (c,) = status.conditions
    assert (c.type, c.status, c.reason, c.last_probe_time, c.last_transition_time) == (
        "Failed",
        "True",
        "DeadlineExceeded",
        T0,
        T0,
    )
    assert conditions.is_finished(status)
    target = conditions.new("FailureTarget", "PodFailurePolicy", "why", T0)
    failed = conditions.followed_by(target, "later")
    assert (failed.type, failed.reason, failed.message) == ("Failed", "PodFailurePolicy", "why")


# ---------------------------------------------------------------- back-off


@pytest.mark.parametrize(
    "failures,expected",
    [(0, 0.0), (1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0), (7, 360.0), (30, 360.0)],
)
def test_backoff_doubles_from_10s_to_6min(failures: int, expected: float) -> None:
    assert backoff_delay(failures, 10.0, 360.0) == expected


def test_the_backoff_counts_failures_since_the_last_success() -> None:
    empty = BackoffRecord()
    assert next_record(empty, [], []) == empty
    assert next_record(empty, [], [3.0, 1.0]) == BackoffRecord(2, 3.0)
    assert next_record(BackoffRecord(2, 3.0), [], [4.0]) == BackoffRecord(3, 4.0)  # adds up
    assert next_record(BackoffRecord(2, 3.0), [5.0], [1.0, 6.0, 7.0]) == BackoffRecord(2, 7.0)
    assert next_record(BackoffRecord(2, 3.0), [9.0], [1.0, 6.0]) == BackoffRecord()
    assert remaining_backoff(BackoffRecord(2, 100.0), 105.0, 10.0, 360.0) == 15.0
    assert remaining_backoff(BackoffRecord(2, 100.0), 125.0, 10.0, 360.0) == 0.0
    assert remaining_backoff(BackoffRecord(), 105.0, 10.0, 360.0) == 0.0
    assert remaining_for_index(3, 100.0, 110.0, 10.0, 360.0) == 30.0


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
    """Pods held by their finalizers, as the apiserver holds them."""

    def __init__(self) -> None:
        super().__init__()
        self.pods: FinalizingFakeApi[core_pb2.Pod] = FinalizingFakeApi(
            resources.POD, itertools.count(1)
        )
        self.jobs: FakeApi[batch_pb2.Job] = FakeApi(resources.JOB, itertools.count(10_000))


async def until(check: Callable[[], bool], what: str) -> None:
    await waiting.until(check, what)


async def quiet() -> None:
    await asyncio.sleep(0.1)


async def finish(cluster: JobCluster, p: core_pb2.Pod, phase: str) -> None:
    done = core_pb2.Pod()
    done.CopyFrom(await cluster.pods.get(p.metadata.name, NS))
    done.status.phase = phase
    await cluster.pods.update_status(done)


async def settled(cluster: JobCluster, check: Callable[[batch_pb2.JobStatus], bool]) -> None:
    """Delivers every event until the job's stored status passes `check`."""

    async def status() -> batch_pb2.JobStatus:
        return (await cluster.jobs.get("pi", NS)).status

    deadline = time.monotonic() + waiting.TIMEOUT
    while time.monotonic() < deadline:
        cluster.deliver(resources.POD, resources.JOB)
        if check(await status()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the job's status stays {await status()}")


def new_controller(cluster: JobCluster, backoff: float = 0.2) -> jobs.JobController:
    return jobs.JobController(cluster, SharedInformerFactory(cluster), backoff=backoff)  # type: ignore[arg-type]


async def test_it_does_not_create_again_before_its_cache_shows_its_creates() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(completions=4, parallelism=2))
    controller = new_controller(cluster)
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

        # One succeeds: exactly one replacement, the other still runs. (A sync waits for the
        # cache to show the job's status as the controller last wrote it.)
        await finish(cluster, cluster.pods.created[0], "Succeeded")
        cluster.deliver(resources.POD)
        await settled(cluster, lambda _s: len(cluster.pods.created) == 3)
        cluster.deliver(resources.JOB)
        await quiet()
        assert len(cluster.pods.created) == 3
        await settled(cluster, lambda s: (s.active, s.succeeded) == (2, 1))
        # Counted: its finalizer is gone, its uid left the uncounted list.
        counted = await cluster.pods.get(cluster.pods.created[0].metadata.name, NS)
        assert list(counted.metadata.finalizers) == []
        status = (await cluster.jobs.get("pi", NS)).status
        assert status.HasField("uncounted_terminated_pods")
        assert list(status.uncounted_terminated_pods.succeeded) == []


async def test_a_failed_pod_is_replaced_after_the_backoff() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(backoffLimit=3))
    controller = new_controller(cluster, backoff=0.3)
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 1, "the first pod")
        cluster.deliver()
        await quiet()
        await finish(cluster, cluster.pods.created[0], "Failed")
        failed_at = time.monotonic()
        await settled(cluster, lambda _s: len(cluster.pods.created) == 2)
        assert time.monotonic() - failed_at >= 0.3
        await settled(cluster, lambda s: (s.active, s.failed) == (1, 1))


async def test_a_job_it_failed_gets_no_new_pod_while_its_cache_still_shows_it_running() -> None:
    cluster = JobCluster()
    await cluster.jobs.create(job(restart_policy="OnFailure", backoffLimit=1))
    controller = new_controller(cluster)
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 1, "the first pod")
        # The status write of that sync in the cache: until its update event comes, the
        # controller holds its cache behind its own write and does nothing with the job.
        await settled(cluster, lambda status: status.active == 1)
        cluster.deliver(resources.POD, resources.JOB)
        restarted = core_pb2.Pod()
        restarted.CopyFrom(await cluster.pods.get(cluster.pods.created[0].metadata.name, NS))
        restarted.status.phase = "Running"
        restarted.status.container_statuses.add(name="pi", restart_count=1)
        await cluster.pods.update_status(restarted)
        cluster.deliver(resources.POD)
        await until(lambda: cluster.pods.deleted != [], "the restarting pod deleted")
        stored = await cluster.jobs.get("pi", NS)
        assert conditions.is_true(stored.status, "FailureTarget")
        assert not conditions.is_finished(stored.status)  # its pod was still terminating
        # Its pod's deletion is seen, the job's FailureTarget is not yet: no replacement.
        cluster.deliver(resources.POD)
        await quiet()
        assert len(cluster.pods.created) == 1
        # Once it is, the job fails, and still nothing replaces the pod.
        await settled(cluster, conditions.is_finished)
        cluster.deliver()
        await quiet()
        assert len(cluster.pods.created) == 1
    status = (await cluster.jobs.get("pi", NS)).status
    failed = conditions.find(status, "Failed")
    assert failed is not None and failed.reason == "BackoffLimitExceeded"
    assert (status.failed, status.active, status.terminating) == (1, 0, 0)
