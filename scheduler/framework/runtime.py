"""Runs the enabled plugins at each extension point: the first Filter that rejects a node decides
its status; Score sums each plugin's normalized score times its weight (kubernetes
pkg/scheduler/framework/runtime/framework.go)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework.handle import StaticListers
from scheduler.framework.interfaces import (
    BulkFilterPlugin,
    BulkScorePlugin,
    EnqueueExtensions,
    FilterPlugin,
    FilterTableFunc,
    Handle,
    NormalizeFunc,
    Plugin,
    PluginArgs,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    ReservePlugin,
    ScoreNormalizer,
    ScorePlugin,
    ScoreTableFunc,
    WithHandle,
)
from scheduler.framework.node_table import Bools, Ints, NodeTable, Verdict, table_rows
from scheduler.framework.registry import Registry
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    CycleState,
    FilterFunc,
    NodeInfo,
)

DEFAULT_SCHEDULER_NAME = "default-scheduler"


@dataclass(frozen=True)
class PluginSpec:
    name: str
    # Multiplies the plugin's score; ignored for plugins that do not score.
    weight: int = 1
    args: PluginArgs = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """Which plugins run, in order, for pods that name `scheduler_name` (a KubeSchedulerProfile)."""

    plugins: tuple[PluginSpec, ...]
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    # 0: adaptive, as kube-scheduler (all nodes below 100, fewer in large clusters).
    percentage_of_nodes_to_score: int = 0


class TableFilter(NamedTuple):
    """Framework.run_filter_table's answer, row by row."""

    passing: Bools
    # An index into `statuses` where the row's first rejection is known, else -1.
    rejected: Ints
    statuses: list[Status]


class ProfileError(ValueError):
    pass


