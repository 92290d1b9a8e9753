"""What the resource scoring plugins share: the node's allocatable and requested amounts with the
pod added, for each scored resource (kubernetes plugins/noderesources/resource_allocation.go)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.resources import CPU, MEMORY, Resource, is_scalar_resource
from scheduler.framework.types import NodeInfo, PodInfo


@dataclass(frozen=True)
class ResourceWeight:
    name: str
    weight: int = 1


DEFAULT_RESOURCES = (ResourceWeight(CPU, 1), ResourceWeight(MEMORY, 1))

# (requested, allocatable) per resource, in the order of the scorer's resources -> 0..100.
Scorer = Callable[[Sequence[int], Sequence[int]], int]


def resources_from_args(args: PluginArgs, plugin: str) -> tuple[ResourceWeight, ...]:
    """The `resources` argument ([{"name": "cpu", "weight": 1}, ...]), defaulting to cpu and
    memory."""
    raw = args.get("resources")
    if raw is None:
        return DEFAULT_RESOURCES
    out = []
    for i, item in enumerate(raw):
        name, weight = item.get("name", ""), item.get("weight", 1)
        if not name or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise ValueError(f"{plugin}: resources[{i}]: needs a name and a weight in 1..100")
        out.append(ResourceWeight(name, weight))
    return tuple(out)


def cpu_memory_weights(resources: Sequence[ResourceWeight]) -> tuple[int, int] | None:
    """(cpu weight, memory weight) when the resources are cpu then memory (the default): the
    scorers then read those two from the node directly, for speed."""
    if [r.name for r in resources] == [CPU, MEMORY]:
        return resources[0].weight, resources[1].weight
    return None


class PodRequestList(list[int]):
    """A pod's requests in the order of the plugin's resources, kept in the cycle state by
    PreScore for Score."""


def pod_request_list(
    pod: PodInfo, resources: Sequence[ResourceWeight], use_requested: bool
) -> list[int]:
    """What the pod requests of each resource; without use_requested, containers that request no
    cpu or memory count the scoring defaults."""
    requests: Resource = pod.requests if use_requested else pod.non_zero_requests
    return [requests.get(r.name) for r in resources]


def score(
    node: NodeInfo,
    pod_requests_list: Sequence[int],
    resources: Sequence[ResourceWeight],
    scorer: Scorer,
    use_requested: bool,
) -> int:
    requested = node.requested if use_requested else node.non_zero_requested
    node_allocatable = node.allocatable
    req_list, alloc_list = [], []
    for r, pod_request in zip(resources, pod_requests_list, strict=True):
        name = r.name
        # cpu and memory read directly: this runs for every feasible node of every attempt.
        if name == CPU:
            allocatable, used = node_allocatable.milli_cpu, requested.milli_cpu
        elif name == MEMORY:
            allocatable, used = node_allocatable.memory, requested.memory
        else:
            allocatable, used = node_allocatable.get(name), requested.get(name)
            if pod_request == 0 and is_scalar_resource(name):
                allocatable = 0  # an extended resource the pod does not use takes no part
        req_list.append(used + pod_request if allocatable else 0)
        alloc_list.append(allocatable)
    return scorer(req_list, alloc_list)
