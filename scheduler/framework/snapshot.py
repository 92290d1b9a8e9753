"""The node list a scheduling attempt runs against, with the index of nodes hosting pods that have
pod (anti-)affinity and the images on the nodes, so that inter-pod affinity and image locality cost
nothing for pods and clusters without either (kubernetes backend/cache/snapshot.go), and the nodes
as columns for the plugins that judge them in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scheduler.framework.image_states import ImageStates
from scheduler.framework.node_table import NodeTable
from scheduler.framework.types import NodeInfo


class NodeInfoList(list[NodeInfo]):
    def __init__(
        self,
        nodes: Iterable[NodeInfo],
        *,
        with_pod_affinity: list[NodeInfo],
        image_states: ImageStates,
    ) -> None:
        super().__init__(nodes)
        self.with_pod_affinity = with_pod_affinity
        self.image_states = image_states
        self._table: NodeTable | None = None
        self._changed: dict[int, NodeInfo] = {}  # by id: at most one entry per node

    def changed(self, node: NodeInfo) -> None:
        """The cache changed one of the nodes in place (a pod came or went, the Node was
        updated)."""
        if self._table is not None:
            self._changed[id(node)] = node

    @property
    def table(self) -> NodeTable:
        """Made on first use and kept with the list, so each attempt rewrites only the rows of the
        nodes that changed since the last one."""
        if self._table is None:
            self._table = NodeTable(self)
        elif self._changed:
            self._table.update(self._changed.values())
            self._changed.clear()
        return self._table


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
    return ImageStates.of(n.node for n in nodes if n.node is not None)


def nodes_with_required_anti_affinity(nodes: Sequence[NodeInfo]) -> list[NodeInfo]:
    return [n for n in nodes_with_pod_affinity(nodes) if n.pods_with_required_anti_affinity]


def node_table(nodes: Sequence[NodeInfo]) -> NodeTable:
    """The nodes as columns, up to date: the cache's when `nodes` is its snapshot, else (tests,
    other callers) made here."""
    if isinstance(nodes, NodeInfoList):
        return nodes.table
    return NodeTable(nodes)


def node_named(nodes: Sequence[NodeInfo], name: str) -> NodeInfo | None:
    """The node called `name` among `nodes`, found through their table's index."""
    row = node_table(nodes).row_of(name)
    return nodes[row] if row is not None else None
