"""The scheduler's view of a node: the Node object, the pods on it (bound and assumed) and the sum
of what they request (kubernetes pkg/scheduler/framework/types.go NodeInfo)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeGuard, TypeVar, runtime_checkable

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.conditions import node_is_ready
from scheduler.framework.host_ports import HostPort, host_ports
from scheduler.framework.resources import Resource, node_allocatable, pod_requests_pair
from scheduler.framework.status import Status

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0

T = TypeVar("T")
# A node's taints, as NodeInfo keeps them.
Taints = tuple[core_pb2.Taint, ...]


def pod_priority(pod: core_pb2.Pod) -> int:
    """spec.priority, 0 when unset (kubernetes component-helpers corev1.PodPriority)."""
    return int(pod.spec.priority) if pod.spec.HasField("priority") else 0


def has_pod_affinity(pod: core_pb2.Pod) -> bool:
    """Whether the pod has pod affinity or anti-affinity terms of any kind."""
    return bool(
        pod.spec.HasField("affinity")
        and (
            pod.spec.affinity.HasField("pod_affinity")
            or pod.spec.affinity.HasField("pod_anti_affinity")
        )
    )


def has_required_anti_affinity(pod: core_pb2.Pod) -> bool:
    return bool(
        pod.spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution
    )


@dataclass(frozen=True)
class PodInfo:
    """What the plugins read of a pod, read out of it once: for the pods on the nodes, and for the
    pod a scheduling attempt places (CycleState.pod_info). Read-only, its Resources included."""

    pod: core_pb2.Pod
    requests: Resource
    # With the scoring defaults for containers that request no cpu or memory.
    non_zero_requests: Resource
    # Read out of the pod once: plugins that count pods (topology spread) match every pod on
    # every node against a selector on each attempt.
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    namespace: str = ""
    terminating: bool = False
    uid: str = ""
    # spec.priority, 0 when unset: preemption compares it for every pod of every node it tries.
    priority: int = 0

    @classmethod
    def of(cls, pod: core_pb2.Pod) -> PodInfo:
        meta = pod.metadata
        requests, non_zero_requests = pod_requests_pair(pod)
        return cls(
            pod,
            requests,
            non_zero_requests,
            dict(meta.labels),
            meta.namespace,
            bool(meta.deletion_timestamp),
            str(meta.uid),
            pod_priority(pod),
        )

    def with_pod(self, pod: core_pb2.Pod) -> PodInfo:
        """This PodInfo for a copy of its pod that differs only in where it runs (the pod the
        scheduler assumes on its node)."""
        # Every field, named: dataclasses.replace costs several times as much.
        return PodInfo(
            pod,
            self.requests,
            self.non_zero_requests,
            self.labels,
            self.namespace,
            self.terminating,
            self.uid,
            self.priority,
        )

    @functools.cached_property
    def host_ports(self) -> tuple[HostPort, ...]:
        """Worked out on first use: only a pod asking for host ports makes the plugin look at
        the other pods' (kubernetes NodeInfo.UsedPorts)."""
        return host_ports(self.pod)


@dataclass
class NodeInfo:
    # None while pods name a node the scheduler has not seen (yet, or any more).
    node: core_pb2.Node | None = None
    pods: dict[str, PodInfo] = field(default_factory=dict)
    requested: Resource = field(default_factory=Resource)
    non_zero_requested: Resource = field(default_factory=Resource)
    allocatable: Resource = field(default_factory=Resource)
    # The pods with pod (anti-)affinity terms, and those with required anti-affinity, by uid: the
    # inter-pod affinity plugin looks only at these (kubernetes NodeInfo.PodsWithAffinity).
    pods_with_affinity: dict[str, PodInfo] = field(default_factory=dict)
    pods_with_required_anti_affinity: dict[str, PodInfo] = field(default_factory=dict)
    # Counts of this node's pods that a label selector matches, by (namespace, selector key), kept
    # for plugins that count them on every node per attempt (topology spread) and forgotten when
    # the node's pods change: a bind changes one node, so the others' counts are reused.
    selected_pod_counts: dict[tuple[str, bytes], int] = field(default_factory=dict)
    # What the filters read of the Node on every attempt, taken out of the protobuf once per node
    # update: reading protobuf fields costs more than the checks themselves.
    name: str = field(default="", init=False)
    labels: dict[str, str] = field(default_factory=dict, init=False)
    taints: Taints = field(default=(), init=False)
    unschedulable: bool = field(default=False, init=False)
    ready: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.node is not None:
            self.set_node(self.node)

    @classmethod
    def for_node(cls, node: core_pb2.Node, *pods: core_pb2.Pod) -> NodeInfo:
        info = cls()
        info.set_node(node)
        for pod in pods:
            info.add_pod(PodInfo.of(pod))
        return info

    def set_node(self, node: core_pb2.Node) -> None:
        self.node = node
        self.allocatable = node_allocatable(node)
        self.name = str(node.metadata.name)
        self.labels = dict(node.metadata.labels)
        self.taints = tuple(node.spec.taints)
        self.unschedulable = bool(node.spec.unschedulable)
        self.ready = node_is_ready(node)

    def snapshot(self) -> NodeInfo:
        """A copy whose pods may be added and removed without touching this one (preemption's dry
        runs, the nominated pods a filter pass counts); the Node and the PodInfos are shared."""
        out = NodeInfo.__new__(NodeInfo)
        out.__dict__.update(self.__dict__)
        out.pods = dict(self.pods)
        out.requested = self.requested.copy()
        out.non_zero_requested = self.non_zero_requested.copy()
        out.pods_with_affinity = dict(self.pods_with_affinity)
        out.pods_with_required_anti_affinity = dict(self.pods_with_required_anti_affinity)
        out.selected_pod_counts = dict(self.selected_pod_counts)
        return out

    def clear_node(self) -> None:
        """The Node is gone while pods still name it."""
        self.node = None
        self.name = ""
        self.labels, self.taints, self.unschedulable, self.ready = {}, (), False, False

    def add_pod(self, info: PodInfo) -> None:
        self.remove_pod(info.uid)
        self.pods[info.uid] = info
        self.selected_pod_counts.clear()
        self.requested.add(info.requests)
        self.non_zero_requested.add(info.non_zero_requests)
        if has_pod_affinity(info.pod):
            self.pods_with_affinity[info.uid] = info
            if has_required_anti_affinity(info.pod):
                self.pods_with_required_anti_affinity[info.uid] = info

    def remove_pod(self, uid: str) -> bool:
        info = self.pods.pop(uid, None)
        if info is None:
            return False
        self.selected_pod_counts.clear()
        self.requested.subtract(info.requests)
        self.non_zero_requested.subtract(info.non_zero_requests)
        self.pods_with_affinity.pop(uid, None)
        self.pods_with_required_anti_affinity.pop(uid, None)
        return True


