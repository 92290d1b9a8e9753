"""The extension points a plugin may implement (kubernetes pkg/scheduler/framework/interface.go).

A plugin is any object with a `name`; the framework finds out which points it implements by
checking it against these protocols, so a plugin implements only what it needs."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client
from scheduler.framework.cluster_events import ClusterEventWithHint
from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.node_table import Bools, Ints, NodeTable, Verdict
from scheduler.framework.nominating import PostFilterResult
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState, FilterFunc, NodeInfo, PodInfo


@runtime_checkable
class Plugin(Protocol):
    @property
    def name(self) -> str: ...


@runtime_checkable
class PreEnqueuePlugin(Plugin, Protocol):
    def pre_enqueue(self, pod: core_pb2.Pod) -> Status:
        """Whether the pod may enter the active queue at all; a pod refused here waits, never
        tried, until an update of it is let through (scheduling gates)."""


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        """Runs once per attempt before any Filter; may reject the pod outright or return Skip."""


@runtime_checkable
class NodeOnlyFilter(Plugin, Protocol):
    """A Filter whose verdict reads the node alone (its name, labels, taints, conditions), never
    the pods on it: taking pods away or giving them back leaves its verdict as it was, so a
    preemption dry run need not ask it again for each pod it tries."""

    filter_reads_node_only: bool


@runtime_checkable
class PreFilterNodeNames(Plugin, Protocol):
    """A PreFilter that can tell from the pod alone the only nodes that may take it (a DaemonSet
    pod's matchFields metadata.name): the framework then filters those nodes alone, and every
    other node is rejected unseen (kubernetes PreFilterResult.NodeNames)."""

    def pre_filter_node_names(self, state: CycleState, pod: core_pb2.Pod) -> frozenset[str] | None:
        """After a successful pre_filter: those nodes' names, or None for any node."""


@runtime_checkable
class PreFilterExtensions(Plugin, Protocol):
    """A PreFilter whose state counts pods (topology spread, inter-pod affinity) keeps it true
    when a what-if adds or removes a pod on a node: the nominated pods a filter pass counts,
    the victims preemption takes away (kubernetes PreFilterExtensions)."""

    def add_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status: ...

    def remove_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        """Whether the pod may run on the node: success, or unschedulable with reasons."""


@runtime_checkable
class BulkFilterPlugin(FilterPlugin, Protocol):
    def filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> Bools | Verdict | None:
        """Judged in bulk: the rows whose nodes `filter` would pass for certain, or a Verdict that
        also names rows it would reject and with what status; the framework asks `filter` about
        the others. None: cannot tell in bulk for this pod, ask `filter` about every node."""


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    def post_filter(
        self, state: CycleState, pod: core_pb2.Pod, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status]:
        """Runs when no node passed the filters (`statuses` says why each failed): may make the
        pod schedulable later (preemption), answering the node it is nominated to. Success
        stops the PostFilter plugins; a rejection lets the next one try."""


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        """Runs once per attempt before Score, with the feasible nodes; may return Skip."""


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        """How much the plugin likes the node for the pod; 0..100 after normalize_score."""


@runtime_checkable
class BulkScorePlugin(ScorePlugin, Protocol):
    def score_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable, rows: Ints
    ) -> Ints | None:
        """The scores `score` would give the nodes of `rows`, in that order, computed in bulk.
        None: cannot for this pod, ask `score` about each node."""


