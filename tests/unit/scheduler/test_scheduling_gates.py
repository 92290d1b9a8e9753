"""Scheduling gates: the SchedulingGates plugin keeps a gated pod out of the active queue (never
tried, so never marked Unschedulable), cluster events do not wake it, and an update that removes
its last gate queues it at once."""

from __future__ import annotations

import asyncio

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry, schedulinggates
from tests.unit.scheduler.schedtest import pod


def gated(name: str, *gates: str) -> core_pb2.Pod:
    p = pod(name)
    for gate in gates:
        p.spec.scheduling_gates.add(name=gate)
    return p


def ungated(p: core_pb2.Pod, *removed: str) -> core_pb2.Pod:
    out = core_pb2.Pod()
    out.CopyFrom(p)
    kept = [g for g in p.spec.scheduling_gates if g.name not in removed]
    del out.spec.scheduling_gates[:]
    out.spec.scheduling_gates.extend(kept)
    return out


def test_the_plugin_names_the_gates_as_kube_scheduler_does() -> None:
    plugin = schedulinggates.new({})
    assert plugin.pre_enqueue(pod("free")).is_success
    status = plugin.pre_enqueue(gated("p", "example.com/quota", "example.com/region"))
    assert status.is_rejected
    assert status.message == "waiting for scheduling gates: [example.com/quota example.com/region]"


def test_the_default_profile_runs_scheduling_gates_before_enqueueing() -> None:
    fw = Framework(in_tree_registry(), default_profile())
    assert fw.has_pre_enqueue_plugins
    status = fw.run_pre_enqueue(gated("p", "g"))
    assert not status.is_success and status.plugin == "SchedulingGates"


def _queue() -> SchedulingQueue:
    queue = SchedulingQueue()
    fw = Framework(in_tree_registry(), default_profile())
    queue.pre_enqueue = lambda p: fw.run_pre_enqueue(p).is_success
    return queue


async def test_a_gated_pod_waits_until_its_last_gate_is_removed() -> None:
    queue = _queue()
    p = gated("p", "a", "b")
    queue.add(p)
    queue.add(pod("free"))
    assert queue.where(p) == "gated"
    assert queue.pending()["gated"] == 1 and queue.pending()["active"] == 1
    assert (await queue.pop()).pod.metadata.name == "free"
    queue.done(pod("free"))
    # Cluster changes and time do not let it in.
    queue.move_all_to_active_or_backoff("NodeAdd")
    queue.flush()
    assert queue.where(p) == "gated"
    one_left = ungated(p, "a")
    queue.update(p, one_left)
    assert queue.where(p) == "gated"
    free = ungated(one_left, "b")
    queue.update(one_left, free)
    assert queue.where(p) == "active" and queue.pending()["gated"] == 0
    async with asyncio.timeout(1):
        popped = await queue.pop()
    assert popped.pod.metadata.name == "p" and popped.attempts == 1


def test_a_gated_pod_deleted_leaves_the_queue() -> None:
    queue = _queue()
    p = gated("p", "g")
    queue.add(p)
    queue.delete(p)
    assert queue.where(p) is None and queue.pending()["gated"] == 0
