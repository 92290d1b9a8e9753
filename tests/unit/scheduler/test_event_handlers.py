"""Informer events become cache and queue changes: pending pods are queued, bound pods counted, and
only changes that may help wake the unschedulable pods."""

from __future__ import annotations

import logging

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.event_handlers import EventHandlers
from tests.unit.scheduler.fakes import copy_of
from tests.unit.scheduler.schedtest import node, pod


@pytest.fixture
def handlers() -> EventHandlers:
    return EventHandlers(SchedulerCache(), SchedulingQueue())


async def _park_unschedulable(handlers: EventHandlers, name: str) -> core_pb2.Pod:
    p = pod(name)
    handlers.on_pod_add(p)
    handlers.queue.add_unschedulable_if_not_present(await handlers.queue.pop())
    assert handlers.queue.where(p) == "unschedulable"
    return p


@pytest.mark.parametrize(
    "the_pod, queued",
    [
        (pod(), True),
        (pod(scheduler_name=""), True),
        (pod(scheduler_name="other-scheduler"), False),
        (pod(node_name="n1"), False),
        (pod(phase="Succeeded"), False),
        (pod(phase="Failed"), False),
    ],
)
def test_which_pods_are_queued(
    handlers: EventHandlers, the_pod: core_pb2.Pod, queued: bool
) -> None:
    handlers.on_pod_add(the_pod)
    assert (handlers.queue.where(the_pod) == "active") == queued


def test_a_pod_being_deleted_is_not_scheduled(handlers: EventHandlers) -> None:
    p = pod()
    handlers.on_pod_add(p)
    deleting = copy_of(p)
    deleting.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    handlers.on_pod_update(p, deleting)
    assert handlers.queue.where(p) is None


def test_bound_pods_count_until_they_finish(handlers: EventHandlers) -> None:
    handlers.on_node_add(node("n1"))
    p = pod(cpu="1", node_name="n1")
    handlers.on_pod_add(p)
    info = handlers.cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 1000
    done = copy_of(p)
    done.status.phase = "Succeeded"
    handlers.on_pod_update(p, done)
    assert info.requested.milli_cpu == 0


def test_binding_moves_a_pod_from_the_queue_to_the_cache(handlers: EventHandlers) -> None:
    handlers.on_node_add(node("n1"))
    p = pod(cpu="1")
    handlers.on_pod_add(p)
    bound = copy_of(p)
    bound.spec.node_name = "n1"
    handlers.on_pod_update(p, bound)
    assert handlers.queue.where(p) is None
    assert handlers.cache.contains(p) and not handlers.cache.is_assumed(p)


def test_deleting_an_assumed_pod_frees_its_room(handlers: EventHandlers) -> None:
    handlers.on_node_add(node("n1"))
    assumed = pod(cpu="1", node_name="n1")
    handlers.cache.assume_pod(assumed)
    unbound = copy_of(assumed)
    unbound.spec.node_name = ""
    handlers.on_pod_update(unbound, unbound)  # an update from before the binding: still assumed
    assert handlers.cache.is_assumed(assumed)
    handlers.on_pod_delete(unbound)
    assert not handlers.cache.contains(assumed)


async def test_node_heartbeats_do_not_wake_unschedulable_pods(handlers: EventHandlers) -> None:
    n = node("n1")
    handlers.on_node_add(n)
    p = await _park_unschedulable(handlers, "p")
    beat = copy_of(n)
    beat.metadata.resource_version = "2"
    beat.status.conditions[0].last_heartbeat_time = "2026-01-01T00:00:10Z"
    handlers.on_node_update(n, beat)
    assert handlers.queue.where(p) == "unschedulable"
    labelled = copy_of(beat)
    labelled.metadata.labels["disk"] = "ssd"
    handlers.on_node_update(beat, labelled)
    assert handlers.queue.where(p) in ("active", "backoff")


@pytest.mark.parametrize("event", ["node-added", "bound-pod-deleted", "bound-pod-finished"])
async def test_changes_that_free_or_add_room_wake_unschedulable_pods(
    handlers: EventHandlers, event: str
) -> None:
    handlers.on_node_add(node("n1"))
    bound = pod("bound", cpu="1", node_name="n1")
    handlers.on_pod_add(bound)
    p = await _park_unschedulable(handlers, "p")
    if event == "node-added":
        handlers.on_node_add(node("n2"))
    elif event == "bound-pod-deleted":
        handlers.on_pod_delete(bound)
    else:
        finished = copy_of(bound)
        finished.status.phase = "Failed"
        handlers.on_pod_update(bound, finished)
    assert handlers.queue.where(p) in ("active", "backoff")


async def test_deleting_a_pending_pod_wakes_nobody(handlers: EventHandlers) -> None:
    p = await _park_unschedulable(handlers, "p")
    other = pod("other")
    handlers.on_pod_add(other)
    handlers.on_pod_delete(other)
    assert handlers.queue.where(p) == "unschedulable"


def test_node_events_are_logged_at_debug_once_the_cache_holds_them(
    handlers: EventHandlers, caplog: pytest.LogCaptureFixture
) -> None:
    """kube-scheduler's "Add/Update/Delete event for node" (-v=3, -v=4), each logged with the
    cache already as the event left it: what an integration test waits for before it writes what
    the scheduler must decide with the node (tests/integration/scheduler_processes.py)."""
    seen: list[tuple[str, str | None]] = []

    class Recording(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            info = handlers.cache.node_info("n1")
            cpu = None if info is None or info.node is None else info.node.status.allocatable["cpu"]
            seen.append((record.getMessage(), cpu))

    recording = Recording(logging.DEBUG)
    logger = logging.getLogger("scheduler.event_handlers")
    logger.addHandler(recording)
    try:
        with caplog.at_level(logging.DEBUG, logger="scheduler.event_handlers"):
            first = node("n1")
            handlers.on_node_add(first)
            bigger = node("n1", cpu="8")
            handlers.on_node_update(first, bigger)
            handlers.on_node_delete(bigger)
    finally:
        logger.removeHandler(recording)
    assert seen == [
        ("Add event for node node=n1", "4"),
        ("Update event for node node=n1", "8"),
        ("Delete event for node node=n1", None),
    ]
