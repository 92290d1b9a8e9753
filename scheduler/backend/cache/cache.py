"""What the scheduler believes is on each node: the pods bound there and the pods it has *assumed*
there while their binding is in flight, so consecutive decisions see each other
(kubernetes pkg/scheduler/backend/cache). Pods are keyed by uid."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from scheduler.framework.image_states import ImageStates
from scheduler.framework.snapshot import NodeInfoList
from scheduler.framework.types import NodeInfo, PodInfo

log = logging.getLogger(__name__)


@dataclass
class _PodState:
    pod: core_pb2.Pod
    assumed: bool


def _uid(pod: core_pb2.Pod) -> str:
    return str(pod.metadata.uid)


class SchedulerCache:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}
        # Names of the nodes hosting pods with pod (anti-)affinity, so that pods without any need
        # not look at every node (kubernetes Snapshot.havePodsWithAffinityNodeInfoList).
        self._affinity_nodes: set[str] = set()
        self._images = ImageStates()
        # The last node_infos() list, kept until the set of nodes (or of affinity nodes) changes:
        # NodeInfos change in place, so pods coming and going need no new list (Kubernetes updates
        # its snapshot incrementally rather than sorting every node on every attempt).
        self._snapshot: NodeInfoList | None = None

    # ------------------------------------------------------------------ reads
    def node_infos(self) -> list[NodeInfo]:
        """The nodes that exist, in a stable order. The scheduling cycle reads them without
        awaiting, so no copy is needed for it to see one consistent state. The same list comes back
        until a node comes or goes: callers must not change it."""
        if self._snapshot is None:
            self._snapshot = NodeInfoList(
                [info for _, info in sorted(self._nodes.items()) if info.node is not None],
                with_pod_affinity=[
                    info
                    for name in sorted(self._affinity_nodes)
                    if (info := self._nodes[name]).node is not None
                ],
                image_states=self._images,
            )
        return self._snapshot

    def node_info(self, name: str) -> NodeInfo | None:
        info = self._nodes.get(name)
        return info if info is not None and info.node is not None else None

    def is_assumed(self, pod: core_pb2.Pod) -> bool:
        state = self._pods.get(_uid(pod))
        return state is not None and state.assumed

    def contains(self, pod: core_pb2.Pod) -> bool:
        return _uid(pod) in self._pods

    def pod_count(self) -> int:
        return len(self._pods)

    # ------------------------------------------------------------------ nodes
    def add_node(self, node: core_pb2.Node) -> None:
        info = self._node_info_for(node.metadata.name)
        if info.node is None:
            self._snapshot = None
        info.set_node(node)
        self._changed(info)
        self._images.set_node(node)

    def update_node(self, node: core_pb2.Node) -> None:
        self.add_node(node)

    def remove_node(self, node: core_pb2.Node) -> None:
        self._images.remove_node(node.metadata.name)
        info = self._nodes.get(node.metadata.name)
        if info is None:
            return
        self._snapshot = None
        if info.pods:
            # Its pods are still bound to it until they are deleted; keep counting them.
            info.clear_node()
        else:
            del self._nodes[node.metadata.name]

    # ------------------------------------------------------------------ bound pods (informer)
    def add_pod(self, pod: core_pb2.Pod) -> None:
        """A pod seen bound to a node; confirms an assumed pod, wherever it ended up."""
        state = self._pods.get(_uid(pod))
        if state is not None:
            if state.assumed and state.pod.spec.node_name != pod.spec.node_name:
                log.warning(
                    "pod %s/%s was assumed on %s but is bound to %s",
                    pod.metadata.namespace,
                    pod.metadata.name,
                    state.pod.spec.node_name,
                    pod.spec.node_name,
                )
            self._remove_from_node(state.pod)
        self._pods[_uid(pod)] = _PodState(pod, assumed=False)
        self._add_to_node(pod)

    def update_pod(self, pod: core_pb2.Pod) -> None:
        self.add_pod(pod)

    def remove_pod(self, pod: core_pb2.Pod) -> None:
        state = self._pods.pop(_uid(pod), None)
        if state is not None:
            self._remove_from_node(state.pod)

    # ------------------------------------------------------------------ assumed pods (scheduler)
    def assume_pod(self, pod: core_pb2.Pod, info: PodInfo | None = None) -> None:
        """Counts `pod` (a copy with spec.nodeName set) on its node before the bind is confirmed.
        `info`, the PodInfo the scheduling attempt made of the pod, saves making it again."""
        if _uid(pod) in self._pods:
            raise ValueError(
                f"pod {pod.metadata.namespace}/{pod.metadata.name} is already in the "
                "cache; it cannot be assumed"
            )
        self._pods[_uid(pod)] = _PodState(pod, assumed=True)
        self._add_to_node(pod, info.with_pod(pod) if info is not None else None)

    def forget_pod(self, pod: core_pb2.Pod) -> None:
        """Undoes assume_pod after a failed bind; a pod already confirmed bound stays."""
        state = self._pods.get(_uid(pod))
        if state is not None and state.assumed:
            del self._pods[_uid(pod)]
            self._remove_from_node(state.pod)

    # ------------------------------------------------------------------ internals
    def _node_info_for(self, name: str) -> NodeInfo:
        """The node's NodeInfo, made if there is none yet (not made to be thrown away on every
        pod and heartbeat, as setdefault would)."""
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo()
        return info

    def _add_to_node(self, pod: core_pb2.Pod, pod_info: PodInfo | None = None) -> None:
        info = self._node_info_for(pod.spec.node_name)
        info.add_pod(pod_info if pod_info is not None else PodInfo.of(pod))
        self._changed(info)
        if info.pods_with_affinity and pod.spec.node_name not in self._affinity_nodes:
            self._affinity_nodes.add(pod.spec.node_name)
            self._snapshot = None

    def _changed(self, info: NodeInfo) -> None:
        if self._snapshot is not None:
            self._snapshot.changed(info)

    def _remove_from_node(self, pod: core_pb2.Pod) -> None:
        info = self._nodes.get(pod.spec.node_name)
        if info is None:
            return
        info.remove_pod(_uid(pod))
        self._changed(info)
        if not info.pods_with_affinity and pod.spec.node_name in self._affinity_nodes:
            self._affinity_nodes.discard(pod.spec.node_name)
            self._snapshot = None
        if info.node is None and not info.pods:
            del self._nodes[pod.spec.node_name]
