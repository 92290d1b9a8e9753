"""The Job controller against the real apiserver over a real etcd, running in this process. No
kubelet: a task in the test plays one, moving each new pod to Running and then to Succeeded or
Failed (or restarting its container) as the test asks. Parallelism is never exceeded, a job
completes with exactly `completions` succeeded pods, failures are retried after a growing
back-off until backoffLimit, and activeDeadlineSeconds stops a job and its pods."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from controller.job.controller import JobController
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import Passes, informed
from tests.support import eventually, new_namespace

BACKOFF = 0.5  # the controller's first back-off in these tests (10 s in a cluster)

# What the fake kubelet does with a running pod: "Succeeded", "Failed", "Failed:<exit code>",
# "restart" or None (keep it running).
Outcome = Callable[[core_pb2.Pod], str | None]


@contextlib.asynccontextmanager
async def running(*tasks_to_run: Awaitable[None]) -> AsyncIterator[None]:
    tasks = [asyncio.ensure_future(t) for t in tasks_to_run]
    try:
        yield
    finally:
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise AssertionError(f"a background task crashed: {t.exception()!r}")
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def job(ns: str, name: str, *, restart_policy: str = "Never", **spec: Any) -> batch_pb2.Job:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                **spec,
                "template": {
                    "spec": {
                        "restartPolicy": restart_policy,
                        "containers": [{"name": "work", "image": "busybox", "command": ["true"]}],
                    }
                },
            },
        },
        batch_pb2.Job,
    )
    return obj  # type: ignore[no-any-return]


async def set_status(
    client: Client,
    pod: core_pb2.Pod,
    phase: str,
    *,
    ready: bool,
    restarts: int = 0,
    exit_code: int | None = None,
) -> None:
    now = timeutil.now()
    updated = core_pb2.Pod()
    updated.CopyFrom(pod)
    updated.metadata.resource_version = ""  # no compare-and-swap: the test is the only writer
    status = updated.status
    status.phase = phase
    del status.conditions[:]
    status.conditions.add(
        type="Ready", status="True" if ready else "False", last_transition_time=now
    )
    del status.container_statuses[:]
    c = status.container_statuses.add(name="work", restart_count=restarts, ready=ready)
    if phase in ("Succeeded", "Failed"):
        c.state.terminated.exit_code = (
            exit_code if exit_code is not None else 0 if phase == "Succeeded" else 1
        )
        c.state.terminated.finished_at = now
    else:
        c.state.running.started_at = now
    await client.pods.update_status(updated)


@dataclass
class PodLog:
    """What a watch of the namespace's pods saw, with the monotonic time of each sighting."""

    pods: dict[str, Any] = field(default_factory=dict)
    added: dict[str, float] = field(default_factory=dict)
    finished: dict[str, float] = field(default_factory=dict)
    max_active: int = 0

    def active(self) -> int:
        return sum(
            p.status.phase not in ("Succeeded", "Failed") and not p.metadata.deletion_timestamp
            for p in self.pods.values()
        )


async def watch_pods(client: Client, ns: str, seen: PodLog) -> None:
    async for event in client.pods.watch(ns):
        pod, name = event.object, event.object.metadata.name
        if event.type == "DELETED":
            seen.pods.pop(name, None)
            continue
        seen.added.setdefault(name, time.monotonic())
        if pod.status.phase in ("Succeeded", "Failed"):
            seen.finished.setdefault(name, time.monotonic())
        seen.pods[name] = pod
        seen.max_active = max(seen.max_active, seen.active())


async def fake_kubelet(
    client: Client, ns: str, outcome: Outcome, delay: float = 0.2, log: PodLog | None = None
) -> None:
    """Starts each new pod after `delay`, then after `delay` more gives it its outcome (noted in
    `log` as the moment it finished: a watch may see it later, the controller counts from it)."""

    async def live(pod: core_pb2.Pod) -> None:
        await asyncio.sleep(delay)
        await set_status(client, pod, "Running", ready=True)
        await asyncio.sleep(delay)
        result = outcome(pod)
        if result == "restart":
            await set_status(client, pod, "Running", ready=False, restarts=1)
        elif result is not None:
            phase, _, code = result.partition(":")
            exit_code = int(code) if code else None
            if log is not None:
                log.finished.setdefault(pod.metadata.name, time.monotonic())
            await set_status(client, pod, phase, ready=False, exit_code=exit_code)

    lives: set[asyncio.Task[None]] = set()
    try:
        async for event in client.pods.watch(ns):
            if event.type == "ADDED":
                task = asyncio.create_task(live(event.object))
                lives.add(task)
                task.add_done_callback(lives.discard)
    finally:
        for task in lives:
            task.cancel()


async def event_reasons(client: Client, ns: str, name: str) -> list[str]:
    events = (await client.events.list(ns, field_selector=f"involvedObject.name={name}")).items
    return [e.reason for e in events]