class Framework:
    def __init__(
        self,
        registry: Registry,
        profile: Profile,
        *,
        bulk: bool = True,
        handle: Handle | None = None,
    ) -> None:
        """Without `bulk`, every plugin judges one node per call even where it can judge them all in
        one (BulkFilterPlugin, BulkScorePlugin): the same decisions, only slower. `handle` is
        what plugins made WithHandle list objects from and write with: the scheduler's
        SharedInformerFactory; by default, no objects and no client."""
        self.profile = profile
        self.handle: Handle = handle if handle is not None else StaticListers()
        self.plugins: dict[str, Plugin] = {}
        self._pre_enqueue: list[PreEnqueuePlugin] = []
        self._pre_filter: list[PreFilterPlugin] = []
        self._filter: list[FilterPlugin] = []
        self._pre_score: list[PreScorePlugin] = []
        self._score: list[tuple[ScorePlugin, int]] = []
        # The bulk methods of the plugins that have them, by plugin name (empty without `bulk`):
        # found once here, as checking a plugin against a protocol costs more than a decision.
        self._filter_tables: dict[str, FilterTableFunc] = {}
        self._score_tables: dict[str, ScoreTableFunc] = {}
        self._normalizers: dict[str, NormalizeFunc] = {}
        self._reserve: list[ReservePlugin] = []
        self._pre_bind: list[PreBindPlugin] = []
        # Cluster event -> the plugins whose rejections it may undo.
        self._interested: dict[str, set[str]] = {}
        for spec in profile.plugins:
            if spec.name in self.plugins:
                raise ProfileError(f"plugin {spec.name} is enabled more than once")
            if spec.weight < 1:
                raise ProfileError(
                    f"plugin {spec.name}: score weight must be positive, got {spec.weight}"
                )
            factory = registry.factory(spec.name)
            plugin = (
                factory(spec.args, self.handle)
                if isinstance(factory, WithHandle)
                else factory(spec.args)
            )
            if plugin.name != spec.name:
                raise ProfileError(f"plugin {spec.name}'s factory built {plugin.name}")
            self.plugins[spec.name] = plugin
            if isinstance(plugin, PreEnqueuePlugin):
                self._pre_enqueue.append(plugin)
            if isinstance(plugin, PreFilterPlugin):
                self._pre_filter.append(plugin)
            if isinstance(plugin, FilterPlugin):
                self._filter.append(plugin)
            if isinstance(plugin, PreScorePlugin):
                self._pre_score.append(plugin)
            if isinstance(plugin, ScorePlugin):
                self._score.append((plugin, spec.weight))
            if bulk and isinstance(plugin, BulkFilterPlugin):
                self._filter_tables[plugin.name] = plugin.filter_table
            if bulk and isinstance(plugin, BulkScorePlugin):
                self._score_tables[plugin.name] = plugin.score_table
            if isinstance(plugin, ScoreNormalizer):
                self._normalizers[plugin.name] = plugin.normalize_score
            if isinstance(plugin, ReservePlugin):
                self._reserve.append(plugin)
            if isinstance(plugin, PreBindPlugin):
                self._pre_bind.append(plugin)
            if isinstance(plugin, EnqueueExtensions):
                for event in plugin.events_to_register():
                    self._interested.setdefault(event, set()).add(plugin.name)

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    def plugins_interested_in(self, event: str) -> frozenset[str]:
        return frozenset(self._interested.get(event, ()))

    @property
    def has_score_plugins(self) -> bool:
        return bool(self._score)

    @property
    def has_pre_enqueue_plugins(self) -> bool:
        return bool(self._pre_enqueue)

    def run_pre_enqueue(self, pod: core_pb2.Pod) -> Status:
        """Success, or the status of the first PreEnqueue plugin that keeps the pod out of the
        active queue."""
        for plugin in self._pre_enqueue:
            status = plugin.pre_enqueue(pod)
            if not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        for plugin in self._pre_filter:
            status = plugin.pre_filter(state, pod)
            if status.is_skip:
                state.skip_filter.add(plugin.name)
            elif not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        """Success, or the status of the first plugin that rejects the node."""
        return self._run_filters(self._active_filters(state), state, pod, node)

    def run_filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> TableFilter:
        """What the filters able to judge in bulk say of every row of `table`: the rows all of
        them pass for certain, and rows whose first rejection (in filter order) they know. The
        other filters are left to run_remaining_filters, node by node, for the rows passed; the
        rows in neither need run_filter."""
        passing = np.ones(len(table), np.bool_)
        rejected = np.full(len(table), -1, np.int64)
        statuses: list[Status] = []
        remaining = []
        for name, filter_node in self._active_filters(state):
            filter_table = self._filter_tables.get(name)
            verdict = filter_table(state, pod, table) if filter_table is not None else None
            if verdict is None:
                remaining.append((name, filter_node))
                continue
            if not isinstance(verdict, Verdict):
                verdict = Verdict(verdict)
            if not remaining:  # no filter before it left a row to be judged node by node
                for rows, status in verdict.rejected:
                    rejected[passing & rows] = len(statuses)
                    statuses.append(status if status.plugin == name else status.with_plugin(name))
            passing &= verdict.passing
        state.remaining_filters = remaining
        return TableFilter(passing, rejected, statuses)

    def run_remaining_filters(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        """run_filter for a node of a row run_filter_table marked: the filters it left."""
        filters = state.remaining_filters
        return self._run_filters(
            filters if filters is not None else self._active_filters(state), state, pod, node
        )

    def _active_filters(self, state: CycleState) -> list[tuple[str, FilterFunc]]:
        filters = state.active_filters
        if filters is None:  # once per attempt: this runs for hundreds of nodes
            filters = state.active_filters = [
                (p.name, p.filter) for p in self._filter if p.name not in state.skip_filter
            ]
        return filters

    @staticmethod
    def _run_filters(
        filters: list[tuple[str, FilterFunc]], state: CycleState, pod: core_pb2.Pod, node: NodeInfo
    ) -> Status:
        for name, filter_node in filters:
            status = filter_node(state, pod, node)
            if status is not SUCCESS and not status.is_success:
                return status if status.plugin == name else status.with_plugin(name)
        return SUCCESS

    def run_pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo]) -> Status:
        for plugin in self._pre_score:
            status = plugin.pre_score(state, pod, nodes)
            if status.is_skip:
                state.skip_score.add(plugin.name)
            elif not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_score(
        self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo]
    ) -> tuple[dict[str, int], Status]:
        """The weighted sum of every score plugin's normalized score, by node name."""
        totals, status = self.run_score_totals(state, pod, nodes)
        if not status.is_success:
            return {}, status
        return dict(zip((n.name for n in nodes), totals.tolist(), strict=True)), SUCCESS

    def run_score_totals(
        self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo]
    ) -> tuple[Ints, Status]:
        """run_score's totals in the order of `nodes`."""
        totals = np.zeros(len(nodes), np.int64)
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
            totals += scores * weight
        return totals, SUCCESS

    @staticmethod
    def _score_each(
        plugin: ScorePlugin, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo]
    ) -> tuple[Ints, Status]:
        scores: list[int] = []
        score_node = plugin.score
        for node in nodes:
            score, status = score_node(state, pod, node)
            if status is not SUCCESS and not status.is_success:
                return np.zeros(0, np.int64), status
            scores.append(score)
        return np.array(scores, np.int64), SUCCESS

    def run_reserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """Each Reserve plugin in order; the first that rejects or fails stops them (the caller then
        runs run_unreserve for all of them)."""
        for plugin in self._reserve:
            status = plugin.reserve(state, pod, node_name)
            if status.is_rejected:
                return status.with_plugin(plugin.name)
            if not status.is_success:
                return Status.error(
                    f"running Reserve plugin {plugin.name!r}: {status.message}"
                ).with_plugin(plugin.name)
        return SUCCESS

    def run_unreserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> None:
        """Every Reserve plugin's unreserve, in reverse order, as Kubernetes does."""
        for plugin in reversed(self._reserve):
            plugin.unreserve(state, pod, node_name)

    async def run_pre_bind(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """Each PreBind plugin in order; the first that rejects or fails stops them (the caller
        then unreserves)."""
        for plugin in self._pre_bind:
            status = await plugin.pre_bind(state, pod, node_name)
            if status.is_rejected:
                return status.with_plugin(plugin.name)
            if not status.is_success:
                return Status.error(
                    f'running PreBind plugin "{plugin.name}": {status.message}'
                ).with_plugin(plugin.name)
        return SUCCESS
