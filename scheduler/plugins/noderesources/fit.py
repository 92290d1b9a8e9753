"""Fits a pod only where the node's allocatable cpu, memory, ephemeral storage, extended resources
and pod count cover what the pods already there request plus what this one does; scores the nodes
with the LeastAllocated strategy (kubernetes plugins/noderesources/fit.go)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events as ce
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Ints, NodeTable, Verdict
from scheduler.framework.resources import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    Resource,
    node_allocatable,
    pod_requests_pair,
)
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.noderesources import resource_allocation
from scheduler.plugins.noderesources.least_allocated import (
    least_allocated_cpu_memory,
    least_allocated_cpu_memory_table,
    least_allocated_scorer,
)

NAME = "NodeResourcesFit"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME
_FILTER_KEY = "Filter" + NAME
LEAST_ALLOCATED = "LeastAllocated"


def insufficient_resources(request: Resource, node: NodeInfo) -> list[str]:
    """The reasons the node cannot take a pod requesting `request`, in Kubernetes' order."""
    return insufficient(request, node.allocatable, node.requested, len(node.pods))


TOO_MANY_PODS = "Too many pods"


def short_of(resource: str) -> str:
    """The reason a node lacks room for `resource` (Kubernetes' "Insufficient <resource>")."""
    return f"Insufficient {resource}"


def insufficient(
    request: Resource, allocatable: Resource, requested: Resource, pod_count: int
) -> list[str]:
    """insufficient_resources for a node of that allocatable, with `pod_count` pods requesting
    `requested` in all (what a preemption dry run's sums give)."""
    # The common case first, without building a list: it runs for hundreds of nodes per attempt.
    if (
        pod_count < allocatable.allowed_pod_number
        and not request.scalar
        and request.milli_cpu <= allocatable.milli_cpu - requested.milli_cpu
        and request.memory <= allocatable.memory - requested.memory
        and request.ephemeral_storage <= allocatable.ephemeral_storage - requested.ephemeral_storage
    ):
        return []
    reasons = []
    if pod_count + 1 > allocatable.allowed_pod_number:
        reasons.append(TOO_MANY_PODS)
    if request.is_zero():
        return reasons
    for name in (CPU, MEMORY, EPHEMERAL_STORAGE, *sorted(request.scalar)):
        wanted = request.get(name)
        if wanted > 0 and wanted > allocatable.get(name) - requested.get(name):
            reasons.append(short_of(name))
    return reasons


def _short_code(node: NodeInfo, wanted: tuple[int, int, int]) -> int:
    """What a node is short of for a pod requesting `wanted` (milli-CPU, memory, ephemeral
    storage; no scalar resources), as filter_table's bits."""
    allocatable, requested = node.allocatable, node.requested
    milli_cpu, memory, ephemeral_storage = wanted
    return (
        (len(node.pods) + 1 > allocatable.allowed_pod_number)
        | (0 < milli_cpu and milli_cpu > allocatable.milli_cpu - requested.milli_cpu) << 1
        | (0 < memory and memory > allocatable.memory - requested.memory) << 2
        | (
            0 < ephemeral_storage
            and ephemeral_storage > allocatable.ephemeral_storage - requested.ephemeral_storage
        )
        << 3
    )


def _short_codes(table: NodeTable, rows: Ints, wanted: tuple[int, int, int]) -> Ints:
    """_short_code of the table's `rows`, at once."""
    milli_cpu, memory, ephemeral_storage = wanted
    codes = (table.pod_count[rows] + 1 > table.allowed_pod_number[rows]).astype(np.int64)
    if milli_cpu > 0:
        free = table.allocatable_milli_cpu[rows] - table.requested_milli_cpu[rows]
        codes |= (milli_cpu > free) << 1
    if memory > 0:
        codes |= (memory > table.allocatable_memory[rows] - table.requested_memory[rows]) << 2
    if ephemeral_storage > 0:
        free = table.allocatable_ephemeral_storage[rows] - table.requested_ephemeral_storage[rows]
        codes |= (ephemeral_storage > free) << 3
    return codes


# What each bit of filter_table's code says, in insufficient_resources' order.
_REASONS = (TOO_MANY_PODS, short_of(CPU), short_of(MEMORY), short_of(EPHEMERAL_STORAGE))


@functools.cache
def _short_of(code: int) -> Status:
    return Status.unschedulable(*(reason for bit, reason in enumerate(_REASONS) if code >> bit & 1))