async def finished(client: Client, ns: str, name: str, timeout: float = 30.0) -> batch_pb2.Job:
    """The job once it is Complete or Failed and the controller has recorded the event that
    says so (it does, just after the status write)."""

    async def check() -> batch_pb2.Job | None:
        j = await client.jobs.get(name, ns)
        ended = next(
            (
                c
                for c in j.status.conditions
                if c.type in ("Complete", "Failed") and c.status == "True"
            ),
            None,
        )
        if ended is None:
            return None
        reason = "Completed" if ended.type == "Complete" else ended.reason
        return j if reason in await event_reasons(client, ns, name) else None

    return await eventually(check, timeout=timeout, what=f"job {name} to finish")


async def settled(controller: JobController, passes: Passes, done: batch_pb2.Job) -> None:
    """The controller's cache shows the job finished, and a pass over it has ended since: every
    pass before it has ended too, whatever it created answered, and no later one creates."""
    await informed(controller.jobs, done)
    await passes.resync(f"{done.metadata.namespace}/{done.metadata.name}")


def condition(j: batch_pb2.Job, type_: str) -> Any:
    return next(c for c in j.status.conditions if c.type == type_)


async def test_completions_with_parallelism(client: Client) -> None:
    ns = await new_namespace(client)
    seen = PodLog()
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    passes = Passes.of(controller.loop)
    async with running(
        controller.run(),
        watch_pods(client, ns, seen),
        fake_kubelet(client, ns, lambda _pod: "Succeeded"),
    ):
        created = await client.jobs.create(job(ns, "batch", completions=5, parallelism=2))
        done = await finished(client, ns, "batch")
        await settled(controller, passes, done)  # anything it would still create shows now

    assert seen.max_active == 2
    pods = (await client.pods.list(ns)).items
    assert len(pods) == 5 and all(p.status.phase == "Succeeded" for p in pods)
    for pod in pods:
        assert pod.metadata.name.startswith("batch-")
        assert pod.metadata.labels["batch.kubernetes.io/controller-uid"] == created.metadata.uid
        assert pod.metadata.labels["job-name"] == "batch"
        (ref,) = pod.metadata.owner_references
        assert (ref.api_version, ref.kind, ref.name, ref.uid) == (
            "batch/v1",
            "Job",
            "batch",
            created.metadata.uid,
        )
        assert ref.controller and ref.block_owner_deletion
    status = done.status
    assert (status.succeeded, status.failed, status.active, status.ready) == (5, 0, 0, 0)
    assert status.start_time and status.completion_time
    complete = condition(done, "Complete")
    assert (complete.status, complete.reason) == ("True", "CompletionsReached")
    assert complete.last_probe_time and complete.last_transition_time
    await controller.recorder.flush()
    reasons = await event_reasons(client, ns, "batch")
    assert reasons.count("SuccessfulCreate") == 5 and "Completed" in reasons


