"""The LimitRanger and ResourceQuota plugins over the apiserver's own watch caches and stores:
each reads its namespace's LimitRanges or ResourceQuotas from the cache, and from storage when
the cache has none (a moment after they are created); quota writes its status through the
store, compare-and-swapped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from apiserver.admission import limit_ranger, resource_quota
from apiserver.admission.interfaces import Plugin
from apiserver.objects import ListMessage
from podplane.api.core.v1 import quota_pb2
from podplane.api.core.v1.quota_pb2 import LimitRange as Range
from podplane.api.core.v1.quota_pb2 import ResourceQuota as Quota

T = TypeVar("T", quota_pb2.LimitRange, quota_pb2.ResourceQuota)
T_co = TypeVar("T_co", quota_pb2.LimitRange, quota_pb2.ResourceQuota, covariant=True)


class Cache(Protocol[T_co]):
    @property
    def objects(self) -> Mapping[bytes, T_co]: ...


class Stored(Protocol[T]):
    async def list(self, namespace: str) -> ListMessage[T]: ...

    async def update_status(self, obj: T) -> T: ...


def _in(cache: Cache[T], namespace: str) -> list[T]:
    return [o for o in cache.objects.values() if o.metadata.namespace == namespace]


def namespace_limit_plugins(
    range_cache: Cache[Range],
    ranges: Stored[Range],
    quota_cache: Cache[Quota],
    quotas: Stored[Quota],
) -> dict[str, Plugin]:
    async def stored_ranges(namespace: str) -> Sequence[Range]:
        return list((await ranges.list(namespace)).items)

    async def stored_quotas(namespace: str) -> Sequence[Quota]:
        return list((await quotas.list(namespace)).items)

    return {
        limit_ranger.NAME: limit_ranger.LimitRanger(lambda ns: _in(range_cache, ns), stored_ranges),
        resource_quota.NAME: resource_quota.ResourceQuotaAdmission(
            lambda ns: bool(_in(quota_cache, ns)), stored_quotas, quotas.update_status
        ),
    }
