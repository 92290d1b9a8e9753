"""The scheduling queue of a real `python -m scheduler` process, seen from outside (the API, its log
and its /metrics), against a real apiserver over a real etcd with hollow nodes: a pending pod moves
on the cluster event that can help it (a node added, a taint removed) within seconds rather than at
the 5-minute flush; a pod that keeps failing is retried 1, 2, 4, 8, then 10 s apart; and the
scheduler's metrics, under kube-scheduler's names and labels, count what happened."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime

import pytest_asyncio

from podplane.client.clientset import Client
from scheduler.backend.queue.scheduling_queue import DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF
from tests.integration.scheduler_processes import (
    SchedulerProcess,
    add_node,
    own_cluster,
    pod_requesting,
    wait_bound,
)
from tests.support import eventually, new_namespace

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
PROFILE = "default-scheduler"
# The back-off queue is flushed every second, as kube-scheduler's is: a pod leaves it up to 1 s
# after its back-off ends; with a cluster event every TICK it may also wait up to TICK for one.
FLUSH, TICK = 1.0, 0.2


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Client]:
    async with own_cluster() as client:
        yield client


@pytest_asyncio.fixture
async def scheduler(cluster: Client) -> AsyncIterator[SchedulerProcess]:
    process = SchedulerProcess.start(cluster.target)
    try:
        await eventually(process.serving, 20, what="the scheduler's health to be SERVING")
        yield process
    finally:
        await process.terminate()


async def unschedulable(client: Client, ns: str, name: str) -> str:
    """Waits until the pod is marked PodScheduled=False (Unschedulable); returns the message."""

    async def check() -> str | None:
        pod = await client.pods.get(name, ns)
        return next(
            (
                c.message
                for c in pod.status.conditions
                if (c.type, c.status, c.reason) == ("PodScheduled", "False", "Unschedulable")
            ),
            None,
        )

    return await eventually(check, 20, interval=0.05, what=f"{ns}/{name} to be unschedulable")


async def seconds_to_bind(client: Client, ns: str, name: str, timeout: float = 20) -> float:
    started = time.monotonic()

    async def bound() -> bool:
        return bool((await client.pods.get(name, ns)).spec.node_name)

    await eventually(bound, timeout, interval=0.02, what=f"{ns}/{name} to be bound")
    return time.monotonic() - started


def attempt_times(log: str, ns: str, name: str) -> list[float]:
    """When the scheduler found no fit for the pod, from its log's timestamps (seconds)."""
    pattern = re.compile(
        r"^(\S+ \S+) INFO \S+: Unable to schedule pod; no fit; waiting "
        rf"pod={re.escape(ns)}/{re.escape(name)} ",
        re.M,
    )
    return [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        for m in pattern.finditer(log)
    ]


async def parked(scheduler: SchedulerProcess, ns: str, name: str) -> None:
    """Waits until the pod waits among the unschedulable pods with the back-off of its last
    attempt over (1, 2, 4 ... s after it, by the log's clock, which counts milliseconds): only
    a cluster event moves it now (the flush comes after five minutes), and straight to the
    active queue."""

    async def check() -> bool:
        times = attempt_times(scheduler.log(), ns, name)
        if not times:
            return False
        backoff = min(DEFAULT_INITIAL_BACKOFF * 2 ** (len(times) - 1), DEFAULT_MAX_BACKOFF)
        return (
            await scheduler.sample("scheduler_pending_pods", queue="unschedulable") == 1
            and time.time() >= times[-1] + backoff + 0.01
        )

    await eventually(check, 30, interval=0.05, what=f"{ns}/{name} to wait for an event")