@runtime_checkable
class ScoreNormalizer(Plugin, Protocol):
    def normalize_score(
        self, state: CycleState, pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        """Rescales the raw scores of all nodes (by name) in place into 0..100."""


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """The pod is assumed on the node: claim what the plugin keeps for it there."""

    def unreserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> None:
        """A later step failed (another Reserve, or the bind): release what reserve claimed. Must be
        idempotent, as it also runs for plugins whose reserve never ran."""


@runtime_checkable
class PreBindPlugin(Plugin, Protocol):
    async def pre_bind(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """Runs in the binding cycle, before the pod is bound to the node it was reserved on: the
        API writes the binding depends on (VolumeBinding's claims and volumes), waited for.
        A rejection or an error sends the pod back to the queue, after unreserve."""


@runtime_checkable
class EnqueueExtensions(Plugin, Protocol):
    def events_to_register(self) -> tuple[ClusterEventWithHint, ...]:
        """The cluster events (scheduler/framework/cluster_events.py) that may make a pod this
        plugin rejected schedulable, each with its queueing hint; the queue retries such a pod
        only on those, and only when the hint says the event may help it."""


M = TypeVar("M", bound=Message)
M_co = TypeVar("M_co", bound=Message, covariant=True)


class Lister(Protocol[M_co]):
    """Cached objects of one kind, by key (namespace/name, or name for a cluster-scoped kind); an
    informer is one. Read-only: copy an object before changing it."""

    def get(self, key: str) -> M_co | None: ...

    def list(self) -> Sequence[M_co]: ...

    def by_namespace(self, namespace: str) -> Sequence[M_co]:
        """The objects of one namespace (a namespaced kind's), as client-go's namespace
        lister: from an index, not a pass over every object."""
        ...


class Handle(Protocol):
    """What the framework gives the plugins that need more than the pod and the nodes
    (framework.Handle): listers of the kinds they read, and the client of the writes a PreBind
    makes (None where there is no cluster, as in unit tests)."""

    def lister(self, resource: Resource[M]) -> Lister[M]: ...

    @property
    def client(self) -> Client | None: ...


class PodNominator(Protocol):
    """The pods nominated to nodes, where preemption is making room for them (the scheduling
    queue's nominator: scheduler/backend/queue/nominator.py)."""

    def nominated_pods_for_node(self, node_name: str) -> Sequence[PodInfo]: ...

    def nominated_node_names(self) -> Collection[str]: ...


class EventSink(Protocol):
    """Records events about API objects (podplane.client.events.EventRecorder)."""

    def record(
        self, obj: Message, type_: str, reason: str, message: str, *, action: str = ""
    ) -> None: ...


class FrameworkHandle(Protocol):
    """What the framework gives the plugins that act on the cluster from within a cycle
    (preemption): its listers and client, the nominated pods, the events, and its own filter
    runs (kubernetes framework.Handle)."""

    @property
    def handle(self) -> Handle: ...

    @property
    def client(self) -> Client | None: ...

    @property
    def scheduler_name(self) -> str: ...

    @property
    def nominator(self) -> PodNominator | None: ...

    @property
    def events(self) -> EventSink | None: ...

    def run_filter_with_nominated_pods(
        self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo
    ) -> Status: ...

    def active_filters(self, state: CycleState) -> list[tuple[str, FilterFunc]]:
        """The (name, filter) of the plugins the attempt runs, in order (not skipped)."""

    def filter_reads_node_only(self, name: str) -> bool:
        """Whether plugin `name`'s Filter is a NodeOnlyFilter."""

    def has_pre_filter_extensions(self, state: CycleState) -> bool: ...

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status: ...

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status: ...


NormalizeFunc = Callable[[CycleState, core_pb2.Pod, dict[str, int]], Status]
FilterTableFunc = Callable[[CycleState, core_pb2.Pod, NodeTable], Bools | Verdict | None]
NodeNamesFunc = Callable[[CycleState, core_pb2.Pod], frozenset[str] | None]
ScoreTableFunc = Callable[[CycleState, core_pb2.Pod, NodeTable, Ints], Ints | None]

# A plugin's arguments as the profile gives them: decoded JSON or YAML.
PluginArgs = Mapping[str, JSONValue]


class WithHandle:
    """Marks a plugin factory that takes the framework's Handle as well as its arguments
    (Kubernetes' factories all take one; most plugins here need only their arguments)."""

    def __init__(self, factory: Callable[[PluginArgs, Handle], Plugin]) -> None:
        self.factory = factory

    def __call__(self, args: PluginArgs, handle: Handle) -> Plugin:
        return self.factory(args, handle)


class WithFramework:
    """Marks a plugin factory that takes the framework itself (a FrameworkHandle) as well as its
    arguments: a PostFilter that runs the filters again and writes to the cluster."""

    def __init__(self, factory: Callable[[PluginArgs, FrameworkHandle], Plugin]) -> None:
        self.factory = factory

    def __call__(self, args: PluginArgs, framework: FrameworkHandle) -> Plugin:
        return self.factory(args, framework)


# Builds a plugin from its arguments (an empty mapping when the profile gives none), and from the
# framework's handle too for a factory WithHandle, from the framework for one WithFramework.
PluginFactory = Callable[[PluginArgs], Plugin] | WithHandle | WithFramework
