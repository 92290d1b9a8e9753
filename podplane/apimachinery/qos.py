"""A pod's quality of service class (kubernetes pkg/apis/core/helper/qos), and the cgroup the
kubelet runs a pod in by it (pkg/kubelet/cm's pod container manager, cgroupfs driver):
Guaranteed pods under /kubepods, the others under /kubepods/burstable or /kubepods/besteffort,
each in pod<uid>."""

from __future__ import annotations

from collections.abc import Mapping

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

GUARANTEED, BURSTABLE, BEST_EFFORT = "Guaranteed", "Burstable", "BestEffort"
PODS_CGROUP = "/kubepods"
_COMPUTE = ("cpu", "memory")


def _nonzero(values: Mapping[str, str], name: str) -> bool:
    try:
        return name in values and quantity.parse(values[name]) != 0
    except quantity.QuantityError:
        return False


def qos_class(spec: core_pb2.PodSpec) -> str:
    """Guaranteed, Burstable or BestEffort (ComputePodQOS): by the cpu and memory requests and
    limits set (and not zero) on the init and app containers."""
    any_set = False
    guaranteed = True
    for c in [*spec.init_containers, *spec.containers]:
        limits, requests = c.resources.limits, c.resources.requests
        for name in _COMPUTE:
            has_limit, has_request = _nonzero(limits, name), _nonzero(requests, name)
            any_set = any_set or has_limit or has_request
            if not has_limit:
                guaranteed = False
            elif has_request and quantity.parse(requests[name]) != quantity.parse(limits[name]):
                guaranteed = False
    if not any_set:
        return BEST_EFFORT
    return GUARANTEED if guaranteed else BURSTABLE


def pod_qos_class(pod: core_pb2.Pod) -> str:
    """The class the pod's status gives (the apiserver sets it at create), else its spec's
    (GetPodQOS; a static pod as its manifest gives it)."""
    return str(pod.status.qos_class) if pod.status.qos_class else qos_class(pod.spec)


def pod_cgroup(pod: core_pb2.Pod) -> str:
    """The pod's cgroup, by its class."""
    qos = pod_qos_class(pod)
    tier = "" if qos == GUARANTEED else f"/{qos.lower()}"
    return f"{PODS_CGROUP}{tier}/pod{pod.metadata.uid}"