class NodeResourcesFit:
    name = NAME

    def __init__(self, resources: tuple[resource_allocation.ResourceWeight, ...]) -> None:
        self.resources = resources
        self._scorer = least_allocated_scorer(resources)
        self._cpu_memory = resource_allocation.cpu_memory_weights(resources)

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return (
            ce.ClusterEventWithHint(ce.ASSIGNED_POD_DELETE, _after_pod_deleted),
            *ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE),
        )

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        state.write(_PRE_FILTER_KEY, state.pod_info(pod).requests)
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        request = state.read(_PRE_FILTER_KEY, Resource)
        if request is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        reasons = insufficient_resources(request, node)
        return Status.unschedulable(*reasons) if reasons else SUCCESS

    def filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> Verdict | None:
        """insufficient_resources for every node at once: the nodes that fit, and those that do
        not grouped by their reasons (at most 15 combinations), so that a pod that fits nowhere
        (a preemptor, a pod too big for any node) is judged without a call per node."""
        request = state.read(_PRE_FILTER_KEY, Resource)
        if request is None or request.scalar:
            return None
        # Kept with the table, as the scores are: the pods of a workload ask for the same, and
        # between two of them only the rows of the nodes they went to are worked out again.
        wanted = (request.milli_cpu, request.memory, request.ephemeral_storage)
        codes = table.derived(
            (_FILTER_KEY, *wanted),
            functools.partial(_short_code, wanted=wanted),
            functools.partial(_short_codes, wanted=wanted),
        )
        passing = codes == 0
        if passing.all():
            return Verdict(passing)
        rejected = tuple(
            (codes == code, _short_of(code)) for code in np.unique(codes[~passing]).tolist()
        )
        return Verdict(passing, rejected)

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        state.write(
            _PRE_SCORE_KEY,
            resource_allocation.PodRequestList(
                resource_allocation.pod_request_list(
                    state.pod_info(pod), self.resources, use_requested=False
                )
            ),
        )
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        requests = state.read(_PRE_SCORE_KEY, resource_allocation.PodRequestList)
        if requests is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        if self._cpu_memory is not None:
            return least_allocated_cpu_memory(
                node, requests[0], requests[1], self._cpu_memory
            ), SUCCESS
        return resource_allocation.score(
            node, requests, self.resources, self._scorer, use_requested=False
        ), SUCCESS

    def score_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable, rows: Ints
    ) -> Ints | None:
        requests = state.read(_PRE_SCORE_KEY, resource_allocation.PodRequestList)
        if requests is None or self._cpu_memory is None:
            return None
        # Every node's score for a pod of these requests, kept with the table: the pods of a
        # workload ask for the same, and between two of them only the nodes they went to change.
        cpu, memory, weights = requests[0], requests[1], self._cpu_memory
        scores = table.derived(
            (_PRE_SCORE_KEY, cpu, memory, weights),
            functools.partial(
                least_allocated_cpu_memory, pod_cpu=cpu, pod_memory=memory, weights=weights
            ),
            functools.partial(
                least_allocated_cpu_memory_table, pod_cpu=cpu, pod_memory=memory, weights=weights
            ),
        )
        return scores[rows]


def _after_pod_deleted(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A bound pod deleted or finished frees its node's resources (isSchedulableAfterPodChange);
    an unscheduled one held none."""
    deleted = ce.as_pod(old)
    if deleted is not None and not deleted.spec.node_name:
        return ce.QueueingHint.SKIP
    return ce.QueueingHint.QUEUE


def could_hold(request: Resource, node: core_pb2.Node) -> bool:
    """Whether the node's allocatable, empty, holds the request (kubernetes isFit against a
    fresh NodeInfo): the most a node change can offer a pod."""
    allocatable = node_allocatable(node)
    if allocatable.allowed_pod_number < 1:
        return False
    return all(request.get(name) <= allocatable.get(name) for name in request.names())


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A node added or changed that could hold the pod's requests (isSchedulableAfterNodeChange,
    which asks the same of any update: a node's allocatable may grow)."""
    node = ce.as_node(new)
    if node is None:
        return ce.QueueingHint.QUEUE
    fits = could_hold(pod_requests_pair(pod)[0], node)
    return ce.QueueingHint.QUEUE if fits else ce.QueueingHint.SKIP


def new(args: PluginArgs) -> NodeResourcesFit:
    strategy = dict(args.get("scoringStrategy") or {})
    kind = strategy.get("type", LEAST_ALLOCATED)
    if kind != LEAST_ALLOCATED:
        raise ValueError(f"{NAME}: scoring strategy {kind} is not supported")
    return NodeResourcesFit(resource_allocation.resources_from_args(strategy, NAME))
