"""The scoring extension points: PreScore, then each Score plugin's scores (in bulk where the
plugin can), normalized into 0..100 and summed times the plugin's weight (kubernetes
framework/runtime RunPreScorePlugins, RunScorePlugins)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import (
    BulkScorePlugin,
    NormalizeFunc,
    Plugin,
    PreScorePlugin,
    ScoreNormalizer,
    ScorePlugin,
    ScoreTableFunc,
)
from scheduler.framework.node_table import Ints, NodeTable, table_rows
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import MAX_NODE_SCORE, MIN_NODE_SCORE, CycleState, NodeInfo


class Scoring:
    def __init__(self) -> None:
        self._pre_score: list[PreScorePlugin] = []
        self._score: list[tuple[ScorePlugin, int]] = []
        # The bulk and normalize methods of the plugins that have them, by plugin name.
        self._score_tables: dict[str, ScoreTableFunc] = {}
        self._normalizers: dict[str, NormalizeFunc] = {}

    def add(self, plugin: Plugin, weight: int, *, bulk: bool) -> None:
        """Takes the plugin's scoring points, if it has any; its bulk score only with `bulk`."""
        if isinstance(plugin, PreScorePlugin):
            self._pre_score.append(plugin)
        if isinstance(plugin, ScorePlugin):
            self._score.append((plugin, weight))
        if bulk and isinstance(plugin, BulkScorePlugin):
            self._score_tables[plugin.name] = plugin.score_table
        if isinstance(plugin, ScoreNormalizer):
            self._normalizers[plugin.name] = plugin.normalize_score

    @property
    def has_score_plugins(self) -> bool:
        return bool(self._score)

    def run_pre_score(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> Status:
        for plugin in self._pre_score:
            status = plugin.pre_score(state, pod, nodes)
            if status.is_skip:
                state.skip_score.add(plugin.name)
            elif not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_score(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[dict[str, int], Status]:
        """The weighted sum of every score plugin's normalized score, by node name."""
        totals, status = self.run_score_totals(state, pod, nodes)
        if not status.is_success:
            return {}, status
        return dict(zip((n.name for n in nodes), totals.tolist(), strict=True)), SUCCESS

    def run_score_totals(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[Ints, Status]:
        """run_score's totals in the order of `nodes`."""
        totals: Ints | None = None
        rows: tuple[NodeTable, Ints] | None = None
        for plugin, weight in self._score:
            if plugin.name in state.skip_score:
                continue
            scores: Ints | None = None
            score_table = self._score_tables.get(plugin.name)
            if score_table is not None:
                rows = rows or table_rows(nodes)
                scores = score_table(state, pod, *rows)
            if scores is None:
                scores, status = self._score_each(plugin, state, pod, nodes)
                if not status.is_success:
                    return np.zeros(0, np.int64), status.with_plugin(plugin.name)
            normalize = self._normalizers.get(plugin.name)
            if normalize is not None:
                names = [n.name for n in nodes]
                by_name = dict(zip(names, scores.tolist(), strict=True))
                status = normalize(state, pod, by_name)
                if not status.is_success:
                    return np.zeros(0, np.int64), status.with_plugin(plugin.name)
                scores = np.fromiter((by_name[name] for name in names), np.int64, len(names))
            if len(scores) and (scores.min() < MIN_NODE_SCORE or scores.max() > MAX_NODE_SCORE):
                bad = int(np.flatnonzero((scores < MIN_NODE_SCORE) | (scores > MAX_NODE_SCORE))[0])
                return np.zeros(0, np.int64), Status.error(
                    f"plugin {plugin.name} returned an invalid score {scores[bad]} for node "
                    f"{nodes[bad].name}, it should be in the range "
                    f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}]"
                ).with_plugin(plugin.name)
            weighted = scores * weight if weight != 1 else scores
            if totals is None:  # the first plugin's start the sum: a copy, not the plugin's own
                totals = weighted.astype(np.int64, copy=weighted is scores)
            else:
                totals += weighted
        return (totals if totals is not None else np.zeros(len(nodes), np.int64)), SUCCESS

    @staticmethod
    def _score_each(
        plugin: ScorePlugin, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[Ints, Status]:
        scores: list[int] = []
        score_node = plugin.score
        for node in nodes:
            score, status = score_node(state, pod, node)
            if status is not SUCCESS and not status.is_success:
                return np.zeros(0, np.int64), status
            scores.append(score)
        return np.array(scores, np.int64), SUCCESS
