"""The node list a scheduling attempt runs against, with the index of nodes hosting pods that have
pod (anti-)affinity and the images on the nodes, so that inter-pod affinity and image locality cost
nothing for pods and clusters without either (kubernetes backend/cache/snapshot.go)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from scheduler.framework.image_states import ImageStates
from scheduler.framework.types import NodeInfo


class NodeInfoList(list[NodeInfo]):
    def __init__(self, nodes: Iterable[NodeInfo], *, with_pod_affinity: list[NodeInfo],
                 image_states: ImageStates) -> None:
        super().__init__(nodes)
        self.with_pod_affinity = with_pod_affinity
        self.image_states = image_states


def nodes_with_pod_affinity(nodes: Sequence[NodeInfo]) -> Sequence[NodeInfo]:
    """The nodes hosting pods with pod (anti-)affinity terms: from the cache's index when `nodes` is
    its snapshot, else (tests, other callers) by looking at every node."""
    if isinstance(nodes, NodeInfoList):
        return nodes.with_pod_affinity
    return [n for n in nodes if n.pods_with_affinity]


def image_states(nodes: Sequence[NodeInfo]) -> ImageStates:
    """The images on the nodes: the cache's index, or (tests, other callers) computed here."""
    if isinstance(nodes, NodeInfoList):
        return nodes.image_states
    return ImageStates.of(n.node for n in nodes)


def nodes_with_required_anti_affinity(nodes: Sequence[NodeInfo]) -> list[NodeInfo]:
    return [n for n in nodes_with_pod_affinity(nodes) if n.pods_with_required_anti_affinity]
