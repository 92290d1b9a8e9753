"""Whether a pod's requests fit what the node has left, as the kubelet's predicate admission
checks them (lifecycle/predicate.go over the scheduler's noderesources fitsRequest): the pod
count first, then cpu, memory, ephemeral-storage and the other resources the pod requests. A
pod's requests are Kubernetes' whole-pod requests, sidecars included (pod_resources)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubelet.admission.rejection import Rejection
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import pod_resources

_NATIVE = ("cpu", "memory", "ephemeral-storage")


__all__ = ["Rejection", "insufficient_resource"]


def _insufficient(name: str, requested: int, used: int, capacity: int) -> Rejection:
    return Rejection(
        f"OutOf{name}",
        f"Node didn't have enough resource: {name}, requested: {requested}, used: {used}, "
        f"capacity: {capacity}",
    )


def _extended(name: str) -> bool:
    return "/" in name and not name.startswith("kubernetes.io/")


def insufficient_resource(
    pod: core_pb2.Pod, admitted: Iterable[core_pb2.Pod], allocatable: Mapping[str, str]
) -> Rejection | None:
    """The first resource the pod does not fit in, next to the pods already admitted; None if it
    fits."""
    others = list(admitted)
    capacity = pod_resources.amounts(allocatable)
    if len(others) + 1 > capacity.get("pods", 0):
        return _insufficient("pods", 1, len(others), capacity.get("pods", 0))
    used: dict[str, int] = {}
    for other in others:
        for name, amount in pod_resources.pod_requests(other).items():
            used[name] = used.get(name, 0) + amount
    requested = pod_resources.pod_requests(pod)
    # Extended resources the node does not advertise are a device plugin's matter, not admission's.
    others_first = [n for n in sorted(requested) if n not in _NATIVE and n != "pods"]
    for name in (*_NATIVE, *others_first):
        amount = requested.get(name, 0)
        if amount <= 0 or (_extended(name) and name not in capacity):
            continue
        if amount > capacity.get(name, 0) - used.get(name, 0):
            return _insufficient(name, amount, used.get(name, 0), capacity.get(name, 0))
    return None
