"""The ResourceQuota admission plugin (k8s.io/apiserver/pkg/admission/plugin/resourcequota,
controller.go's CheckRequest): a write that uses what a quota of its namespace limits is
refused when it would take the quota's status.used past status.hard ("exceeded quota: q,
requested: pods=1, used: pods=2, limited: pods=2"), or when a pod leaves out a tracked cpu or
memory ("failed quota: q: must specify limits.cpu for: c"); otherwise the quotas' used is raised
by what it uses, compare-and-swapped (a conflict reads them again, three times), before the
write is stored. The resource quota controller recomputes used from the objects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from apiserver import errors
from apiserver.admission.attributes import CREATE, UPDATE, Attributes, refused_name
from apiserver.admission.interfaces import Handler
from apiserver.objects import object_meta
from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery.quota import evaluators
from podplane.apimachinery.quota.evaluators import Evaluator
from podplane.apimachinery.quota.quantities import (
    add,
    equals,
    less_than_or_equal,
    mask,
    negative,
    parse_list,
    pretty_print,
    pretty_print_names,
    remove_zeros,
    subtract_non_negative,
    to_strings,
)

NAME = "ResourceQuota"
Quota = quota_pb2.ResourceQuota
# Whether the watch cache holds a quota in the namespace.
HasQuotas = Callable[[str], bool]
# The namespace's quotas as stored, and a status write (compare-and-swap on resourceVersion).
StoredQuotas = Callable[[str], Awaitable[Sequence[Quota]]]
UpdateStatus = Callable[[Quota], Awaitable[Quota]]
_RETRIES = 3
_LIVE_TTL = 30.0


class QuotaRefusal(Exception):
    """A reason the write is refused, as NewForbidden words it after the object's name."""


def _has_usage(q: Quota, resources: Sequence[str]) -> bool:
    return all(name in q.status.used for name in q.status.hard if name in resources)


def _interesting(quotas: Sequence[Quota], e: Evaluator, obj: object) -> list[int]:
    found = []
    for i, q in enumerate(quotas):
        if not evaluators.matches(e, q, obj):  # type: ignore[arg-type]
            continue
        restricted = e.matching_resources(q.status.hard)
        problem = e.constraints(restricted, obj)
        if problem:
            raise QuotaRefusal(f"failed quota: {q.metadata.name}: {problem}")
        if not _has_usage(q, restricted):
            names = pretty_print_names(restricted)
            raise QuotaRefusal(f"status unknown for quota: {q.metadata.name}, resources: {names}")
        found.append(i)
    return found


def check_request(
    quotas: Sequence[Quota], attrs: Attributes, e: Evaluator, now: datetime
) -> list[Quota]:
    """CheckRequest: the quotas with the write's usage added to each it matches; QuotaRefusal
    when one would be exceeded."""
    obj = attrs.object
    interesting = _interesting(quotas, e, obj)
    if not interesting:
        return list(quotas)
    usage = e.usage(obj, now)
    if bad := negative(usage):
        raise QuotaRefusal(f"quota usage is negative for resource(s): {pretty_print_names(bad)}")
    deltas = dict.fromkeys(interesting, usage)
    old = attrs.old_object
    if attrs.operation == UPDATE and old is not None and object_meta(old).resource_version:
        delta = subtract_non_negative(usage, e.usage(old, now))
        for i in interesting:
            if evaluators.matches(e, quotas[i], old):
                deltas[i] = delta
    deltas = {i: d for i, d in ((i, remove_zeros(d)) for i, d in deltas.items()) if d}
    out = [Quota() for _ in quotas]
    for copy, q in zip(out, quotas, strict=True):
        copy.CopyFrom(q)
    for i, delta in deltas.items():
        q = out[i]
        hard, used = parse_list(q.status.hard), parse_list(q.status.used)
        requested = mask(delta, hard)
        new_usage = add(used, requested)
        if attrs.subresource != "status":
            ok, exceeded = less_than_or_equal(mask(new_usage, requested), hard)
            if not ok:
                raise QuotaRefusal(
                    f"exceeded quota: {q.metadata.name}, "
                    f"requested: {pretty_print(mask(requested, exceeded))}, "
                    f"used: {pretty_print(mask(used, exceeded))}, "
                    f"limited: {pretty_print(mask(hard, exceeded))}"
                )
        q.status.used.clear()
        q.status.used.update(to_strings(new_usage))
    return out


class ResourceQuotaAdmission(Handler):
    def __init__(
        self, has_quotas: HasQuotas, stored: StoredQuotas, update_status: UpdateStatus
    ) -> None:
        super().__init__(CREATE, UPDATE)
        self.has_quotas, self.stored, self.update_status = has_quotas, stored, update_status
        # One evaluation at a time per namespace, as the plugin's work queue keys by namespace.
        self._locks: dict[str, asyncio.Lock] = {}
        # Namespace -> (expiry, whether it has quotas): live lookups of namespaces the cache
        # has none of (the quota accessor's liveLookupCache, 30 s).
        self._live: dict[str, tuple[float, bool]] = {}

    async def _any_quota(self, namespace: str) -> bool:
        if self.has_quotas(namespace):
            return True
        expiry, found = self._live.get(namespace, (0.0, False))
        if expiry < time.monotonic():
            found = bool(await self.stored(namespace))
            self._live[namespace] = (time.monotonic() + _LIVE_TTL, found)
        return found

    async def validate(self, attrs: Attributes) -> None:
        if not attrs.namespace or attrs.object is None:
            return
        e = evaluators.evaluator_for(attrs.resource.plural, attrs.resource.group)
        if not e.handles(attrs.operation, attrs.subresource):
            return
        if not await self._any_quota(attrs.namespace):
            return
        lock = self._locks.setdefault(attrs.namespace, asyncio.Lock())
        async with lock:
            await self._evaluate(attrs, e)

    async def _evaluate(self, attrs: Attributes, e: Evaluator) -> None:
        for attempt in range(_RETRIES + 1):
            quotas = list(await self.stored(attrs.namespace))
            try:
                updated = check_request(quotas, attrs, e, datetime.now(UTC))
            except QuotaRefusal as refusal:
                obj = attrs.object
                assert obj is not None
                raise errors.forbidden(attrs.resource, refused_name(obj), str(refusal)) from None
            if attrs.dry_run:
                return
            changed = [
                new
                for new, old in zip(updated, quotas, strict=True)
                if not equals(parse_list(new.status.used), parse_list(old.status.used))
            ]
            try:
                for q in changed:
                    await self.update_status(q)
                return
            except errors.APIError as e_:
                if e_.reason != "Conflict" or attempt == _RETRIES:
                    raise
