"""The pods nominated to nodes: each pod that preempted others waits, nominated to the node where
room is being made for it, and the filters of other pods of equal or lower priority count it there
(kubernetes pkg/scheduler/backend/queue/nominator.go). A pod's nomination comes from the scheduler
when it preempts, or from its status.nominatedNodeName (a scheduler that restarts picks the
nominations up again); it ends when the pod is assumed or bound, is deleted, or its
status.nominatedNodeName is cleared."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from podplane.api.core.v1 import core_pb2
from scheduler.framework.nominating import NominatingInfo, NominatingMode
from scheduler.framework.types import PodInfo

log = logging.getLogger(__name__)


class Nominator:
    def __init__(
        self, current: Callable[[core_pb2.Pod], core_pb2.Pod | None] | None = None
    ) -> None:
        """`current` gives a pod as the informer has it now (None when it is gone): a pod deleted
        or bound meanwhile is not nominated."""
        self.current = current
        # Node name -> the pods nominated there, in the order they were nominated.
        self._pods: dict[str, list[PodInfo]] = {}
        # Pod uid -> its node.
        self._node_of: dict[str, str] = {}

    def add_nominated_pod(self, pod: core_pb2.Pod, nominating: NominatingInfo | None) -> None:
        """Nominates the pod to nominating's node (override), or to its status.nominatedNodeName
        (None, or noop); an override to "" only forgets its nomination."""
        self.delete_nominated_pod_if_exists(pod)
        if nominating is not None and nominating.overrides:
            node_name = nominating.nominated_node_name
        else:
            node_name = pod.status.nominated_node_name
        if not node_name:
            return
        if self.current is not None:
            current = self.current(pod)
            if current is None or current.metadata.uid != pod.metadata.uid:
                log.debug("pod %s is gone: not nominating it", pod.metadata.name)
                return
            if current.spec.node_name:
                log.debug("pod %s is already bound: not nominating it", pod.metadata.name)
                return
        self._node_of[pod.metadata.uid] = node_name
        self._pods.setdefault(node_name, []).append(PodInfo.of(pod))

    def delete_nominated_pod_if_exists(self, pod: core_pb2.Pod) -> None:
        node_name = self._node_of.pop(pod.metadata.uid, None)
        if node_name is None:
            return
        pods = [p for p in self._pods.get(node_name, ()) if p.uid != pod.metadata.uid]
        if pods:
            self._pods[node_name] = pods
        else:
            self._pods.pop(node_name, None)

    def update_nominated_pod(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        """The pod changed. An update that neither sets nor clears status.nominatedNodeName keeps
        the nomination the scheduler made in memory (the status write naming it may not have
        come back yet); otherwise the status decides."""
        uid = old.metadata.uid
        nominating: NominatingInfo | None = None
        if not old.status.nominated_node_name and not new.status.nominated_node_name:
            node_name = self._node_of.get(uid)
            if node_name is None:
                return  # the common case: never nominated
            nominating = NominatingInfo(node_name, NominatingMode.OVERRIDE)
        self.delete_nominated_pod_if_exists(old)
        self.add_nominated_pod(new, nominating)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return list(self._pods.get(node_name, ()))

    def nominated_node_names(self) -> Collection[str]:
        return self._pods.keys()

    def nominated_node_of(self, pod: core_pb2.Pod) -> str | None:
        return self._node_of.get(pod.metadata.uid)