# ------------------------------------------------------------------ moves on cluster events
async def test_a_pending_pod_binds_within_seconds_of_a_node_being_added(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    await add_node(cluster, "small", cpu="1", seen_by=scheduler)
    ns = await new_namespace(cluster, "q-")
    await cluster.pods.create(pod_requesting("big", ns, "3"))
    assert await unschedulable(cluster, ns, "big") == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    await parked(scheduler, ns, "big")

    # Like a kubelet, add_node creates the Node and then posts its capacity: the first event
    # already wakes the pod, which fails once more (no capacity yet) and is woken by the second
    # after a 2 s back-off.
    added = time.monotonic()
    await add_node(cluster, "large", cpu="4", seen_by=scheduler)
    await seconds_to_bind(cluster, ns, "big")
    waited = time.monotonic() - added
    print(f"\nbound {waited:.2f}s after the node was added")
    assert waited < 5
    assert (await cluster.pods.get("big", ns)).spec.node_name == "large"


async def test_a_pending_pod_binds_within_seconds_of_a_taint_being_removed(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    await add_node(cluster, "gpu", cpu="4", taints=[GPU_TAINT], seen_by=scheduler)
    await add_node(cluster, "small", cpu="1", seen_by=scheduler)
    ns = await new_namespace(cluster, "q-")
    await cluster.pods.create(pod_requesting("wants-room", ns, "2"))
    assert await unschedulable(cluster, ns, "wants-room") == (
        "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling."
    )
    await parked(scheduler, ns, "wants-room")

    node = await cluster.nodes.get("gpu")
    del node.spec.taints[:]
    await cluster.nodes.update(node)
    waited = await seconds_to_bind(cluster, ns, "wants-room")
    print(f"\nbound {waited:.2f}s after the taint was removed")
    assert waited < 3  # it was tried last more than its 1 s back-off ago: at once
    assert (await cluster.pods.get("wants-room", ns)).spec.node_name == "gpu"


# ------------------------------------------------------------------ back-off
async def test_a_pod_that_keeps_failing_is_retried_after_1_2_4_8_then_10_seconds(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    await add_node(cluster, "small", cpu="1", seen_by=scheduler)
    # Big enough, but for a taint the pods do not tolerate.
    await add_node(cluster, "tainted", cpu="4", taints=[GPU_TAINT], seen_by=scheduler)
    ns = await new_namespace(cluster, "q-")
    await cluster.pods.create(pod_requesting("quiet", ns, "2"))
    await unschedulable(cluster, ns, "quiet")

    # No cluster event: it waits among the unschedulable pods (for up to five minutes), not
    # tried again once its back-off is over. The window: twice what that retry would take (the
    # back-off, then the flush that moves it on).
    await asyncio.sleep(2 * (DEFAULT_INITIAL_BACKOFF + FLUSH))
    assert len(attempt_times(scheduler.log(), ns, "quiet")) == 1
    assert await scheduler.sample("scheduler_pending_pods", queue="unschedulable") == 1

    # From now on the tainted node changes every TICK (a label): NodeResourcesFit, which
    # rejected the pods on the small node, says a change of a node that could hold them may
    # help (its queueing hint), so each change sends a failed pod to back-off, and it is tried
    # again as soon as its back-off is over.
    async def churn() -> None:
        node = await cluster.nodes.get("tainted")
        for i in range(10_000):
            node.metadata.labels["tick"] = str(i)
            node = await cluster.nodes.update(node)
            await asyncio.sleep(TICK)

    churning = asyncio.create_task(churn())
    try:
        await cluster.pods.create(pod_requesting("never-fits", ns, "2"))

        async def six_attempts() -> list[float] | None:
            times = attempt_times(scheduler.log(), ns, "never-fits")
            return times[:6] if len(times) >= 6 else None

        times = await eventually(six_attempts, 60, interval=0.2, what="five retries")
    finally:
        churning.cancel()
        await asyncio.gather(churning, return_exceptions=True)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(times)]
    print(f"\ngaps between attempts: {gaps}")
    for gap, backoff in zip(gaps, (1, 2, 4, 8, 10), strict=True):
        assert backoff - 0.05 <= gap <= backoff + FLUSH + TICK + 0.5, (gaps, backoff)


# ------------------------------------------------------------------ metrics
async def test_metrics_count_attempts_pending_pods_and_the_scheduling_sli(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    await asyncio.gather(
        add_node(cluster, "a", cpu="1", seen_by=scheduler),
        add_node(cluster, "b", cpu="1", seen_by=scheduler),
    )
    ns = await new_namespace(cluster, "q-")
    # Four fit (two 400m pods per 1-cpu node); two 2-cpu pods do not.
    await asyncio.gather(
        *(cluster.pods.create(pod_requesting(f"fits-{i}", ns, "400m")) for i in range(4))
    )
    await wait_bound(cluster, ns, 4, timeout=20)
    await asyncio.gather(
        *(cluster.pods.create(pod_requesting(f"big-{i}", ns, "2")) for i in range(2))
    )
    for i in range(2):
        await unschedulable(cluster, ns, f"big-{i}")

    async def counted() -> dict[str, float] | None:
        m = await scheduler.metrics()

        def value(metric: str, /, **labels: str) -> float:
            return m.get((metric, frozenset(labels.items())), -1.0)

        seen = {
            "scheduled": value(
                "scheduler_schedule_attempts_total", result="scheduled", profile=PROFILE
            ),
            "unschedulable": value(
                "scheduler_schedule_attempts_total", result="unschedulable", profile=PROFILE
            ),
            "scheduled_durations": value(
                "scheduler_scheduling_attempt_duration_seconds_count",
                result="scheduled",
                profile=PROFILE,
            ),
            "unschedulable_durations": value(
                "scheduler_scheduling_attempt_duration_seconds_count",
                result="unschedulable",
                profile=PROFILE,
            ),
            **{
                f"pending_{q}": value("scheduler_pending_pods", queue=q)
                for q in ("active", "backoff", "unschedulable", "gated")
            },
            "sli_1": value("scheduler_pod_scheduling_sli_duration_seconds_count", attempts="1"),
            "sli_2": value("scheduler_pod_scheduling_sli_duration_seconds_count", attempts="2"),
            "leader": value("leader_election_master_status", name="kube-scheduler"),
        }
        return (
            seen
            if seen["pending_unschedulable"] == expected["pending_unschedulable"]
            and seen["scheduled"] == expected["scheduled"]
            else None
        )

    expected = {
        "scheduled": 4,
        "unschedulable": 2,
        "scheduled_durations": 4,
        "unschedulable_durations": 2,
        "pending_active": 0,
        "pending_backoff": 0,
        "pending_unschedulable": 2,
        "pending_gated": 0,
        "sli_1": 4,
        "sli_2": -1,
        "leader": 1,
    }
    assert await eventually(counted, 10, what="the metrics to count the attempts") == expected

    # A node with room: both big pods bind on their second attempt.
    await add_node(cluster, "large", cpu="8", seen_by=scheduler)
    await wait_bound(cluster, ns, 6, timeout=10)
    expected.update(scheduled=6, scheduled_durations=6, pending_unschedulable=0, sli_2=2)
    assert await eventually(counted, 10, what="the metrics to count the binds") == expected

    # The histograms carry kube-scheduler's bucket series.
    m = await scheduler.metrics()
    buckets = [
        labels
        for name, labels in m
        if name == "scheduler_scheduling_attempt_duration_seconds_bucket"
    ]
    assert buckets and all({"le", "result", "profile"} == {k for k, _ in b} for b in buckets)
    assert (
        m[
            (
                "scheduler_pod_scheduling_sli_duration_seconds_bucket",
                frozenset({("attempts", "1"), ("le", "+Inf")}),
            )
        ]
        == 4
    )
