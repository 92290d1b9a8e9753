"""The Job controller's 1.31 behaviours against an in-memory apiserver that holds pods by their
finalizers: finished pods counted through the tracking finalizer, the interim FailureTarget and
SuccessCriteriaMet conditions before Failed and Complete, the pod failure policy (FailJob, Ignore
of DisruptionTarget pods), Indexed jobs with backoffLimitPerIndex and maxFailedIndexes, the
success policy, podReplacementPolicy and status.terminating, orphaned pods' finalizers, and
managedBy."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from controller.job import conditions
from controller.job.controller import JobController
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources, timeutil
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, FinalizingFakeApi, running, until

NS = "default"
FINALIZER = "batch.kubernetes.io/job-tracking"


class Cluster(FakeCluster):
    def __init__(self) -> None:
        super().__init__()
        # Pods run on nodes: a deleted one stays until its kubelet has stopped it.
        self.pods: FinalizingFakeApi[core_pb2.Pod] = FinalizingFakeApi(
            resources.POD, itertools.count(1), graceful=True
        )

    def job_pods(self) -> list[core_pb2.Pod]:
        return sorted(self.pods.store.values(), key=lambda p: p.metadata.name)

    def job(self, name: str = "pi") -> batch_pb2.Job:
        return self.jobs.store[f"{NS}/{name}"]


def job(name: str = "pi", **spec: Any) -> batch_pb2.Job:
    uid = f"uid-{name}"
    obj = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": NS, "uid": uid},
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "podReplacementPolicy": "TerminatingOrFailed",
                **spec,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                "template": {
                    "metadata": {"labels": {"batch.kubernetes.io/controller-uid": uid}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "busybox"}],
                    },
                },
            },
        },
        batch_pb2.Job,
    )
    assert isinstance(obj, batch_pb2.Job)
    return obj


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    c = Cluster()
    controller = JobController(c, SharedInformerFactory(c), backoff=0.05)  # type: ignore[arg-type]
    async with running(controller):
        yield c


async def exits(
    cluster: Cluster, pod: core_pb2.Pod, code: int, condition: tuple[str, str] | None = None
) -> None:
    """Plays the kubelet: the pod's container exits with `code`."""
    p = core_pb2.Pod()
    p.CopyFrom(await cluster.pods.get(pod.metadata.name, NS))
    p.status.phase = "Succeeded" if code == 0 else "Failed"
    c = p.status.container_statuses.add(name="main")
    c.state.terminated.exit_code = code
    c.state.terminated.finished_at = timeutil.now()
    if condition is not None:
        p.status.conditions.add(type=condition[0], status=condition[1])
    await cluster.pods.update_status(p)


async def wait(cluster: Cluster, check: Callable[[], bool], what: str) -> None:
    await until(check, what, cluster)


def active_pods(cluster: Cluster) -> list[core_pb2.Pod]:
    return [
        p
        for p in cluster.job_pods()
        if p.status.phase not in ("Succeeded", "Failed") and not p.metadata.deletion_timestamp
    ]


def condition(cluster: Cluster, type_: str, name: str = "pi") -> batch_pb2.JobCondition | None:
    c = conditions.find(cluster.job(name).status, type_)
    return c if c is not None and c.status == "True" else None


