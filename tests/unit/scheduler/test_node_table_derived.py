"""Columns derived from the table's nodes (scores for a pod's requests, counts of a selector's
pods) are kept with the table and, when read again, worked out anew for the rows whose nodes
changed since, and only those: one node at a time for a few, in bulk for many."""

from __future__ import annotations

from scheduler.framework.node_table import MAX_DERIVED, MAX_ROWS_ONE_AT_A_TIME, Ints, NodeTable
from scheduler.framework.types import NodeInfo, PodInfo
from tests.unit.scheduler.schedtest import node, node_info, pod


class _Requested:
    """A column of each node's requested millicores, recording how it was worked out."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.bulk: list[int] = []

    def of_node(self, info: NodeInfo) -> int:
        self.nodes.append(info.name)
        return info.requested.milli_cpu

    def of_rows(self, table: NodeTable, rows: Ints) -> Ints:
        self.bulk.append(len(rows))
        return table.requested_milli_cpu[rows]


def _place(info: NodeInfo, name: str, cpu: str) -> None:
    p = pod(name, cpu=cpu)
    p.spec.node_name = info.name
    info.add_pod(PodInfo.of(p))


def test_a_column_follows_the_rows_rewritten_since_it_was_last_read() -> None:
    infos = [node_info(node(f"n{i:02}", cpu="8")) for i in range(40)]
    table = NodeTable(infos)
    column = _Requested()
    assert table.derived("cpu", column.of_node, column.of_rows).tolist() == [0] * 40
    assert column.bulk == [40] and column.nodes == []

    _place(infos[3], "a", "1")
    table.update([infos[3]])
    assert table.derived("cpu", column.of_node, column.of_rows)[3] == 1000
    assert column.nodes == ["n03"] and column.bulk == [40]

    many = infos[10 : 11 + MAX_ROWS_ONE_AT_A_TIME]
    for i, info in enumerate(many):
        _place(info, f"b{i}", "2")
    table.update(many)
    values = table.derived("cpu", column.of_node, column.of_rows).tolist()
    assert values == [info.requested.milli_cpu for info in infos]
    assert column.bulk == [40, len(many)] and column.nodes == ["n03"]

    table.derived("cpu", column.of_node, column.of_rows)  # nothing changed: nothing worked out
    assert column.bulk == [40, len(many)] and column.nodes == ["n03"]


def test_the_least_recently_read_column_is_dropped_first() -> None:
    infos = [node_info(node(f"n{i}")) for i in range(3)]
    table = NodeTable(infos)
    columns = [_Requested() for _ in range(MAX_DERIVED + 1)]
    for key, column in enumerate(columns[:MAX_DERIVED]):
        table.derived(key, column.of_node, column.of_rows)
    table.derived(0, columns[0].of_node, columns[0].of_rows)  # read again: the most recent
    table.derived(MAX_DERIVED, columns[-1].of_node, columns[-1].of_rows)  # drops column 1
    table.derived(0, columns[0].of_node, columns[0].of_rows)
    table.derived(1, columns[1].of_node, columns[1].of_rows)
    assert columns[0].bulk == [3]  # kept
    assert columns[1].bulk == [3, 3]  # worked out again
