"""The LimitRanger admission plugin (kubernetes plugin/pkg/admission/limitranger): a new pod's
containers and init containers get their namespace's LimitRanges' default limits and requests
for what they leave out, noted in the pod's kubernetes.io/limit-ranger annotation; then each
Container, Pod and PersistentVolumeClaim bound (min, max, maxLimitRequestRatio) is enforced,
refused with Kubernetes' words. Pod updates are not limited (containers' resources cannot
change); claims are, on create and update."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

from apiserver import errors
from apiserver.admission.attributes import CREATE, UPDATE, Attributes, refused_name
from apiserver.admission.interfaces import Handler, Scope
from apiserver.objects import object_meta
from podplane.api.core.v1 import core_pb2, quota_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.quota.pods import pod_sum
from podplane.apimachinery.quota.quantities import Quantity, ResourceList, parse_list

NAME = "LimitRanger"
ANNOTATION = "kubernetes.io/limit-ranger"
# A namespace's LimitRanges, from the watch cache.
LimitRanges = Callable[[str], Sequence[quota_pb2.LimitRange]]
# A namespace's LimitRanges as stored (the live lookup when the cache has none).
StoredLimitRanges = Callable[[str], Awaitable[Sequence[quota_pb2.LimitRange]]]
_LIVE_TTL = 30.0


def _milli(q: Quantity) -> int:
    return math.ceil(q.value * 1000)


def min_constraint(
    kind: str, name: str, enforced: str, request: ResourceList, limit: ResourceList
) -> str | None:
    shown = quantity.canonical_text(enforced)
    bound = _milli(Quantity.parse(enforced))
    if name not in request:
        return f"minimum {name} usage per {kind} is {shown}.  No request is specified"
    if _milli(request[name]) < bound:
        return f"minimum {name} usage per {kind} is {shown}, but request is {request[name]}"
    if name in limit and _milli(limit[name]) < bound:
        return f"minimum {name} usage per {kind} is {shown}, but limit is {limit[name]}"
    return None


def max_constraint(
    kind: str, name: str, enforced: str, request: ResourceList, limit: ResourceList
) -> str | None:
    shown = quantity.canonical_text(enforced)
    bound = _milli(Quantity.parse(enforced))
    if name not in limit:
        return f"maximum {name} usage per {kind} is {shown}.  No limit is specified"
    if _milli(limit[name]) > bound:
        return f"maximum {name} usage per {kind} is {shown}, but limit is {limit[name]}"
    if name in request and _milli(request[name]) > bound:
        return f"maximum {name} usage per {kind} is {shown}, but request is {request[name]}"
    return None


def max_request_constraint(
    kind: str, name: str, enforced: str, request: ResourceList
) -> str | None:
    """A claim's max, against its request (claims have no limits)."""
    shown = quantity.canonical_text(enforced)
    if name not in request:
        return f"maximum {name} usage per {kind} is {shown}.  No request is specified"
    if _milli(request[name]) > _milli(Quantity.parse(enforced)):
        return f"maximum {name} usage per {kind} is {shown}, but request is {request[name]}"
    return None


def ratio_constraint(
    kind: str, name: str, enforced: str, request: ResourceList, limit: ResourceList
) -> str | None:
    shown = quantity.canonical_text(enforced)
    req = _milli(request[name]) if name in request else 0
    lim = _milli(limit[name]) if name in limit else 0
    if not req:
        return (
            f"{name} max limit to request ratio per {kind} is {shown}, "
            "but no request is specified or request is 0"
        )
    if not lim:
        return (
            f"{name} max limit to request ratio per {kind} is {shown}, "
            "but no limit is specified or limit is 0"
        )
    observed = lim / req
    if Decimal(lim) * 1000 / Decimal(req) > Decimal(_milli(Quantity.parse(enforced))):
        return (
            f"{name} max limit to request ratio per {kind} is {shown}, "
            f"but provided ratio is {observed:f}"
        )
    return None


def _bounds(
    item: quota_pb2.LimitRangeItem, request: ResourceList, limit: ResourceList
) -> list[str]:
    found = [min_constraint(item.type, n, v, request, limit) for n, v in sorted(item.min.items())]
    found += [max_constraint(item.type, n, v, request, limit) for n, v in sorted(item.max.items())]
    found += [
        ratio_constraint(item.type, n, v, request, limit)
        for n, v in sorted(item.max_limit_request_ratio.items())
    ]
    return [f for f in found if f]