async def test_failed_pods_are_retried_with_backoff_until_the_limit(client: Client) -> None:
    ns = await new_namespace(client)
    seen = PodLog()
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    passes = Passes.of(controller.loop)
    async with running(
        controller.run(),
        watch_pods(client, ns, seen),
        fake_kubelet(client, ns, lambda _pod: "Failed", log=seen),
    ):
        await client.jobs.create(job(ns, "flaky", backoffLimit=2))
        done = await finished(client, ns, "flaky")
        await settled(controller, passes, done)

    pods = sorted((await client.pods.list(ns)).items, key=lambda p: seen.added[p.metadata.name])
    assert [p.status.phase for p in pods] == ["Failed"] * 3  # the first try and two retries
    # Each retry waits 0.5 s, then 1 s, after the failure before it.
    for i, (before, after) in enumerate(itertools.pairwise(pods)):
        gap = seen.added[after.metadata.name] - seen.finished[before.metadata.name]
        assert gap >= BACKOFF * 2**i - 0.1, (i, gap)
    failed = condition(done, "Failed")
    assert (failed.status, failed.reason, failed.message) == (
        "True",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert (done.status.failed, done.status.succeeded, done.status.active) == (3, 0, 0)
    assert not done.status.completion_time
    await controller.recorder.flush()
    assert "BackoffLimitExceeded" in await event_reasons(client, ns, "flaky")


async def test_restarts_in_place_count_against_the_backoff_limit(client: Client) -> None:
    ns = await new_namespace(client)
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    passes = Passes.of(controller.loop)

    async def pod_deleted() -> bool:
        return not [
            p for p in (await client.pods.list(ns)).items if not p.metadata.deletion_timestamp
        ]

    async with running(controller.run(), fake_kubelet(client, ns, lambda _pod: "restart")):
        await client.jobs.create(job(ns, "crashy", restart_policy="OnFailure", backoffLimit=1))
        done = await finished(client, ns, "crashy")
        # Its delete may trail the Failed status: the controller keeps running until it is seen.
        await eventually(pod_deleted, timeout=10, what="the restarting pod to be deleted")
        # And none replaces it, however late the controller's cache shows the job failed.
        await settled(controller, passes, done)
        assert await pod_deleted()

    assert condition(done, "Failed").reason == "BackoffLimitExceeded"
    assert done.status.failed == 1 and done.status.active == 0


async def test_active_deadline_fails_the_job_and_deletes_its_pods(client: Client) -> None:
    ns = await new_namespace(client)
    seen = PodLog()
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    async with running(
        controller.run(), watch_pods(client, ns, seen), fake_kubelet(client, ns, lambda _pod: None)
    ):
        started = time.monotonic()
        await client.jobs.create(
            job(ns, "slow", completions=4, parallelism=2, activeDeadlineSeconds=2)
        )
        done = await finished(client, ns, "slow", timeout=15)
        took = time.monotonic() - started

    assert 1.0 <= took < 6.0  # start times have whole seconds
    assert seen.max_active == 2
    failed = condition(done, "Failed")
    assert (failed.reason, failed.message) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    assert (done.status.active, done.status.failed, done.status.succeeded) == (0, 2, 0)
    assert not (await client.pods.list(ns)).items
    await controller.recorder.flush()
    assert "DeadlineExceeded" in await event_reasons(client, ns, "slow")


async def test_pods_carry_the_tracking_finalizer_until_counted(client: Client) -> None:
    ns = await new_namespace(client)
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    held: list[list[str]] = []

    def outcome(pod: core_pb2.Pod) -> str:
        held.append(list(pod.metadata.finalizers))
        return "Succeeded"

    async with running(controller.run(), fake_kubelet(client, ns, outcome)):
        await client.jobs.create(job(ns, "tracked", completions=2, parallelism=2))
        done = await finished(client, ns, "tracked")

    assert held == [["batch.kubernetes.io/job-tracking"]] * 2
    pods = (await client.pods.list(ns)).items
    assert [list(p.metadata.finalizers) for p in pods] == [[], []]
    assert [c.type for c in done.status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert done.status.HasField("uncounted_terminated_pods")
    assert not done.status.uncounted_terminated_pods.succeeded
    assert (done.status.succeeded, done.status.terminating) == (2, 0)
    # Deleting the job deletes its pods: nothing holds them.
    await client.jobs.delete("tracked", ns)


async def test_pod_failure_policy_fails_the_job_on_an_exit_code(client: Client) -> None:
    ns = await new_namespace(client)
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    async with running(controller.run(), fake_kubelet(client, ns, lambda _pod: "Failed:42")):
        created = await client.jobs.create(
            job(ns, "picky", backoffLimit=6, podFailurePolicy=policy)
        )
        assert created.spec.pod_replacement_policy == "Failed"  # defaulted so with a policy
        done = await finished(client, ns, "picky")

    [pod] = (await client.pods.list(ns)).items
    target = condition(done, "FailureTarget")
    failed = condition(done, "Failed")
    message = (
        f"Container work for pod {ns}/{pod.metadata.name} failed with exit code 42 matching "
        "FailJob rule at index 0"
    )
    assert (target.reason, target.message) == ("PodFailurePolicy", message)
    assert (failed.reason, failed.message) == ("PodFailurePolicy", message)
    assert (done.status.failed, done.status.active) == (1, 0)
    await controller.recorder.flush()
    assert "PodFailurePolicy" in await event_reasons(client, ns, "picky")


async def test_indexed_job_with_a_backoff_limit_per_index(client: Client) -> None:
    ns = await new_namespace(client)
    controller = JobController(client, SharedInformerFactory(client), backoff=BACKOFF)

    def outcome(pod: core_pb2.Pod) -> str:
        index = pod.metadata.annotations["batch.kubernetes.io/job-completion-index"]
        return "Failed" if index == "1" else "Succeeded"

    async with running(controller.run(), fake_kubelet(client, ns, outcome)):
        created = await client.jobs.create(
            job(
                ns,
                "indexed",
                completionMode="Indexed",
                completions=3,
                parallelism=3,
                backoffLimitPerIndex=1,
            )
        )
        assert created.spec.backoff_limit == 2**31 - 1
        done = await finished(client, ns, "indexed")

    pods = (await client.pods.list(ns)).items
    by_index: dict[str, list[core_pb2.Pod]] = {}
    for p in pods:
        by_index.setdefault(
            p.metadata.annotations["batch.kubernetes.io/job-completion-index"], []
        ).append(p)
    assert sorted((i, len(ps)) for i, ps in by_index.items()) == [("0", 1), ("1", 2), ("2", 1)]
    # The first pod of index 1 counts no failure, its replacement the one before it (two pods
    # made within a second have the same creationTimestamp: told apart by their counts).
    counts = sorted(
        p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] for p in by_index["1"]
    )
    assert counts == ["0", "1"]
    for index, ps in by_index.items():
        for p in ps:
            assert p.spec.hostname == f"indexed-{index}"
            assert p.metadata.labels["batch.kubernetes.io/job-completion-index"] == index
            [env] = p.spec.containers[0].env
            assert env.name == "JOB_COMPLETION_INDEX"
    status = done.status
    failed = condition(done, "Failed")
    assert (failed.reason, failed.message) == ("FailedIndexes", "Job has failed indexes")
    assert (status.completed_indexes, status.failed_indexes) == ("0,2", "1")
    assert (status.succeeded, status.failed) == (2, 2)
