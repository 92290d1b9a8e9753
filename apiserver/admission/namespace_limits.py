"""The LimitRanger and ResourceQuota plugins over the apiserver's own watch caches and stores:
each reads its namespace's LimitRanges or ResourceQuotas from the cache, and from storage when
the cache has none (a moment after they are created); quota writes its status through the
store, compare-and-swapped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from apiserver.admission import limit_ranger, resource_quota
from apiserver.admission.interfaces import Plugin
from podplane.api.core.v1 import quota_pb2


class _Cache(Protocol):
    @property
    def objects(self) -> Mapping[bytes, Any]: ...


def _in(cache: _Cache, namespace: str) -> list[Any]:
    return [o for o in cache.objects.values() if o.metadata.namespace == namespace]


def namespace_limit_plugins(
    cachers: Mapping[str, Any], stores: Mapping[str, Any]
) -> dict[str, Plugin]:
    ranges, quotas = stores["limitranges"], stores["resourcequotas"]

    async def stored_ranges(namespace: str) -> Sequence[quota_pb2.LimitRange]:
        return list((await ranges.list(namespace)).items)

    async def stored_quotas(namespace: str) -> Sequence[quota_pb2.ResourceQuota]:
        return list((await quotas.list(namespace)).items)

    async def update_status(q: quota_pb2.ResourceQuota) -> quota_pb2.ResourceQuota:
        updated: quota_pb2.ResourceQuota = await quotas.update_status(q)
        return updated

    return {
        limit_ranger.NAME: limit_ranger.LimitRanger(
            lambda ns: _in(cachers["limitranges"], ns), stored_ranges
        ),
        resource_quota.NAME: resource_quota.ResourceQuotaAdmission(
            lambda ns: bool(_in(cachers["resourcequotas"], ns)), stored_quotas, update_status
        ),
    }