def pod_refusals(lr: quota_pb2.LimitRange, pod: core_pb2.Pod) -> list[str]:
    """PodValidateLimitFunc."""
    found: list[str] = []
    for item in lr.spec.limits:
        if item.type == "Container":
            for c in (*pod.spec.containers, *pod.spec.init_containers):
                request = parse_list(c.resources.requests)
                found += _bounds(item, request, parse_list(c.resources.limits))
        elif item.type == "Pod":
            request = pod_sum(pod.spec, "requests", overhead=False)
            found += _bounds(item, request, pod_sum(pod.spec, "limits", overhead=False))
    return found


def claim_refusals(lr: quota_pb2.LimitRange, pvc: core_pb2.PersistentVolumeClaim) -> list[str]:
    """PersistentVolumeClaimValidateLimitFunc: min and max of the claim's requests."""
    found: list[str | None] = []
    request = parse_list(pvc.spec.resources.requests)
    for item in lr.spec.limits:
        if item.type != "PersistentVolumeClaim":
            continue
        found += [min_constraint(item.type, n, v, request, {}) for n, v in sorted(item.min.items())]
        found += [
            max_request_constraint(item.type, n, v, request) for n, v in sorted(item.max.items())
        ]
    return [f for f in found if f]


def aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as it is, several deduplicated in
    brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _merge(
    c: core_pb2.Container, limits: Mapping[str, str], requests: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """mergeContainerResources: the requests and limits the container leaves out, by name."""
    set_limits = sorted(n for n in limits if n not in c.resources.limits)
    set_requests = sorted(n for n in requests if n not in c.resources.requests)
    for n in set_limits:
        c.resources.limits[n] = limits[n]
    for n in set_requests:
        c.resources.requests[n] = requests[n]
    return set_requests, set_limits


def apply_defaults(lr: quota_pb2.LimitRange, pod: core_pb2.Pod) -> None:
    """PodMutateLimitFunc: the Container items' defaults into each container that lacks them,
    and the annotation that says so."""
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    for item in lr.spec.limits:
        if item.type == "Container":
            requests.update(item.default_request)
            limits.update(item.default)
    notes: list[str] = []
    for prefix, containers in (
        ("container", pod.spec.containers),
        ("init container", pod.spec.init_containers),
    ):
        for c in containers:
            set_requests, set_limits = _merge(c, limits, requests)
            if set_requests:
                notes.append(f"{', '.join(set_requests)} request for {prefix} {c.name}")
            if set_limits:
                notes.append(f"{', '.join(set_limits)} limit for {prefix} {c.name}")
    if notes:
        pod.metadata.annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


class LimitRanger(Handler):
    # Pods and claims (_supports), through the main resource.
    admit_scope = Scope((core_pb2.Pod,))
    validate_scope = Scope((core_pb2.Pod, core_pb2.PersistentVolumeClaim))

    def __init__(self, cached: LimitRanges, stored: StoredLimitRanges) -> None:
        super().__init__(CREATE, UPDATE)
        self.cached, self.stored = cached, stored
        # Namespace -> (expiry, its LimitRanges): the live lookups of namespaces the cache
        # has none of (liveLookupCache, 30 s).
        self._live: dict[str, tuple[float, Sequence[quota_pb2.LimitRange]]] = {}

    @staticmethod
    def _supports(attrs: Attributes) -> bool:
        if attrs.subresource:
            return False
        plural = attrs.resource.plural if not attrs.resource.group else ""
        if plural == "pods":
            return attrs.operation == CREATE
        return plural == "persistentvolumeclaims"

    async def _ranges(self, namespace: str) -> Sequence[quota_pb2.LimitRange]:
        found = self.cached(namespace)
        if found:
            return found
        expiry, items = self._live.get(namespace, (0.0, ()))
        if expiry < time.monotonic():
            items = await self.stored(namespace)
            self._live[namespace] = (time.monotonic() + _LIVE_TTL, items)
        return items

    async def admit(self, attrs: Attributes) -> None:
        if not self._supports(attrs) or not isinstance(attrs.object, core_pb2.Pod):
            return
        for lr in await self._ranges(attrs.namespace):
            apply_defaults(lr, attrs.object)

    async def validate(self, attrs: Attributes) -> None:
        if not self._supports(attrs) or attrs.object is None:
            return
        old = attrs.old_object
        if old is not None and object_meta(old).deletion_timestamp:
            return
        obj = attrs.object
        for lr in await self._ranges(attrs.namespace):
            if isinstance(obj, core_pb2.Pod):
                found = pod_refusals(lr, obj)
            elif isinstance(obj, core_pb2.PersistentVolumeClaim):
                found = claim_refusals(lr, obj)
            else:
                return
            if found:
                raise errors.forbidden(attrs.resource, refused_name(obj), aggregate(found))