async def test_succeeded_pods_are_counted_through_the_finalizer(cluster: Cluster) -> None:
    await cluster.jobs.create(job(completions=2, parallelism=2))
    await wait(cluster, lambda: len(cluster.job_pods()) == 2, "two pods")
    assert all(FINALIZER in p.metadata.finalizers for p in cluster.job_pods())
    for p in cluster.job_pods():
        await exits(cluster, p, 0)
    await wait(cluster, lambda: condition(cluster, "Complete") is not None, "Complete")
    status = cluster.job().status
    met = condition(cluster, "SuccessCriteriaMet")
    assert met is not None and (met.reason, met.message) == (
        "CompletionsReached",
        "Reached expected number of succeeded pods",
    )
    assert [c.type for c in status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert (status.succeeded, status.failed, status.active, status.ready, status.terminating) == (
        2,
        0,
        0,
        0,
        0,
    )
    assert status.completion_time and not list(status.uncounted_terminated_pods.succeeded)
    # Counted pods keep existing, without the finalizer.
    assert [list(p.metadata.finalizers) for p in cluster.job_pods()] == [[], []]
    # Every uid went through the uncounted list before its finalizer went.
    listed = {
        uid
        for s in cluster.jobs.status_updates
        for uid in s.status.uncounted_terminated_pods.succeeded
    }
    assert listed == {p.metadata.uid for p in cluster.job_pods()}


async def test_fail_job_rule_fails_at_once_and_failed_waits_for_the_pods(cluster: Cluster) -> None:
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    await cluster.jobs.create(
        job(completions=3, parallelism=2, podFailurePolicy=policy, podReplacementPolicy="Failed")
    )
    await wait(cluster, lambda: len(cluster.job_pods()) == 2, "two pods")
    first, second = cluster.job_pods()
    await exits(cluster, first, 42)
    await wait(cluster, lambda: condition(cluster, "FailureTarget") is not None, "FailureTarget")
    target = condition(cluster, "FailureTarget")
    assert target is not None and target.reason == "PodFailurePolicy"
    assert target.message == (
        f"Container main for pod {NS}/{first.metadata.name} failed with exit code 42 matching "
        "FailJob rule at index 0"
    )
    # The other pod is being deleted: the job is not Failed while it terminates.
    await wait(cluster, lambda: cluster.job().status.terminating == 1, "one terminating")
    assert condition(cluster, "Failed") is None
    assert len(cluster.job_pods()) == 2  # no replacement
    cluster.pods.release(second.metadata.name, NS)
    await wait(cluster, lambda: condition(cluster, "Failed") is not None, "Failed")
    failed = condition(cluster, "Failed")
    assert failed is not None and (failed.reason, failed.message) == (target.reason, target.message)
    status = cluster.job().status
    assert (status.failed, status.active, status.terminating) == (2, 0, 0)


async def test_disruption_target_failures_are_ignored(cluster: Cluster) -> None:
    policy = {
        "rules": [
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            }
        ]
    }
    await cluster.jobs.create(
        job(backoffLimit=0, podFailurePolicy=policy, podReplacementPolicy="Failed")
    )
    await wait(cluster, lambda: len(cluster.job_pods()) == 1, "a pod")
    [evicted] = cluster.job_pods()
    await exits(cluster, evicted, 137, ("DisruptionTarget", "True"))
    # backoffLimit 0, yet the job goes on: a replacement, and nothing counted as failed.
    await wait(cluster, lambda: len(cluster.job_pods()) == 2, "a replacement")
    assert cluster.job().status.failed == 0 and condition(cluster, "FailureTarget") is None
    replacement = next(p for p in cluster.job_pods() if p.metadata.uid != evicted.metadata.uid)
    await exits(cluster, replacement, 1)  # a real failure counts
    await wait(cluster, lambda: condition(cluster, "Failed") is not None, "Failed")
    failed = condition(cluster, "Failed")
    assert failed is not None and failed.reason == "BackoffLimitExceeded"
    assert cluster.job().status.failed == 1


async def test_backoff_limit_per_index(cluster: Cluster) -> None:
    await cluster.jobs.create(
        job(completionMode="Indexed", completions=3, parallelism=3, backoffLimitPerIndex=1)
    )
    await wait(cluster, lambda: len(cluster.job_pods()) == 3, "a pod per index")
    by_index = {
        int(p.metadata.annotations["batch.kubernetes.io/job-completion-index"]): p
        for p in cluster.job_pods()
    }
    assert sorted(by_index) == [0, 1, 2]
    assert by_index[1].spec.hostname == "pi-1"
    assert by_index[1].metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "0"
    await exits(cluster, by_index[1], 1)
    # Index 1 is retried once, its pod carrying the failure.
    await wait(cluster, lambda: len(cluster.job_pods()) == 4, "index 1 retried")
    retry = next(
        p
        for p in active_pods(cluster)
        if p.metadata.annotations["batch.kubernetes.io/job-completion-index"] == "1"
    )
    assert retry.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "1"
    await exits(cluster, retry, 1)
    await wait(
        cluster,
        lambda: (
            cluster.job().status.HasField("failed_indexes")
            and cluster.job().status.failed_indexes == "1"
        ),
        "index 1 failed",
    )
    assert len(active_pods(cluster)) == 2  # the others go on
    await exits(cluster, by_index[0], 0)
    await exits(cluster, by_index[2], 0)
    await wait(cluster, lambda: condition(cluster, "Failed") is not None, "Failed")
    status = cluster.job().status
    failed = condition(cluster, "Failed")
    assert failed is not None and (failed.reason, failed.message) == (
        "FailedIndexes",
        "Job has failed indexes",
    )
    assert (status.completed_indexes, status.failed_indexes, status.succeeded, status.failed) == (
        "0,2",
        "1",
        2,
        2,
    )


