"""Filters out nodes with a NoSchedule or NoExecute taint the pod does not tolerate, and prefers
nodes with fewer untolerated PreferNoSchedule taints (kubernetes plugins/tainttoleration)."""

from __future__ import annotations

from collections.abc import Sequence

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events as ce
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import NodeTable, TableRows, Verdict, taint_lists
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo, Taints
from scheduler.plugins.helper import taints
from scheduler.plugins.helper.normalize_score import default_normalize_score

NAME = "TaintToleration"
_PRE_SCORE_KEY = "PreScore" + NAME


class _PreferNoScheduleTolerations(list[core_pb2.Toleration]):
    """The pod's tolerations that can tolerate a PreferNoSchedule taint."""


class TaintToleration:
    name = NAME
    # Its Filter reads the node alone, not the pods on it (interfaces.NodeOnlyFilter).
    filter_reads_node_only = True

    def __init__(self) -> None:
        # One status per taint, made once: a tainted pool rejects the same pods on every node.
        self._rejections: dict[tuple[str, str], Status] = {}

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        return self._judge(node.taints, pod)

    def _judge(self, node_taints: Taints, pod: core_pb2.Pod) -> Status:
        if not node_taints:
            return SUCCESS
        taint = taints.first_untolerated(node_taints, pod.spec.tolerations)
        if taint is None:
            return SUCCESS
        key = (taint.key, taint.value)
        status = self._rejections.get(key)
        if status is None:
            status = self._rejections[key] = Status.unresolvable(
                f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"
            ).with_plugin(NAME)
            if len(self._rejections) > 1024:  # taints come and go; keep the memo small
                self._rejections.clear()
        return status

    def filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> Verdict | None:
        """Each distinct list of taints judged once, for all the nodes that carry it."""
        codes, taint_lists = table.taint_codes()
        passing = codes < 0
        rejected = []
        for code, node_taints in enumerate(taint_lists):
            status = self._judge(node_taints, pod)
            if status is SUCCESS:
                passing |= codes == code
            else:
                rejected.append((codes == code, status))
        return Verdict(passing, tuple(rejected))

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        # Every node would score the same with no PreferNoSchedule taint among them, so scoring
        # changes no choice: skip it, saving a call per node. The table's distinct taint lists
        # are asked first: in a cluster with no such taint at all, the feasible rows' lists are
        # not gathered for every pod.
        if isinstance(nodes, TableRows) and not any(
            map(_prefers_no_schedule, nodes.table.taint_codes()[1])
        ):
            return Status.skip()
        if not any(map(_prefers_no_schedule, taint_lists(nodes))):
            return Status.skip()
        state.write(
            _PRE_SCORE_KEY,
            _PreferNoScheduleTolerations(
                t for t in pod.spec.tolerations if t.effect in ("", taints.PREFER_NO_SCHEDULE)
            ),
        )
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        tolerations = state.read(_PRE_SCORE_KEY, _PreferNoScheduleTolerations)
        if tolerations is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        if not node.taints:
            return 0, SUCCESS
        count = sum(
            1
            for taint in node.taints
            if taint.effect == taints.PREFER_NO_SCHEDULE
            and not taints.tolerated(tolerations, taint.key, taint.value, taint.effect)
        )
        return count, SUCCESS

    def normalize_score(
        self, state: CycleState, pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        default_normalize_score(scores, reverse=True)
        return SUCCESS

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE)


def _prefers_no_schedule(node_taints: Taints) -> bool:
    return any(taint.effect == taints.PREFER_NO_SCHEDULE for taint in node_taints)


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A node added whose taints the pod tolerates, or whose last untolerated NoSchedule or
    NoExecute taint went (isSchedulableAfterNodeChange)."""
    return ce.became(
        lambda node: taints.first_untolerated(node.spec.taints, pod.spec.tolerations) is None,
        old,
        new,
    )


def new(args: PluginArgs) -> TaintToleration:
    return TaintToleration()
