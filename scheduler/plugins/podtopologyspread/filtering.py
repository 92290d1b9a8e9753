"""PodTopologySpread's filtering state: the matching pods in each topology domain among the nodes
that count, and every node's verdict at once (kubernetes plugins/podtopologyspread/filtering.go)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from podplane.api.core.v1 import core_pb2
from scheduler.framework.node_table import Bools, NodeTable
from scheduler.plugins.nodeaffinity import RequiredNodeAffinity
from scheduler.plugins.podtopologyspread.constraints import COUNT, Constraint, count_matching

# The verdicts on a domain, and on the nodes without a topology key.
_PASSES, _SKEWED, _MISSING = 0, 1, 2


@dataclass
class PreFilterState:
    constraints: list[Constraint]
    # (topology key, value) -> matching pods in that domain, for every eligible domain.
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    # Per constraint, (1 if it selects the pod itself, min_match): the same for every node, so
    # PreFilter works them out once rather than Filter on each node.
    fixed: list[tuple[int, int]] = field(default_factory=list)

    def clone(self) -> PreFilterState:
        return PreFilterState(self.constraints, dict(self.counts), list(self.fixed))

    def min_match(self, c: Constraint) -> int:
        """The emptiest domain's count, or 0 while there are fewer domains than minDomains."""
        nums = [n for (key, _), n in self.counts.items() if key == c.topology_key]
        if len(nums) < c.min_domains:
            return 0
        return min(nums, default=0)


def pre_filter_state(pod: core_pb2.Pod, hard: list[Constraint], table: NodeTable) -> PreFilterState:
    """The counts of every domain of the nodes that count (those with every topology key and,
    if the pod names nodes, its required node affinity's), and what each constraint fixes."""
    s = PreFilterState(hard)
    # Most pods name no nodes; then every node with the keys counts, whatever the pod.
    any_node = not pod.spec.node_selector and not pod.spec.affinity.node_affinity.HasField(
        "required_during_scheduling_ignored_during_execution"
    )
    if any_node:
        _count_among_all(s, pod.metadata.namespace, table)
    else:
        _count_among_affine(s, pod, table)
    s.fixed = [(1 if c.selects(pod) else 0, s.min_match(c)) for c in hard]
    return s


def _count_among_all(s: PreFilterState, namespace: str, table: NodeTable) -> None:
    """The nodes that count are those with every topology key: the same for every pod of these
    constraints, so their domains, and each domain's sum, are kept with the table."""
    among = tuple(c.topology_key for c in s.constraints)
    for c in s.constraints:
        domains = table.domains(c.topology_key, among)
        matching = table.derived_sums(
            (COUNT, namespace, c.selector_key),
            functools.partial(count_matching, c=c, namespace=namespace),
            domains,
        ).tolist()
        for code in domains.held:
            s.counts[(c.topology_key, domains.values[code])] = matching[code]


def _count_among_affine(s: PreFilterState, pod: core_pb2.Pod, table: NodeTable) -> None:
    """The counts for a pod whose required node affinity or nodeSelector picks the nodes that
    count (besides every topology key): worked out for this pod alone."""
    namespace = pod.metadata.namespace
    eligible = RequiredNodeAffinity.of(pod).matches_table(table)
    for c in s.constraints:
        eligible &= table.label_codes(c.topology_key)[0] >= 0
    for c in s.constraints:
        codes, values = table.label_codes(c.topology_key)
        counted = table.derived(
            (COUNT, namespace, c.selector_key),
            functools.partial(count_matching, c=c, namespace=namespace),
        )
        # The rows that do not count go to a last bin, left out: cheaper than picking out the
        # rows that count, twice, for each constraint.
        binned = np.where(eligible, codes, len(values))
        in_domain = np.bincount(binned, minlength=len(values) + 1)[:-1]
        matching = np.bincount(binned, weights=counted, minlength=len(values) + 1)[:-1]
        for code in np.flatnonzero(in_domain).tolist():
            s.counts[(c.topology_key, values[code])] = int(matching[code])


def table_verdicts(s: PreFilterState, table: NodeTable) -> tuple[Bools, Bools, Bools]:
    """Filter's verdict on every row: (passing, missing a topology key, too skewed), each row
    rejected by the first constraint it fails, as Filter checks them in order."""
    if not s.constraints:
        size = len(table)
        return np.ones(size, np.bool_), np.zeros(size, np.bool_), np.zeros(size, np.bool_)
    first, *others = (
        _row_verdicts(s, c, self_match, min_match, table)
        for c, (self_match, min_match) in zip(s.constraints, s.fixed, strict=True)
    )
    passing, missing_label, too_skewed = first == _PASSES, first == _MISSING, first == _SKEWED
    for verdict in others:
        missing_label |= passing & (verdict == _MISSING)
        too_skewed |= passing & (verdict == _SKEWED)
        passing &= verdict == _PASSES
    return passing, missing_label, too_skewed


def _row_verdicts(
    s: PreFilterState, c: Constraint, self_match: int, min_match: int, table: NodeTable
) -> npt.NDArray[np.int8]:
    """One constraint's verdict on every row, judged once per domain."""
    codes, values = table.label_codes(c.topology_key)
    limit = c.max_skew + min_match - self_match
    # Indexed by code; the last entry, for code -1, is the rows without the label.
    by_code = np.array(
        [_SKEWED if s.counts.get((c.topology_key, v), 0) > limit else _PASSES for v in values]
        + [_MISSING],
        np.int8,
    )
    return by_code[codes]
