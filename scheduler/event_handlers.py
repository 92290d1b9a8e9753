"""Turns informer events into cache and queue changes (kubernetes pkg/scheduler/eventhandlers.go):
bound pods are counted on their nodes, pending pods of this scheduler are queued, and each change
of a bound pod or a node is handed to the queue as a cluster event with the objects before and
after, for the plugins' queueing hints to say which unschedulable pods it may help."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework import cluster_events
from scheduler.framework.cluster_events import PluginHint
from scheduler.framework.runtime import DEFAULT_SCHEDULER_NAME

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
log = logging.getLogger(__name__)


def is_assigned(pod: core_pb2.Pod) -> bool:
    return bool(pod.spec.node_name)


def is_terminal(pod: core_pb2.Pod) -> bool:
    return pod.status.phase in TERMINAL_PHASES


def is_counted(pod: core_pb2.Pod) -> bool:
    """A bound pod that still holds its node's resources."""
    return is_assigned(pod) and not is_terminal(pod)


def node_scheduling_changed(old: core_pb2.Node, new: core_pb2.Node) -> bool:
    """A change that may make pods fit: not the kubelet's heartbeats."""

    def conditions(node: core_pb2.Node) -> dict[str, str]:
        return {c.type: c.status for c in node.status.conditions}

    return bool(
        old.spec.unschedulable != new.spec.unschedulable
        or list(old.spec.taints) != list(new.spec.taints)
        or dict(old.metadata.labels) != dict(new.metadata.labels)
        or dict(old.status.allocatable) != dict(new.status.allocatable)
        or dict(old.status.capacity) != dict(new.status.capacity)
        or conditions(old) != conditions(new)
    )


class EventHandlers:
    def __init__(
        self,
        cache: SchedulerCache,
        queue: SchedulingQueue,
        scheduler_name: str = DEFAULT_SCHEDULER_NAME,
        hints: Mapping[str, Sequence[PluginHint]] | None = None,
    ) -> None:
        """`hints`: the framework's queueing hints (Framework.queueing_hints), which the queue
        asks about each event; None leaves the queue's own (every event helps every pod if
        nobody set them)."""
        self.cache = cache
        self.queue = queue
        self.scheduler_name = scheduler_name
        if hints is not None:
            queue.queueing_hints = hints

    def _event(self, event: str, old: object = None, new: object = None) -> None:
        self.queue.move_all_to_active_or_backoff(event, old, new)

    def on_cluster_event(self, event: str, old: object = None, new: object = None) -> None:
        """An object of another kind that plugins read changed (a claim, a volume, a class)."""
        self._event(event, old, new)

    def is_pending(self, pod: core_pb2.Pod) -> bool:
        """Unbound, this scheduler's, not finished and not being deleted."""
        return (
            not is_assigned(pod)
            and not is_terminal(pod)
            and not pod.metadata.deletion_timestamp
            and (pod.spec.scheduler_name or DEFAULT_SCHEDULER_NAME) == self.scheduler_name
        )

    # ------------------------------------------------------------------ pods
    def on_pod_add(self, pod: core_pb2.Pod) -> None:
        if is_counted(pod):
            self.cache.add_pod(pod)
            self._event(cluster_events.ASSIGNED_POD_ADD, None, pod)
        elif self.is_pending(pod):
            self.queue.add(pod)

    def on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if is_counted(new):
            self.cache.update_pod(new)
            if not is_counted(old):
                self._event(cluster_events.ASSIGNED_POD_ADD, None, new)
            elif old.metadata.labels != new.metadata.labels:
                self._event(cluster_events.ASSIGNED_POD_UPDATE, old, new)
        elif self.cache.contains(new) and (is_assigned(new) or not self.cache.is_assumed(new)):
            # Finished (or, oddly, unbound): its resources are free again.
            self.cache.remove_pod(new)
            self._event(cluster_events.ASSIGNED_POD_DELETE, new, None)
        if self.is_pending(new):
            self.queue.update(old, new)
        elif self.is_pending(old) or self.queue.where(new) is not None:
            # Bound, finished, being deleted or handed to another scheduler.
            self.queue.delete(new)

    def on_pod_delete(self, pod: core_pb2.Pod) -> None:
        self.queue.delete(pod)
        if self.cache.contains(pod):
            # Bound, or assumed with its binding in flight: either way it frees room.
            self.cache.remove_pod(pod)
            self._event(cluster_events.ASSIGNED_POD_DELETE, pod, None)

    # ------------------------------------------------------------------ nodes
    # Each logged at debug level once the cache holds it, as kube-scheduler logs them (-v=3, and
    # -v=4 for an update).
    def on_node_add(self, node: core_pb2.Node) -> None:
        self.cache.add_node(node)
        log.debug("Add event for node node=%s", node.metadata.name)
        self._event(cluster_events.NODE_ADD, None, node)

    def on_node_update(self, old: core_pb2.Node, new: core_pb2.Node) -> None:
        self.cache.update_node(new)
        log.debug("Update event for node node=%s", new.metadata.name)
        if node_scheduling_changed(old, new):
            self._event(cluster_events.NODE_UPDATE, old, new)

    def on_node_delete(self, node: core_pb2.Node) -> None:
        self.cache.remove_node(node)
        log.debug("Delete event for node node=%s", node.metadata.name)
        self._event(cluster_events.NODE_DELETE, node, None)
