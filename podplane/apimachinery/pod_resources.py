"""A pod's requests (or limits) as a whole, as Kubernetes computes them for scheduling, the
kubelet's admission and `describe node` (component-helpers resource.PodRequests and PodLimits):

  the app containers' sum and every sidecar's, raised to what initialization needs at its
  peak: while init container i runs, it and the sidecars started before it; then the pod's
  overhead (spec.overhead, its RuntimeClass's) added to the requests, and to each limit set.

Amounts are integers in base units: millicores for cpu, bytes (or counts) for the rest."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.sidecars import is_sidecar

CPU = "cpu"
# A resource name -> amount in base units.
Amounts = dict[str, int]
# One container's amounts (its requests, or its limits, parsed).
ContainerAmounts = Callable[[core_pb2.Container], Mapping[str, int]]


def container_requests(container: core_pb2.Container) -> dict[str, str]:
    """A container's requests, with each limit that has no request standing in for it (as the
    apiserver defaults requests from limits)."""
    requests = dict(container.resources.requests)
    for name, value in container.resources.limits.items():
        requests.setdefault(name, value)
    return requests


def amount(name: str, value: str) -> int:
    """A quantity in base units; an invalid one (the apiserver refuses those) counts as 0."""
    try:
        return quantity.milli_cpu(value) if name == CPU else quantity.bytes_of(value)
    except quantity.QuantityError:
        return 0


def amounts(values: Mapping[str, str]) -> Amounts:
    return {name: amount(name, value) for name, value in values.items()}


def requests_of(container: core_pb2.Container) -> Amounts:
    return amounts(container_requests(container))


def limits_of(container: core_pb2.Container) -> Amounts:
    return amounts(container.resources.limits)


def _add(into: Amounts, more: Mapping[str, int]) -> None:
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def _raise(into: Amounts, other: Mapping[str, int]) -> None:
    for name, value in other.items():
        if value > into.get(name, 0):
            into[name] = value


def pod_totals(spec: core_pb2.PodSpec, of: ContainerAmounts = requests_of) -> Amounts:
    """max(app containers + sidecars, the peak of initialization), per resource."""
    total: Amounts = {}
    for c in spec.containers:
        _add(total, of(c))
    started_sidecars: Amounts = {}
    init_peak: Amounts = {}
    for c in spec.init_containers:
        own = of(c)
        if is_sidecar(c):
            _add(total, own)  # it keeps running beside the app containers
            _add(started_sidecars, own)
            _raise(init_peak, started_sidecars)
        else:
            running = dict(own)
            _add(running, started_sidecars)
            _raise(init_peak, running)
    _raise(total, init_peak)
    return total


def pod_requests(pod: core_pb2.Pod) -> Amounts:
    total = pod_totals(pod.spec, requests_of)
    _add(total, amounts(pod.spec.overhead))
    return total


def pod_limits(pod: core_pb2.Pod) -> Amounts:
    """The limits, each one set raised by the overhead of that resource."""
    total = pod_totals(pod.spec, limits_of)
    for name, value in amounts(pod.spec.overhead).items():
        if name in total:
            total[name] += value
    return total
