"""A pod's QoS class, as kubectl computes it when the status does not carry one (qos.GetPodQOS)."""

from __future__ import annotations

from collections.abc import Mapping

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

_COMPUTE = ("cpu", "memory")


def _nonzero(values: Mapping[str, str], name: str) -> bool:
    try:
        return name in values and quantity.parse(values[name]) != 0
    except quantity.QuantityError:
        return False


def pod_qos_class(pod: core_pb2.Pod) -> str:
    if pod.status.qos_class:
        return str(pod.status.qos_class)
    any_set = False
    guaranteed = True
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        limits, requests = c.resources.limits, c.resources.requests
        for name in _COMPUTE:
            has_limit, has_request = _nonzero(limits, name), _nonzero(requests, name)
            any_set = any_set or has_limit or has_request
            if not has_limit:
                guaranteed = False
            elif has_request and quantity.parse(requests[name]) != quantity.parse(limits[name]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