async def test_max_failed_indexes(cluster: Cluster) -> None:
    await cluster.jobs.create(
        job(
            completionMode="Indexed",
            completions=4,
            parallelism=2,
            backoffLimitPerIndex=0,
            maxFailedIndexes=0,
        )
    )
    await wait(cluster, lambda: len(cluster.job_pods()) == 2, "two pods")
    await exits(cluster, cluster.job_pods()[0], 1)
    await wait(cluster, lambda: condition(cluster, "FailureTarget") is not None, "FailureTarget")
    target = condition(cluster, "FailureTarget")
    assert target is not None and target.reason == "MaxFailedIndexesExceeded"
    await wait(cluster, lambda: cluster.job().status.terminating == 1, "the other pod going")
    for p in cluster.job_pods():
        cluster.pods.release(p.metadata.name, NS)
    await wait(cluster, lambda: condition(cluster, "Failed") is not None, "Failed")
    # Index 0 failed; the other pod, deleted as the job failed, may count as failing index 1
    # too, depending on whether a sync saw it terminating (as in Kubernetes).
    assert cluster.job().status.failed_indexes in ("0", "0,1")


async def test_success_policy_ends_the_job_early(cluster: Cluster) -> None:
    await cluster.jobs.create(
        job(
            completionMode="Indexed",
            completions=3,
            parallelism=3,
            successPolicy={"rules": [{"succeededIndexes": "0"}]},
        )
    )
    await wait(cluster, lambda: len(cluster.job_pods()) == 3, "three pods")
    leader = next(
        p
        for p in cluster.job_pods()
        if p.metadata.annotations["batch.kubernetes.io/job-completion-index"] == "0"
    )
    await exits(cluster, leader, 0)
    await wait(cluster, lambda: condition(cluster, "SuccessCriteriaMet") is not None, "met")
    met = condition(cluster, "SuccessCriteriaMet")
    assert met is not None and (met.reason, met.message) == (
        "SuccessPolicy",
        "Matched rules at index 0",
    )
    # The lingering pods are deleted; Complete waits for them to terminate.
    await wait(cluster, lambda: cluster.job().status.terminating == 2, "two terminating")
    assert condition(cluster, "Complete") is None
    for p in cluster.job_pods():
        cluster.pods.release(p.metadata.name, NS)
    await wait(cluster, lambda: condition(cluster, "Complete") is not None, "Complete")
    status = cluster.job().status
    assert (status.succeeded, status.completed_indexes) == (1, "0")


async def test_pod_replacement_policy(cluster: Cluster) -> None:
    await cluster.jobs.create(job("eager"))
    await cluster.jobs.create(job("patient", podReplacementPolicy="Failed"))

    def pods_of(name: str) -> list[core_pb2.Pod]:
        return [p for p in cluster.job_pods() if p.metadata.owner_references[0].name == name]

    await wait(cluster, lambda: len(pods_of("eager")) == len(pods_of("patient")) == 1, "pods")
    for name in ("eager", "patient"):
        await cluster.pods.delete(pods_of(name)[0].metadata.name, NS)  # still terminating
    # TerminatingOrFailed: replaced at once, the deleted pod counted as failed.
    await wait(cluster, lambda: len(pods_of("eager")) == 2, "eager replaced")
    await wait(cluster, lambda: cluster.job("patient").status.terminating == 1, "terminating")
    assert len(pods_of("patient")) == 1  # Failed: not while it terminates
    going = pods_of("patient")[0]
    await exits(cluster, going, 137)
    cluster.pods.release(going.metadata.name, NS)
    await wait(cluster, lambda: len(active_pods(cluster)) == 2, "patient replaced")
    await wait(cluster, lambda: cluster.job("patient").status.failed == 1, "the failure counted")
    assert cluster.job("patient").status.terminating == 0
    assert cluster.job("eager").status.failed == 1


async def test_orphans_lose_the_finalizer(cluster: Cluster) -> None:
    stray = core_pb2.Pod()
    stray.metadata.name, stray.metadata.namespace = "stray", NS
    stray.metadata.finalizers.append(FINALIZER)
    await cluster.pods.create(stray)
    await wait(
        cluster, lambda: not cluster.pods.store[f"{NS}/stray"].metadata.finalizers, "released"
    )
    # A deleted job's pods are released too.
    await cluster.jobs.create(job())
    await wait(cluster, lambda: len(cluster.job_pods()) == 2, "the job's pod")
    await cluster.jobs.delete("pi", NS)
    await wait(
        cluster,
        lambda: all(not p.metadata.finalizers for p in cluster.job_pods()),
        "the job's pod released",
    )


async def test_a_job_managed_by_another_controller_is_left_alone(cluster: Cluster) -> None:
    await cluster.jobs.create(job(managedBy="example.com/queue"))
    await cluster.jobs.create(job("mine", managedBy="kubernetes.io/job-controller"))
    await wait(cluster, lambda: len(cluster.job_pods()) == 1, "a pod for mine")
    assert cluster.job_pods()[0].metadata.owner_references[0].name == "mine"
