"""Runs the enabled plugins at each extension point: the first Filter that rejects a node decides
its status; Score sums each plugin's normalized score times its weight (kubernetes
pkg/scheduler/framework/runtime/framework.go)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from scheduler.framework.cluster_events import PluginHint
from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.handle import StaticListers
from scheduler.framework.interfaces import (
    BulkFilterPlugin,
    EnqueueExtensions,
    EventSink,
    FilterPlugin,
    FilterTableFunc,
    Handle,
    NodeNamesFunc,
    NodeOnlyFilter,
    Plugin,
    PluginArgs,
    PodNominator,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterExtensions,
    PreFilterNodeNames,
    PreFilterPlugin,
    ReservePlugin,
    WithFramework,
    WithHandle,
)
from scheduler.framework.node_table import Bools, Ints, NodeTable, Verdict
from scheduler.framework.nominated_pods import NominatedPodsFilter
from scheduler.framework.nominating import NominatingMode, PostFilterResult
from scheduler.framework.registry import Registry
from scheduler.framework.scoring import Scoring
from scheduler.framework.status import SUCCESS, Code, Status
from scheduler.framework.types import CycleState, FilterFunc, NodeInfo, PodInfo

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
    # An index into `statuses` where the row's first rejection is known, else -1; None when no
    # row's is (no status).
    rejected: Ints | None
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
        self._node_only_filters: set[str] = set()
        # The PreFilter plugins that may name the only nodes for a pod, by plugin name.
        self._node_names: dict[str, NodeNamesFunc] = {}
        self._filter: list[FilterPlugin] = []
        # The (name, filter) of the filter plugins not skipped, by the set of those skipped.
        self._filters_without: dict[frozenset[str], list[tuple[str, FilterFunc]]] = {}
        # The bulk methods of the plugins that have them, by plugin name (empty without `bulk`):
        # found once here, as checking a plugin against a protocol costs more than a decision.
        self._filter_tables: dict[str, FilterTableFunc] = {}
        self._scoring = Scoring()
        self._pre_filter_extensions: list[PreFilterExtensions] = []
        self._post_filter: list[PostFilterPlugin] = []
        self._reserve: list[ReservePlugin] = []
        self._pre_bind: list[PreBindPlugin] = []
        # Set by the scheduler (connect): what plugins write with, the nominated pods, events.
        self._client: Client | None = None
        self._nominator: PodNominator | None = None
        self._events: EventSink | None = None
        self._nominated_filter = NominatedPodsFilter(self)
        # Cluster event -> the plugins whose rejections it may undo, with their hints.
        hints: dict[str, list[PluginHint]] = {}
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
                else factory(spec.args, self)
                if isinstance(factory, WithFramework)
                else factory(spec.args)
            )
            if plugin.name != spec.name:
                raise ProfileError(f"plugin {spec.name}'s factory built {plugin.name}")
            self.plugins[spec.name] = plugin
            if isinstance(plugin, PreEnqueuePlugin):
                self._pre_enqueue.append(plugin)
            if isinstance(plugin, PreFilterPlugin):
                self._pre_filter.append(plugin)
            if isinstance(plugin, PreFilterNodeNames):
                self._node_names[plugin.name] = plugin.pre_filter_node_names
            if isinstance(plugin, PreFilterExtensions):
                self._pre_filter_extensions.append(plugin)
            if isinstance(plugin, FilterPlugin):
                self._filter.append(plugin)
                if isinstance(plugin, NodeOnlyFilter) and plugin.filter_reads_node_only:
                    self._node_only_filters.add(plugin.name)
            if isinstance(plugin, PostFilterPlugin):
                self._post_filter.append(plugin)
            if bulk and isinstance(plugin, BulkFilterPlugin):
                self._filter_tables[plugin.name] = plugin.filter_table
            self._scoring.add(plugin, spec.weight, bulk=bulk)
            if isinstance(plugin, ReservePlugin):
                self._reserve.append(plugin)
            if isinstance(plugin, PreBindPlugin):
                self._pre_bind.append(plugin)
            if isinstance(plugin, EnqueueExtensions):
                for registered in plugin.events_to_register():
                    hints.setdefault(registered.event, []).append(
                        PluginHint(plugin.name, registered.hint)
                    )
        # Frozen once: asked for on every bind the informer sees.
        self.queueing_hints: Mapping[str, tuple[PluginHint, ...]] = {
            event: tuple(registered) for event, registered in hints.items()
        }

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    def connect(
        self,
        *,
        client: Client | None = None,
        nominator: PodNominator | None = None,
        events: EventSink | None = None,
    ) -> None:
        """What the scheduler running this framework gives it: the client its plugins write with
        (the handle's by default), its queue's nominator (kube-scheduler's SetPodNominator) and
        its event recorder."""
        self._client = client
        self._nominator = nominator
        self._events = events

    @property
    def client(self) -> Client | None:
        return self._client if self._client is not None else self.handle.client

    @property
    def nominator(self) -> PodNominator | None:
        return self._nominator

    @property
    def events(self) -> EventSink | None:
        return self._events

    @property
    def has_score_plugins(self) -> bool:
        return self._scoring.has_score_plugins

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
        """Success, Skip noted, or the first rejection. A plugin that names the only nodes that
        may take the pod narrows state.node_names to them, and if no node is left the pod is
        rejected (kubernetes RunPreFilterPlugins, PreFilterResult.Merge)."""
        for plugin in self._pre_filter:
            status = plugin.pre_filter(state, pod)
            if status.is_skip:
                state.skip_filter.add(plugin.name)
                continue
            if not status.is_success:
                return status.with_plugin(plugin.name)
            node_names = self._node_names.get(plugin.name)
            names = node_names(state, pod) if node_names is not None else None
            if names is None:
                continue
            state.node_names_plugins.append(plugin.name)
            state.node_names = names if state.node_names is None else state.node_names & names
            if not state.node_names:
                return Status.unresolvable(_not_satisfied(state.node_names_plugins)).with_plugin(
                    plugin.name
                )
        return SUCCESS

    def run_filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        """Success, or the status of the first plugin that rejects the node."""
        return self._run_filters(self._active_filters(state), state, pod, node)

    def run_filter_with_nominated_pods(
        self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo
    ) -> Status:
        """run_filter, counting the pods nominated to the node that `pod` must yield to (same or
        higher priority), then without them: NominatedPodsFilter."""
        return self._nominated_filter.run(state, pod, node)

    def nodes_with_nominated_pods(self) -> Collection[str]:
        """The nodes some pod is nominated to: run_filter_table's bulk verdicts do not count
        those pods, so these nodes need run_filter_with_nominated_pods."""
        return self._nominator.nominated_node_names() if self._nominator is not None else ()

    def has_pre_filter_extensions(self, state: CycleState) -> bool:
        """Whether a PreFilter plugin that counts pods runs for this attempt's pod."""
        return any(p.name not in state.skip_filter for p in self._pre_filter_extensions)

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status:
        """Each PreFilter plugin that counts pods, not skipped for `pod`, learns that `pod_to_add`
        is now on `node` (a copy the caller changed)."""
        for plugin in self._pre_filter_extensions:
            if plugin.name in state.skip_filter:
                continue
            status = plugin.add_pod(state, pod, pod_to_add, node)
            if not status.is_success:
                return Status.error(
                    f'running AddPod on PreFilter plugin "{plugin.name}": {status.message}'
                ).with_plugin(plugin.name)
        return SUCCESS

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status:
        for plugin in self._pre_filter_extensions:
            if plugin.name in state.skip_filter:
                continue
            status = plugin.remove_pod(state, pod, pod_to_remove, node)
            if not status.is_success:
                return Status.error(
                    f'running RemovePod on PreFilter plugin "{plugin.name}": {status.message}'
                ).with_plugin(plugin.name)
        return SUCCESS

    @property
    def has_post_filter_plugins(self) -> bool:
        return bool(self._post_filter)

    def run_post_filter(
        self, state: CycleState, pod: core_pb2.Pod, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status]:
        """Each PostFilter plugin until one succeeds or finds the pod unresolvable; otherwise
        Unschedulable with every plugin's reasons, and the last result that nominates
        (kubernetes RunPostFilterPlugins)."""
        result: PostFilterResult | None = None
        reasons: list[str] = []
        rejector = ""
        for plugin in self._post_filter:
            r, status = plugin.post_filter(state, pod, statuses)
            if status.is_success:
                return r, status
            if status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return r, status.with_plugin(plugin.name)
            if not status.is_rejected:
                return None, Status.error(status.message).with_plugin(plugin.name)
            info = r.nominating_info if r is not None else None
            if info is not None and info.mode is not NominatingMode.NOOP:
                result = r
            reasons.extend(status.reasons)
            rejector = rejector or plugin.name
        return result, Status.unschedulable(*reasons).with_plugin(rejector)

    def run_filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> TableFilter:
        """What the filters able to judge in bulk say of every row of `table`: the rows all of
        them pass for certain, and rows whose first rejection (in filter order) they know. The
        other filters are left to run_remaining_filters, node by node, for the rows passed; the
        rows in neither need run_filter."""
        # Made when first needed: most pods fit most nodes, and every array costs.
        passing: Bools | None = None  # every row, until a filter says otherwise
        rejected: Ints | None = None
        statuses: list[Status] = []
        remaining = []
        for name, filter_node in self._active_filters(state):
            filter_table = self._filter_tables.get(name)
            verdict = filter_table(state, pod, table) if filter_table is not None else None
            if verdict is None:
                remaining.append((name, filter_node))
                continue
            if isinstance(verdict, Verdict):
                passed, rejections = verdict.passing, verdict.rejected
            else:  # rows passed, none known rejected
                passed, rejections = verdict, ()
            if not remaining:  # no filter before it left a row to be judged node by node
                for rows, status in rejections:
                    if rejected is None:
                        rejected = np.full(len(table), -1, np.int64)
                    rejected[rows if passing is None else passing & rows] = len(statuses)
                    statuses.append(status if status.plugin == name else status.with_plugin(name))
            if passing is None:  # a copy: the verdict may be the table's own column
                passing = np.array(passed, np.bool_)
            else:
                passing &= passed
        state.remaining_filters = remaining
        if passing is None:
            passing = np.ones(len(table), np.bool_)
        return TableFilter(passing, rejected, statuses)

    def run_remaining_filters(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        """run_filter for a node of a row run_filter_table marked: the filters it left."""
        filters = state.remaining_filters
        return self._run_filters(
            filters if filters is not None else self._active_filters(state), state, pod, node
        )

    def active_filters(self, state: CycleState) -> list[tuple[str, FilterFunc]]:
        return self._active_filters(state)

    def filter_reads_node_only(self, name: str) -> bool:
        return name in self._node_only_filters

    def _active_filters(self, state: CycleState) -> list[tuple[str, FilterFunc]]:
        filters = state.active_filters
        if filters is None:  # once per attempt: this runs for hundreds of nodes
            # The same few sets of plugins skip pod after pod: each set's list is made once.
            skipped = frozenset(state.skip_filter)
            filters = self._filters_without.get(skipped)
            if filters is None:
                filters = self._filters_without[skipped] = [
                    (p.name, p.filter) for p in self._filter if p.name not in skipped
                ]
            state.active_filters = filters
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

    def run_pre_score(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> Status:
        return self._scoring.run_pre_score(state, pod, nodes)

    def run_score(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[dict[str, int], Status]:
        """The weighted sum of every score plugin's normalized score, by node name."""
        return self._scoring.run_score(state, pod, nodes)

    def run_score_totals(
        self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[Ints, Status]:
        """run_score's totals in the order of `nodes`."""
        return self._scoring.run_score_totals(state, pod, nodes)

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


def _not_satisfied(plugins: Collection[str]) -> str:
    """Why no node is left when the PreFilter plugins that name nodes named none in common
    (kubernetes RunPreFilterPlugins)."""
    if len(plugins) == 1:
        return f"node(s) didn't satisfy plugin {next(iter(plugins))}"
    return f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(plugins))}] simultaneously"
