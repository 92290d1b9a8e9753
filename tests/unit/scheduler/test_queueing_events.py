"""Which cluster events bring a pod back from the unschedulable pods (kubernetes EventsToRegister
with queueing hints): only the plugins that rejected the pod are asked, and only if they registered
for the event, and each answers from the objects before and after the change whether it may help
this pod: a pod bound wakes the pods whose affinity it satisfies or whose spread it changes, not a
pod that lacked cpu; a node added wakes a pod its labels, taints and size let in."""

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

TAINT = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}


@pytest.fixture
def handlers() -> EventHandlers:
    fw = Framework(in_tree_registry(), default_profile())
    return EventHandlers(
        SchedulerCache(), SchedulingQueue(initial_backoff=0), hints=fw.queueing_hints
    )


def waiting_pods() -> dict[str, core_pb2.Pod]:
    """A pod each plugin could have rejected, by that plugin."""
    return {
        "InterPodAffinity": pt.with_affinity(
            pt.pod("affine"), required=[pt.term(match={"app": "db"})]
        ),
        "PodTopologySpread": pt.with_spread(pt.pod("spread", {"app": "web"}), match={"app": "web"}),
        "NodePorts": pt.with_host_ports(pt.pod("port-80"), (80, "TCP", "")),
        "NodeResourcesFit": pod("hungry", cpu="6"),
        "NodeAffinity": pod("zone-b", node_selector={"zone": "b"}),
        "TaintToleration": pod("intolerant"),
    }


async def _park(handlers: EventHandlers, p: core_pb2.Pod, rejected_by: str) -> None:
    handlers.on_pod_add(p)
    pinfo = await handlers.queue.pop()
    pinfo.unschedulable_plugins = {rejected_by}
    handlers.queue.add_unschedulable_if_not_present(pinfo)
    assert handlers.queue.where(p) == "unschedulable"


def _bound(name: str, **labels: str) -> core_pb2.Pod:
    return pt.pod(name, labels, node_name="n1", phase="Running")


@pytest.mark.parametrize(
    "event, wakes",
    [
        ("bound-pod-added-that-affinity-selects", {"InterPodAffinity"}),
        ("bound-pod-added-that-spread-counts", {"PodTopologySpread"}),
        ("bound-pod-added-that-nobody-cares-about", set()),
        ("pod-bound-that-affinity-selects", {"InterPodAffinity"}),
        ("bound-pod-relabelled-web-to-db", {"InterPodAffinity", "PodTopologySpread"}),
        ("bound-pod-with-port-80-deleted", {"PodTopologySpread", "NodePorts", "NodeResourcesFit"}),
        ("unbound-pod-deleted", set()),
        ("node-with-a-zone-deleted", {"PodTopologySpread"}),
        (
            "big-node-in-zone-b-added",
            {
                "InterPodAffinity",
                "PodTopologySpread",
                "NodePorts",
                "NodeResourcesFit",
                "NodeAffinity",
                "TaintToleration",
            },
        ),
        (
            "small-tainted-node-in-zone-a-added",
            {"InterPodAffinity", "PodTopologySpread", "NodePorts"},
        ),
        ("node-untainted", {"TaintToleration", "PodTopologySpread"}),
        ("node-relabelled-to-zone-b", {"NodeAffinity", "InterPodAffinity", "PodTopologySpread"}),
    ],
)
async def test_events_wake_the_pods_whose_rejections_they_may_undo(
    handlers: EventHandlers, event: str, wakes: set[str]
) -> None:
    handlers.on_node_add(node("n1", labels={"zone": "a"}))
    tainted = node("n2", labels={"zone": "a"}, taints=[TAINT])
    handlers.on_node_add(tainted)
    existing = pt.with_host_ports(_bound("existing", app="web"), (80, "TCP", ""))
    handlers.on_pod_add(existing)
    parked = waiting_pods()
    for plugin, p in parked.items():
        await _park(handlers, p, plugin)
    if event == "bound-pod-added-that-affinity-selects":
        handlers.on_pod_add(_bound("db", app="db"))
    elif event == "bound-pod-added-that-spread-counts":
        handlers.on_pod_add(_bound("web-2", app="web"))
    elif event == "bound-pod-added-that-nobody-cares-about":
        handlers.on_pod_add(_bound("other", app="other"))
    elif event == "pod-bound-that-affinity-selects":
        pending = pt.pod("pending", {"app": "db"})
        handlers.on_pod_add(pending)
        bound = copy_of(pending)
        bound.spec.node_name = "n1"
        handlers.on_pod_update(pending, bound)
    elif event == "bound-pod-relabelled-web-to-db":
        relabelled = copy_of(existing)
        relabelled.metadata.labels["app"] = "db"
        handlers.on_pod_update(existing, relabelled)
    elif event == "bound-pod-with-port-80-deleted":
        handlers.on_pod_delete(existing)
    elif event == "unbound-pod-deleted":
        # Deleted before any attempt: it was never in the cache, and frees nothing.
        handlers.on_pod_delete(pt.pod("never-scheduled"))
    elif event == "node-with-a-zone-deleted":
        handlers.on_node_delete(tainted)
    elif event == "big-node-in-zone-b-added":
        handlers.on_node_add(node("n3", cpu="8", labels={"zone": "b"}))
    elif event == "small-tainted-node-in-zone-a-added":
        handlers.on_node_add(node("n3", cpu="2", labels={"zone": "a"}, taints=[TAINT]))
    elif event == "node-untainted":
        handlers.on_node_update(tainted, node("n2", labels={"zone": "a"}))
    else:
        handlers.on_node_update(node("n1", labels={"zone": "a"}), node("n1", labels={"zone": "b"}))
    woken = {plugin for plugin, p in parked.items() if handlers.queue.where(p) != "unschedulable"}
    assert woken == wakes


async def test_an_event_during_the_attempt_sends_the_pod_to_back_off(
    handlers: EventHandlers,
) -> None:
    """A pod bound while another was being tried may be what it waited for: try again soon;
    one that cannot help it (it lacked cpu) leaves it among the unschedulable pods."""
    handlers.on_node_add(node("n1"))
    affine = pt.with_affinity(pt.pod("affine"), required=[pt.term(match={"app": "db"})])
    handlers.on_pod_add(affine)
    handlers.on_pod_add(pod("hungry", cpu="6"))
    first, second = await handlers.queue.pop(), await handlers.queue.pop()
    handlers.on_pod_add(_bound("db", app="db"))
    first.unschedulable_plugins = {"InterPodAffinity"}
    second.unschedulable_plugins = {"NodeResourcesFit"}
    handlers.queue.add_unschedulable_if_not_present(first)
    handlers.queue.add_unschedulable_if_not_present(second)
    assert handlers.queue.where(first.pod) == "backoff"
    assert handlers.queue.where(second.pod) == "unschedulable"


async def test_an_event_before_the_attempt_does_not_count_for_it(
    handlers: EventHandlers,
) -> None:
    """Only what happens while a pod is in flight can have been missed by its attempt."""
    handlers.on_node_add(node("n1"))
    handlers.on_pod_add(pod("early"))
    early = await handlers.queue.pop()
    affine = pt.with_affinity(pt.pod("affine"), required=[pt.term(match={"app": "db"})])
    handlers.on_pod_add(affine)
    handlers.on_pod_add(_bound("db", app="db"))  # while "early" is in flight, before "affine"
    late = await handlers.queue.pop()
    late.unschedulable_plugins = {"InterPodAffinity"}
    handlers.queue.add_unschedulable_if_not_present(late)
    assert handlers.queue.where(affine) == "unschedulable"
    handlers.queue.done(early.pod)


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
