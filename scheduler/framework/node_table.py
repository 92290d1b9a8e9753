"""The nodes of a scheduling attempt as columns, one row per node: what the resource, cordon and
readiness filters and the resource scorers read, and on demand label values, taint lists and
derived counts as codes, so that plugins judge every node in a few array operations instead of one
Python call per plugin per node. kube-scheduler spreads its per-node calls over 16 goroutines; a
Python scheduler has one core, and at 1000 nodes those calls were most of its time."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from scheduler.framework.status import Status
from scheduler.framework.types import NodeInfo, Taints

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
MAX_DERIVED = 32
# Rows a derived column brings up to date one node at a time; more are worked out in bulk.
MAX_ROWS_ONE_AT_A_TIME = 16


@dataclass(frozen=True, eq=False)
class Domains:
    """The rows grouped by their value of a label, among the rows that carry every label of a
    set (topology domains): each row's group, an index into `values` (`len(values)` for the rows
    outside every group), and the groups that hold a row."""

    groups: Ints
    values: list[str]
    held: list[int]


class _Derived:
    """A derived column, with the rewrite count (NodeTable._rewrites) it is up to date with, and
    its sums over groups of rows (NodeTable.derived_sums), kept in step with it."""

    __slots__ = ("seen", "sums", "values")

    def __init__(self, values: Ints, seen: int) -> None:
        self.values, self.seen = values, seen
        self.sums: dict[Domains, Ints] = {}


class NodeTable:
    """Rows follow the order of `nodes`. Whoever changes a node tells update() (the scheduler cache
    does); the columns are read-only for everyone else."""

    def __init__(self, nodes: Sequence[NodeInfo]) -> None:
        self.nodes = nodes
        size = len(nodes)
        self.allocatable_milli_cpu: Ints = np.zeros(size, np.int64)
        self.allocatable_memory: Ints = np.zeros(size, np.int64)
        self.allocatable_ephemeral_storage: Ints = np.zeros(size, np.int64)
        self.allowed_pod_number: Ints = np.zeros(size, np.int64)
        self.requested_milli_cpu: Ints = np.zeros(size, np.int64)
        self.requested_memory: Ints = np.zeros(size, np.int64)
        self.requested_ephemeral_storage: Ints = np.zeros(size, np.int64)
        # With the scoring defaults for containers that request no cpu or memory.
        self.non_zero_milli_cpu: Ints = np.zeros(size, np.int64)
        self.non_zero_memory: Ints = np.zeros(size, np.int64)
        self.pod_count: Ints = np.zeros(size, np.int64)
        self.unschedulable: Bools = np.zeros(size, np.bool_)
        self.ready: Bools = np.zeros(size, np.bool_)
        # The nodes again, for picking many by row at once (TableRows).
        self.node_array: npt.NDArray[np.object_] = np.fromiter(nodes, np.object_, size)
        self._rows = {id(node): row for row, node in enumerate(nodes)}
        # The nodes' names by row (a table lasts while its nodes do: their names do not change).
        self.names = [node.name for node in nodes]
        self._rows_by_name = {name: row for row, name in enumerate(self.names)}
        self._labels: list[dict[str, str]] = [{} for _ in range(size)]
        # Label key -> each row's value as an index into the key's distinct values (-1: no such
        # label), and those values; worked out on first use, forgotten when a node's labels change.
        self._label_codes: dict[str, tuple[Ints, list[str]]] = {}
        # (label key, the labels a row needs to be in a group) -> domains(); forgotten with them.
        self._domains: dict[tuple[str, tuple[str, ...]], Domains] = {}
        # Columns derived from each node by a function (counts of a selector's pods, a pod's
        # scores), by key, least recently used first: worked out on first use and brought up to
        # date when next asked for, in the rows rewritten meanwhile. Rows are numbered by rewrite
        # in _rewritten, so that a column finds those past the count it last saw.
        self._derived: dict[object, _Derived] = {}
        self._rewrites = 0
        self._rewritten: Ints = np.zeros(size, np.int64)
        self._taints: list[Taints] = [() for _ in range(size)]
        self._taint_codes: tuple[Ints, list[Taints]] | None = None
        for row, node in enumerate(nodes):
            self._set_row(row, node)

    def __len__(self) -> int:
        return len(self.nodes)

    def update(self, nodes: Iterable[NodeInfo]) -> None:
        """Rewrites the rows of `nodes` (those of them in the table) from what they hold now."""
        for node in nodes:
            row = self._rows.get(id(node))
            if row is not None:
                self._set_row(row, node)

    def row_of(self, node_name: str) -> int | None:
        return self._rows_by_name.get(node_name)

    def rows_of(self, node_names: Collection[str]) -> Ints:
        """The rows of nodes all in the table, at C speed (KeyError for a name not in it)."""
        return np.fromiter(
            map(self._rows_by_name.__getitem__, node_names), np.int64, len(node_names)
        )

    def label_codes(self, key: str) -> tuple[Ints, list[str]]:
        """Each row's value of label `key`, as an index into the returned distinct values (-1 where
        the node has no such label)."""
        codes = self._label_codes.get(key)
        if codes is None:
            index: dict[str, int] = {}
            column = np.fromiter(
                (
                    -1
                    if (value := labels.get(key)) is None
                    else index.setdefault(value, len(index))
                    for labels in self._labels
                ),
                np.int64,
                len(self._labels),
            )
            codes = self._label_codes[key] = (column, list(index))
        return codes

    def domains(self, key: str, among: tuple[str, ...]) -> Domains:
        """The rows grouped by their value of label `key`, among the rows with every label in
        `among` (which holds `key`); worked out on first use, forgotten when a node's labels
        change."""
        domains = self._domains.get((key, among))
        if domains is None:
            codes, values = self.label_codes(key)
            within = codes >= 0
            for other in among:
                if other != key:
                    within &= self.label_codes(other)[0] >= 0
            groups = np.where(within, codes, len(values))
            held = np.bincount(groups, minlength=len(values) + 1)[:-1].nonzero()[0].tolist()
            domains = self._domains[(key, among)] = Domains(groups, values, held)
        return domains

    def derived(
        self,
        key: object,
        of_node: Callable[[NodeInfo], int],
        of_rows: Callable[[NodeTable, Ints], Ints] | None = None,
    ) -> Ints:
        """The column of of_node(node) for every row, kept under `key` (which must stand for
        of_node) and, when asked for again, worked out anew for the rows rewritten since.
        `of_rows(table, rows)`, if given, gives of_node's values for many rows at once. At most
        MAX_DERIVED are kept, the least recently used dropped first. Read-only."""
        column = self._derived.pop(key, None)
        if column is None:
            if len(self._derived) >= MAX_DERIVED:
                del self._derived[next(iter(self._derived))]
            size = len(self.nodes)
            values = (
                of_rows(self, np.arange(size, dtype=np.int64))
                if of_rows is not None
                else np.fromiter(map(of_node, self.nodes), np.int64, size)
            )
            column = _Derived(values, self._rewrites)
        elif column.seen != self._rewrites:
            stale = (self._rewritten > column.seen).nonzero()[0]
            before = column.values[stale] if column.sums else None  # a copy: fancy indexing
            if of_rows is not None and len(stale) > MAX_ROWS_ONE_AT_A_TIME:
                column.values[stale] = of_rows(self, stale)
            else:
                values, nodes = column.values, self.nodes
                for row in stale.tolist():
                    values[row] = of_node(nodes[row])
            if before is not None:
                self._shift_sums(column, stale, before)
            column.seen = self._rewrites
        self._derived[key] = column
        return column.values

    def derived_sums(
        self,
        key: object,
        of_node: Callable[[NodeInfo], int],
        domains: Domains,
        of_rows: Callable[[NodeTable, Ints], Ints] | None = None,
    ) -> Ints:
        """The sum of derived column `key` (as derived() takes it) over each group of `domains`
        (one of this table's), indexed as its values. Summed on first use, then kept in step with
        the column's rewritten rows: a bind changes one node's count, not its domain's whole sum.
        Read-only."""
        values = self.derived(key, of_node, of_rows)
        column = self._derived[key]
        sums = column.sums.get(domains)
        if sums is None:
            size = len(domains.values) + 1  # the last group: the rows outside every group
            sums = np.bincount(domains.groups, weights=values, minlength=size).astype(np.int64)
            column.sums[domains] = sums
        return sums[:-1]

    @staticmethod
    def _shift_sums(column: _Derived, rows: Ints, before: Ints) -> None:
        """Brings the column's sums up to date with its `rows`, which held `before`."""
        delta = column.values[rows] - before
        moved = delta.nonzero()[0]
        # Usually one row (the node a pod was bound to), for which Python's scalar steps cost
        # less than numpy's scatter.
        for row, by in zip(rows[moved].tolist(), delta[moved].tolist(), strict=True):
            for domains, sums in column.sums.items():
                sums[domains.groups[row]] += by

    def taint_codes(self) -> tuple[Ints, list[Taints]]:
        """Each row's taints as an index into the returned distinct taint lists (-1: untainted),
        so that a filter judges each distinct list once."""
        if self._taint_codes is None:
            index: dict[tuple[tuple[str, str, str], ...], int] = {}
            lists: list[Taints] = []
            column = np.full(len(self.nodes), -1, np.int64)
            for row, node in enumerate(self.nodes):
                if node.taints:
                    key = tuple((t.key, t.value, t.effect) for t in node.taints)
                    code = index.get(key)
                    if code is None:
                        code = index[key] = len(lists)
                        lists.append(node.taints)
                    column[row] = code
            self._taint_codes = (column, lists)
        return self._taint_codes

    def _set_row(self, row: int, node: NodeInfo) -> None:
        if node.labels != self._labels[row]:
            self._labels[row] = node.labels
            self._label_codes.clear()
            self._domains.clear()
            for column in self._derived.values():
                column.sums.clear()
        self._rewrites += 1
        self._rewritten[row] = self._rewrites
        if node.taints != self._taints[row]:
            self._taints[row] = node.taints
            self._taint_codes = None
        allocatable, requested, non_zero = node.allocatable, node.requested, node.non_zero_requested
        self.allocatable_milli_cpu[row] = allocatable.milli_cpu
        self.allocatable_memory[row] = allocatable.memory
        self.allocatable_ephemeral_storage[row] = allocatable.ephemeral_storage
        self.allowed_pod_number[row] = allocatable.allowed_pod_number
        self.requested_milli_cpu[row] = requested.milli_cpu
        self.requested_memory[row] = requested.memory
        self.requested_ephemeral_storage[row] = requested.ephemeral_storage
        self.non_zero_milli_cpu[row] = non_zero.milli_cpu
        self.non_zero_memory[row] = non_zero.memory
        self.pod_count[row] = len(node.pods)
        self.unschedulable[row] = node.unschedulable
        self.ready[row] = node.ready


@dataclass(frozen=True)
class Verdict:
    """A bulk filter's answer for every row: the rows it passes for certain, and rows it rejects
    for certain, each group with the status its `filter` gives them. Rows in neither are left to
    `filter`."""

    passing: Bools
    rejected: tuple[tuple[Bools, Status], ...] = ()


class TableRows(Sequence[NodeInfo]):
    """Some of a table's nodes (the feasible ones of an attempt), with their rows in it. The nodes
    are picked out of the table when first asked for: the plugins that score in bulk read the rows
    alone, and reading hundreds of scattered nodes costs more than their scoring."""

    def __init__(self, table: NodeTable, rows: Ints) -> None:
        self.table = table
        self.rows = rows
        self._nodes: list[NodeInfo] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> NodeInfo: ...

    @overload
    def __getitem__(self, index: slice) -> list[NodeInfo]: ...

    def __getitem__(self, index: int | slice) -> NodeInfo | list[NodeInfo]:
        if isinstance(index, slice):
            return self._list()[index]
        return self.table.nodes[int(self.rows[index])]

    def __iter__(self) -> Iterator[NodeInfo]:
        return iter(self._list())

    def _list(self) -> list[NodeInfo]:
        if self._nodes is None:
            self._nodes = self.table.node_array[self.rows].tolist()
        return self._nodes


def table_rows(nodes: Sequence[NodeInfo]) -> tuple[NodeTable, Ints]:
    """The table of `nodes` and their rows in it: the attempt's own when `nodes` came from it, else
    (tests, other callers) one made for them."""
    if isinstance(nodes, TableRows):
        return nodes.table, nodes.rows
    return NodeTable(nodes), np.arange(len(nodes), dtype=np.int64)


def taint_lists(nodes: Sequence[NodeInfo]) -> list[Taints]:
    """The distinct taint lists of the tainted nodes among `nodes` (through the table's taint codes
    when `nodes` carry one; else every tainted node's list)."""
    if isinstance(nodes, TableRows):
        codes, lists = nodes.table.taint_codes()
        if not lists:  # no node is tainted
            return []
        used = codes[nodes.rows]
        return [lists[code] for code in np.unique(used[used >= 0]).tolist()]
    return [n.taints for n in nodes if n.taints]
