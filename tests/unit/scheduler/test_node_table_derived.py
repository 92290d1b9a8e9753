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


def _pods_of(info: NodeInfo) -> int:
    return len(info.pods)


def _sums_by_hand(infos: list[NodeInfo], key: str, among: tuple[str, ...]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for info in infos:
        if all(k in info.labels for k in among):
            value = info.labels[key]
            sums[value] = sums.get(value, 0) + len(info.pods)
    return sums


def _sums(table: NodeTable, key: str, among: tuple[str, ...]) -> dict[str, int]:
    domains = table.domains(key, among)
    sums = table.derived_sums("pods", _pods_of, domains).tolist()
    return {domains.values[code]: sums[code] for code in domains.held}


def test_a_columns_sums_over_domains_follow_its_rows_and_the_labels() -> None:
    """Sums of a derived column per label value, among the nodes with every label of a set (the
    topology spread's domains), are kept with the column: after pods come and go they equal a
    count made afresh, and a node relabelled, or losing a label, moves its pods to its new
    domain or out of every one."""
    labels = [{"zone": "abc"[i % 3], "rack": f"r{i % 2}"} for i in range(9)]
    del labels[4]["rack"]  # zone b without a rack: in no domain of ("zone", "rack")
    infos = [node_info(node(f"n{i}", cpu="8", labels=labels[i])) for i in range(9)]
    table = NodeTable(infos)
    among = ("zone", "rack")
    assert _sums(table, "zone", among) == {"a": 0, "b": 0, "c": 0}
    assert table.domains("zone", among).values == ["a", "b", "c"]

    for i, target in enumerate([0, 1, 1, 4, 4, 4, 8]):
        _place(infos[target], f"p{i}", "100m")
        table.update([infos[target]])
        assert _sums(table, "zone", among) == _sums_by_hand(infos, "zone", among)
        assert _sums(table, "rack", among) == _sums_by_hand(infos, "rack", among)
    assert _sums(table, "zone", among) == {"a": 1, "b": 2, "c": 1}
    assert _sums(table, "zone", ("zone",)) == {"a": 1, "b": 5, "c": 1}

    gone = next(iter(infos[1].pods))
    infos[1].remove_pod(gone)
    table.update([infos[1]])
    assert _sums(table, "zone", among) == {"a": 1, "b": 1, "c": 1}

    relabelled = node(f"n{4}", cpu="8", labels={"zone": "d", "rack": "r0"})
    infos[4].set_node(relabelled)  # its three pods now count, in a zone of their own
    infos[0].set_node(node("n0", cpu="8", labels={"rack": "r0"}))  # no zone: out of them all
    table.update([infos[4], infos[0]])
    assert _sums(table, "zone", among) == _sums_by_hand(infos, "zone", among)
    assert _sums(table, "zone", among) == {"a": 0, "b": 1, "c": 1, "d": 3}


def test_a_domain_sum_is_not_summed_again_when_one_row_changes() -> None:
    """After the first sum, a rewritten row shifts its domain's sum by what the row's value
    changed: the column asks of_node for that row alone and the sum stays exact."""
    infos = [node_info(node(f"n{i}", cpu="8", labels={"zone": "ab"[i % 2]})) for i in range(6)]
    table = NodeTable(infos)
    column = _Requested()
    domains = table.domains("zone", ("zone",))
    assert table.derived_sums("cpu", column.of_node, domains, column.of_rows).tolist() == [0, 0]
    _place(infos[3], "a", "2")
    table.update([infos[3]])
    assert table.derived_sums("cpu", column.of_node, domains, column.of_rows).tolist() == [0, 2000]
    assert column.bulk == [6] and column.nodes == ["n3"]
