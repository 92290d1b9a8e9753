"""Resource arithmetic: what a pod requests and what a node can allocate, in integer base units
(millicores, bytes, pod slots), as kube-scheduler's framework.Resource."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import pod_resources, quantity

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

# What a container without a cpu or memory request counts as when *scoring*, so that best-effort
# pods still spread (kubernetes pkg/scheduler/util DefaultMilliCPURequest, DefaultMemoryRequest).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


def is_scalar_resource(name: str) -> bool:
    """Extended resources (example.com/gpu) and hugepages, which are counted but not named
    fields."""
    if name.startswith("hugepages-"):
        return True
    return "/" in name and not name.startswith(("kubernetes.io/", "requests."))


@functools.lru_cache(maxsize=4096)
def _amount(name: str, value: str) -> int:
    """Cached: a cluster's pods repeat a handful of quantities, and parsing one costs more than a
    whole filter pass over a node."""
    try:
        return quantity.milli_cpu(value) if name == CPU else quantity.bytes_of(value)
    except quantity.QuantityError:
        # The apiserver validates quantities; an invalid one left in storage counts as nothing.
        return 0


@dataclass
class Resource:
    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    allowed_pod_number: int = 0
    scalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_list(cls, values: Mapping[str, str]) -> Resource:
        """A ResourceList ({"cpu": "500m", "memory": "1Gi", "pods": "110"}); unknown names are
        dropped."""
        r = cls()
        for name, value in values.items():
            r.set(name, _amount(name, value))
        return r

    def get(self, name: str) -> int:
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        if name == EPHEMERAL_STORAGE:
            return self.ephemeral_storage
        if name == PODS:
            return self.allowed_pod_number
        return self.scalar.get(name, 0)

    def set(self, name: str, amount: int) -> None:
        if name == CPU:
            self.milli_cpu = amount
        elif name == MEMORY:
            self.memory = amount
        elif name == EPHEMERAL_STORAGE:
            self.ephemeral_storage = amount
        elif name == PODS:
            self.allowed_pod_number = amount
        elif is_scalar_resource(name):
            self.scalar[name] = amount

    def names(self) -> Iterable[str]:
        return (CPU, MEMORY, EPHEMERAL_STORAGE, PODS, *self.scalar)

    def add(self, other: Resource) -> None:
        # Field by field: the cache and preemption's dry runs add and take away pods by the
        # thousand per second.
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        self.allowed_pod_number += other.allowed_pod_number
        for name, amount in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + amount

    def subtract(self, other: Resource) -> None:
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory
        self.ephemeral_storage -= other.ephemeral_storage
        self.allowed_pod_number -= other.allowed_pod_number
        for name, amount in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) - amount

    def set_max(self, other: Resource) -> None:
        for name in other.names():
            self.set(name, max(self.get(name), other.get(name)))

    def is_zero(self) -> bool:
        return not any(self.get(name) for name in self.names())

    def copy(self) -> Resource:
        return Resource(
            self.milli_cpu,
            self.memory,
            self.ephemeral_storage,
            self.allowed_pod_number,
            dict(self.scalar),
        )


# pod_requests_pair by (uid, generation): a scheduling attempt and the cache ask for a pod's
# requests several times, and its spec changes only with its generation. Emptied when full.
_REQUESTS_MEMO_SIZE = 20000
_requests_memo: dict[tuple[str, int], tuple[Resource, Resource]] = {}


def pod_requests(pod: core_pb2.Pod, *, non_zero: bool = False) -> Resource:
    """The app containers' and sidecars' requests added up, raised to what initialization needs
    at its peak (podplane.apimachinery.pod_resources; kubernetes PodRequests). With non_zero, a
    container that does not request cpu or memory counts the defaults, as scoring does. The
    caller may change it."""
    return pod_requests_pair(pod)[1 if non_zero else 0].copy()


def pod_requests_pair(pod: core_pb2.Pod) -> tuple[Resource, Resource]:
    """pod_requests without and with non_zero, worked out together: shared, read-only."""
    meta = pod.metadata
    if not (meta.uid and meta.generation):  # not from the apiserver: nothing to key it by
        return _pod_requests_pair(pod.spec)
    key = (meta.uid, meta.generation)
    pair = _requests_memo.get(key)
    if pair is None:
        if len(_requests_memo) >= _REQUESTS_MEMO_SIZE:
            _requests_memo.clear()
        pair = _requests_memo[key] = _pod_requests_pair(pod.spec)
    return pair


def _pod_requests_pair(spec: core_pb2.PodSpec) -> tuple[Resource, Resource]:
    if spec.init_containers:  # sidecars and the peak of initialization: the general rule
        return (
            _resource(pod_resources.pod_totals(spec, _requests_of)),
            _resource(pod_resources.pod_totals(spec, _non_zero_requests_of)),
        )
    # App containers only (most pods): a plain sum, each container read once for both totals,
    # the non-zero one counting the defaults for each container without a cpu or memory request.
    totals: dict[str, int] = {}
    default_cpu = default_memory = 0
    for container in spec.containers:
        own = _requests_of(container)
        for name, amount in own.items():
            totals[name] = totals.get(name, 0) + amount
        if CPU not in own:
            default_cpu += DEFAULT_MILLI_CPU_REQUEST
        if MEMORY not in own:
            default_memory += DEFAULT_MEMORY_REQUEST
    requests = _resource(totals)
    non_zero = requests.copy()
    non_zero.milli_cpu += default_cpu
    non_zero.memory += default_memory
    return requests, non_zero


def _resource(totals: Mapping[str, int]) -> Resource:
    r = Resource()
    for name, value in totals.items():
        r.set(name, value)
    return r


def _requests_of(container: core_pb2.Container) -> dict[str, int]:
    return {
        name: _amount(name, value)
        for name, value in pod_resources.container_requests(container).items()
    }


def _non_zero_requests_of(container: core_pb2.Container) -> dict[str, int]:
    r = _requests_of(container)
    r.setdefault(CPU, DEFAULT_MILLI_CPU_REQUEST)
    r.setdefault(MEMORY, DEFAULT_MEMORY_REQUEST)
    return r


def node_allocatable(node: core_pb2.Node) -> Resource:
    """status.allocatable, or status.capacity when a node reports no allocatable (as the apiserver's
    defaulting does in Kubernetes)."""
    values = node.status.allocatable or node.status.capacity
    return Resource.from_list(values)
