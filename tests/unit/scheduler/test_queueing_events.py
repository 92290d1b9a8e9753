"""Which cluster events bring a pod back from the unschedulable pods, by the plugins that rejected
it (kubernetes EventsToRegister): a pod bound or relabelled wakes pods waiting on inter-pod affinity
or topology spread but not pods that lacked cpu; a deleted pod or a new node wakes everyone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.event_handlers import EventHandlers
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler.fakes import FakeClient, copy_of, wait_until
from tests.unit.scheduler.schedtest import node, pod


@pytest.fixture
def handlers() -> EventHandlers:
    fw = Framework(in_tree_registry(), default_profile())
    return EventHandlers(
        SchedulerCache(), SchedulingQueue(initial_backoff=0), interested=fw.plugins_interested_in
    )


async def _park(handlers: EventHandlers, name: str, rejected_by: str) -> core_pb2.Pod:
    p = pod(name)
    handlers.on_pod_add(p)
    pinfo = await handlers.queue.pop()
    pinfo.unschedulable_plugins = {rejected_by}
    handlers.queue.add_unschedulable_if_not_present(pinfo)
    assert handlers.queue.where(p) == "unschedulable"
    return p


def _bound(name: str, **labels: str) -> core_pb2.Pod:
    return pt.pod(name, labels, node_name="n1", phase="Running")


@pytest.mark.parametrize(
    "event, wakes",
    [
        ("bound-pod-added", {"InterPodAffinity", "PodTopologySpread"}),
        ("pod-bound", {"InterPodAffinity", "PodTopologySpread"}),
        ("bound-pod-relabelled", {"InterPodAffinity", "PodTopologySpread"}),
        ("node-deleted", {"PodTopologySpread"}),
        (
            "bound-pod-deleted",
            {"InterPodAffinity", "PodTopologySpread", "NodePorts", "NodeResourcesFit"},
        ),
        ("node-added", {"InterPodAffinity", "PodTopologySpread", "NodePorts", "NodeResourcesFit"}),
    ],
)
async def test_events_wake_the_pods_whose_rejections_they_may_undo(
    handlers: EventHandlers, event: str, wakes: set[str]
) -> None:
    handlers.on_node_add(node("n1"))
    handlers.on_node_add(node("n2"))
    existing = _bound("existing", app="web")
    handlers.on_pod_add(existing)
    parked = {
        plugin: await _park(handlers, f"rejected-by-{plugin.lower()}", plugin)
        for plugin in ("InterPodAffinity", "PodTopologySpread", "NodePorts", "NodeResourcesFit")
    }
    if event == "bound-pod-added":
        handlers.on_pod_add(_bound("newcomer"))
    elif event == "pod-bound":
        pending = pt.pod("pending")
        handlers.on_pod_add(pending)
        bound = copy_of(pending)
        bound.spec.node_name = "n1"
        handlers.on_pod_update(pending, bound)
    elif event == "bound-pod-relabelled":
        relabelled = copy_of(existing)
        relabelled.metadata.labels["app"] = "db"
        handlers.on_pod_update(existing, relabelled)
    elif event == "node-deleted":
        handlers.on_node_delete(node("n2"))
    elif event == "bound-pod-deleted":
        handlers.on_pod_delete(existing)
    else:
        handlers.on_node_add(node("n3"))
    woken = {plugin for plugin, p in parked.items() if handlers.queue.where(p) != "unschedulable"}
    assert woken == wakes


async def test_an_event_during_the_attempt_sends_the_pod_to_back_off(
    handlers: EventHandlers,
) -> None:
    """A pod bound while another was being tried may be what it waited for: try again soon."""
    handlers.on_node_add(node("n1"))
    for name in ("affine", "hungry"):
        handlers.on_pod_add(pod(name))
    first, second = await handlers.queue.pop(), await handlers.queue.pop()
    handlers.on_pod_add(_bound("newcomer"))
    first.unschedulable_plugins = {"InterPodAffinity"}
    second.unschedulable_plugins = {"NodeResourcesFit"}
    handlers.queue.add_unschedulable_if_not_present(first)
    handlers.queue.add_unschedulable_if_not_present(second)
    assert handlers.queue.where(first.pod) == "backoff"
    assert handlers.queue.where(second.pod) == "unschedulable"


@pytest.fixture
def scheduler_tasks() -> Iterator[list[asyncio.Task[None]]]:
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()


async def test_a_pod_waiting_for_its_affinity_is_bound_once_its_partner_is(
    scheduler_tasks: list[asyncio.Task[None]],
) -> None:
    affine = pt.with_affinity(pt.pod("web"), required=[pt.term(match={"app": "db"})])
    client = FakeClient([node("n1"), node("n2")], [affine])
    # No periodic flush: only the event may bring the pod back.
    scheduler = Scheduler(
        client,  # type: ignore[arg-type]
        Framework(in_tree_registry(), default_profile()),
        queue=SchedulingQueue(initial_backoff=0.01, max_backoff=0.02),
        flush_interval=0.01,
    )
    scheduler_tasks.append(asyncio.ensure_future(scheduler.run()))
    await wait_until(lambda: bool(client.events.created))
    assert (
        client.events.created[0].message
        == "0/2 nodes are available: 2 node(s) didn't match pod affinity rules. "
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )
    await wait_until(lambda: scheduler.queue.where(affine) == "unschedulable")
    client.pods.emit("ADDED", pt.pod("db", {"app": "db"}, node_name="n2", phase="Running"))
    await wait_until(lambda: client.binds == [("web", "n2")])