FilterFunc = Callable[["CycleState", core_pb2.Pod, NodeInfo], Status]


@runtime_checkable
class StateData(Protocol):
    """Cycle state a plugin changes after PreFilter (its PreFilterExtensions add and remove pods):
    CycleState.clone copies it, other state is shared (kubernetes framework.StateData)."""

    def clone(self) -> StateData: ...


# The types of state seen to be StateData, and those seen not to be.
_CLONEABLE: set[type] = set()
_SHARED: set[type] = set()


def _cloneable(value: object) -> TypeGuard[StateData]:
    """Checked once per type: a protocol check costs a dry run's node more than its filters."""
    kind = type(value)
    if kind in _CLONEABLE:
        return True
    if kind in _SHARED:
        return False
    if isinstance(value, StateData):
        _CLONEABLE.add(kind)
        return True
    _SHARED.add(kind)
    return False


class CycleState:
    """Data plugins compute once per scheduling attempt (in PreFilter, PreScore) and read later."""

    def __init__(self) -> None:
        self._data: dict[str, object] = {}
        # Plugins whose PreFilter/PreScore returned Skip for this pod.
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()
        # The (name, filter) of the plugins not skipped, set by the first run_filter of the attempt.
        self.active_filters: list[tuple[str, FilterFunc]] | None = None
        # Of those, the ones that could not judge this attempt's nodes in bulk, set by
        # Framework.run_filter_table.
        self.remaining_filters: list[tuple[str, FilterFunc]] | None = None
        # Every node of the snapshot this attempt schedules against (not only the feasible ones),
        # for plugins that count pods cluster-wide (topology spread, inter-pod affinity, image
        # spread).
        self.all_nodes: Sequence[NodeInfo] = ()
        # The only nodes the PreFilter plugins allow (kubernetes PreFilterResult.NodeNames: the
        # intersection of what each plugin that names nodes named), None for any; and those
        # plugins, set by Framework.run_pre_filter.
        self.node_names: frozenset[str] | None = None
        self.node_names_plugins: list[str] = []
        self._pod_info: PodInfo | None = None

    def pod_info(self, pod: core_pb2.Pod) -> PodInfo:
        """The PodInfo of the pod this attempt places, made on first use: its requests and ports
        are read by several plugins, as Kubernetes' framework hands them its PodInfo."""
        info = self._pod_info
        if info is None or info.pod is not pod:
            info = self._pod_info = PodInfo.of(pod)
        return info

    def clone(self) -> CycleState:
        """A copy for a what-if (a node without some pods, with the nominated ones): the plugins'
        StateData cloned, the rest shared."""
        out = CycleState()
        out._data = {
            key: value.clone() if _cloneable(value) else value for key, value in self._data.items()
        }
        out.skip_filter = set(self.skip_filter)
        out.skip_score = set(self.skip_score)
        out.active_filters = self.active_filters
        out.remaining_filters = self.remaining_filters
        out.all_nodes = self.all_nodes
        out.node_names = self.node_names
        out.node_names_plugins = self.node_names_plugins
        out._pod_info = self._pod_info
        return out

    def write(self, key: str, value: object) -> None:
        self._data[key] = value

    def read(self, key: str, kind: type[T]) -> T | None:
        value = self._data.get(key)
        if type(value) is kind:  # the usual case, checked first: plugins read once per node
            return value
        return value if isinstance(value, kind) else None
