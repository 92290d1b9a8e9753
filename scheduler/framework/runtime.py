"""Runs the enabled plugins at each extension point: the first Filter that rejects a node decides its
status; Score sums each plugin's normalized score times its weight
(kubernetes pkg/scheduler/framework/runtime/framework.go)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scheduler.framework.interfaces import (EnqueueExtensions, FilterPlugin, Plugin,
                                            PreFilterPlugin, PreScorePlugin, ReservePlugin,
                                            ScoreNormalizer, ScorePlugin)
from scheduler.framework.registry import Registry
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import MAX_NODE_SCORE, MIN_NODE_SCORE, CycleState, NodeInfo

DEFAULT_SCHEDULER_NAME = "default-scheduler"


@dataclass(frozen=True)
class PluginSpec:
    name: str
    # Multiplies the plugin's score; ignored for plugins that do not score.
    weight: int = 1
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """Which plugins run, in order, for pods that name `scheduler_name` (a KubeSchedulerProfile)."""
    plugins: tuple[PluginSpec, ...]
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    # 0: adaptive, as kube-scheduler (all nodes below 100, fewer in large clusters).
    percentage_of_nodes_to_score: int = 0


class ProfileError(ValueError):
    pass


class Framework:
    def __init__(self, registry: Registry, profile: Profile) -> None:
        self.profile = profile
        self.plugins: dict[str, Plugin] = {}
        self._pre_filter: list[PreFilterPlugin] = []
        self._filter: list[FilterPlugin] = []
        self._pre_score: list[PreScorePlugin] = []
        self._score: list[tuple[ScorePlugin, int]] = []
        self._normalizers: set[str] = set()
        self._reserve: list[ReservePlugin] = []
        # Cluster event -> the plugins whose rejections it may undo.
        self._interested: dict[str, set[str]] = {}
        for spec in profile.plugins:
            if spec.name in self.plugins:
                raise ProfileError(f"plugin {spec.name} is enabled more than once")
            if spec.weight < 1:
                raise ProfileError(f"plugin {spec.name}: score weight must be positive, "
                                   f"got {spec.weight}")
            plugin = registry.factory(spec.name)(spec.args)
            if plugin.name != spec.name:
                raise ProfileError(f"plugin {spec.name}'s factory built {plugin.name}")
            self.plugins[spec.name] = plugin
            if isinstance(plugin, PreFilterPlugin):
                self._pre_filter.append(plugin)
            if isinstance(plugin, FilterPlugin):
                self._filter.append(plugin)
            if isinstance(plugin, PreScorePlugin):
                self._pre_score.append(plugin)
            if isinstance(plugin, ScorePlugin):
                self._score.append((plugin, spec.weight))
            if isinstance(plugin, ScoreNormalizer):
                self._normalizers.add(plugin.name)
            if isinstance(plugin, ReservePlugin):
                self._reserve.append(plugin)
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

    def run_pre_filter(self, state: CycleState, pod: Any) -> Status:
        for plugin in self._pre_filter:
            status = plugin.pre_filter(state, pod)
            if status.is_skip:
                state.skip_filter.add(plugin.name)
            elif not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_filter(self, state: CycleState, pod: Any, node: NodeInfo) -> Status:
        """Success, or the status of the first plugin that rejects the node."""
        filters = state.active_filters
        if filters is None:  # once per attempt: this runs for hundreds of nodes
            filters = state.active_filters = [
                (p.name, p.filter) for p in self._filter if p.name not in state.skip_filter]
        for name, filter_node in filters:
            status = filter_node(state, pod, node)
            if status is not SUCCESS and not status.is_success:
                return status if status.plugin == name else status.with_plugin(name)
        return SUCCESS

    def run_pre_score(self, state: CycleState, pod: Any, nodes: list[NodeInfo]) -> Status:
        for plugin in self._pre_score:
            status = plugin.pre_score(state, pod, nodes)
            if status.is_skip:
                state.skip_score.add(plugin.name)
            elif not status.is_success:
                return status.with_plugin(plugin.name)
        return SUCCESS

    def run_score(self, state: CycleState, pod: Any,
                  nodes: list[NodeInfo]) -> tuple[dict[str, int], Status]:
        """The weighted sum of every score plugin's normalized score, by node name."""
        # Lists in the order of `nodes` rather than dicts, and checks with min/max: this runs for
        # every feasible node of every attempt.
        names = [n.name for n in nodes]
        totals = [0] * len(nodes)
        for plugin, weight in self._score:
            if plugin.name in state.skip_score:
                continue
            scores: list[int] = []
            score_node = plugin.score
            for node in nodes:
                score, status = score_node(state, pod, node)
                if status is not SUCCESS and not status.is_success:
                    return {}, status.with_plugin(plugin.name)
                scores.append(score)
            if plugin.name in self._normalizers and isinstance(plugin, ScoreNormalizer):
                by_name = dict(zip(names, scores))
                status = plugin.normalize_score(state, pod, by_name)
                if not status.is_success:
                    return {}, status.with_plugin(plugin.name)
                scores = [by_name[name] for name in names]
            if scores and (min(scores) < MIN_NODE_SCORE or max(scores) > MAX_NODE_SCORE):
                name, score = next((n, s) for n, s in zip(names, scores)
                                   if not MIN_NODE_SCORE <= s <= MAX_NODE_SCORE)
                return {}, Status.error(
                    f"plugin {plugin.name} returned an invalid score {score} for node {name}, "
                    f"it should be in the range [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}]"
                ).with_plugin(plugin.name)
            totals = [t + s * weight for t, s in zip(totals, scores)]
        return dict(zip(names, totals)), SUCCESS

    def run_reserve(self, state: CycleState, pod: Any, node_name: str) -> Status:
        """Each Reserve plugin in order; the first that rejects or fails stops them (the caller then
        runs run_unreserve for all of them)."""
        for plugin in self._reserve:
            status = plugin.reserve(state, pod, node_name)
            if status.is_rejected:
                return status.with_plugin(plugin.name)
            if not status.is_success:
                return Status.error(f"running Reserve plugin {plugin.name!r}: {status.message}"
                                    ).with_plugin(plugin.name)
        return SUCCESS

    def run_unreserve(self, state: CycleState, pod: Any, node_name: str) -> None:
        """Every Reserve plugin's unreserve, in reverse order, as Kubernetes does."""
        for plugin in reversed(self._reserve):
            plugin.unreserve(state, pod, node_name)
