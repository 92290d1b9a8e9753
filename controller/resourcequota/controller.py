"""The resource quota controller (kubernetes pkg/controller/resourcequota
resource_quota_controller.go): each ResourceQuota's status.hard follows its spec.hard, and its
status.used is recomputed from the namespace's objects (podplane/apimachinery/quota/usage.py, as
the ResourceQuota admission plugin counts them) when a quota changes, when an object of a kind
quotas count changes in its namespace (replenishment: a deleted or finished pod gives its share
back), and every resync period (5 minutes, --resource-quota-sync-period). A quota is written
only when its status changes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from google.protobuf.message import Message

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.quota import usage
from podplane.apimachinery.quota.evaluators import Evaluator
from podplane.apimachinery.quota.quantities import equals, mask, parse_list, to_strings
from podplane.client.clientset import Client
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

RESYNC_PERIOD = 300.0
# The kinds whose changes replenish quotas (the evaluators' kinds and the legacy counts'); a
# count/<resource> of another kind is listed from the API at each sync.
WATCHED: tuple[resources.Resource, ...] = (
    resources.POD,
    resources.SERVICE,
    resources.PERSISTENT_VOLUME_CLAIM,
    resources.CONFIG_MAP,
    resources.SECRET,
    resources.REPLICATION_CONTROLLER,
)


def new_status(
    q: quota_pb2.ResourceQuota, calculated: dict[str, str]
) -> quota_pb2.ResourceQuotaStatus:
    """syncResourceQuota's status: hard is spec.hard; used the past usage updated with the
    calculated, masked to the hard resources."""
    used = {**q.status.used, **calculated}
    return quota_pb2.ResourceQuotaStatus(
        hard=dict(q.spec.hard), used={n: v for n, v in used.items() if n in q.spec.hard}
    )


def status_changed(old: quota_pb2.ResourceQuotaStatus, new: quota_pb2.ResourceQuotaStatus) -> bool:
    return not (
        equals(parse_list(old.hard), parse_list(new.hard))
        and equals(parse_list(old.used), parse_list(new.used))
    )


class ResourceQuotaController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        resync_period: float = RESYNC_PERIOD,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.resync_period = resync_period
        self._now = now
        self.quotas: Informer[quota_pb2.ResourceQuota] = informers.informer_for(
            resources.RESOURCE_QUOTA
        )
        self.quotas.add_index(NAMESPACE_INDEX, namespace_of)
        self.tracked: dict[str, Informer[Message]] = {}
        for r in WATCHED:
            informer: Informer[Message] = informers.informer_for(r)
            informer.add_index(NAMESPACE_INDEX, namespace_of)
            informer.add_handler(
                on_add=self._replenish,
                on_update=lambda _old, new: self._replenish(new),
                on_delete=self._replenish,
            )
            self.tracked[r.plural] = informer
        self.loop = ReconcileLoop(
            "resourcequota", self.reconcile, informers, [self.quotas, *self.tracked.values()]
        )
        self.quotas.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            # A deleted quota counts toward resourcequotas in the others.
            on_delete=self._replenish,
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, q: quota_pb2.ResourceQuota) -> None:
        self.loop.enqueue(object_key(q))

    def _replenish(self, obj: Message) -> None:
        """Every quota of the object's namespace is synced again."""
        for ns in namespace_of(obj):
            for q in self.quotas.by_index(NAMESPACE_INDEX, ns):
                self._enqueue(q)

    # ------------------------------------------------------------------ reconcile
    async def _objects(self, q: quota_pb2.ResourceQuota) -> dict[tuple[str, str], list[Message]]:
        """The namespace's objects of each kind the quota counts."""
        ns = q.metadata.namespace
        found: dict[tuple[str, str], list[Message]] = {}
        for e in usage.tracking(list(q.spec.hard)):
            if not e.group and e.plural in self.tracked:
                found[(e.plural, e.group)] = self.tracked[e.plural].by_index(NAMESPACE_INDEX, ns)
            elif not e.group and e.plural == resources.RESOURCE_QUOTA.plural:
                found[(e.plural, e.group)] = list(self.quotas.by_index(NAMESPACE_INDEX, ns))
            else:
                found[(e.plural, e.group)] = await self._listed(e, ns)
        return found

    async def _listed(self, e: Evaluator, namespace: str) -> list[Message]:
        r = next((r for r in resources.ALL if r.plural == e.plural and r.group == e.group), None)
        if r is None or not r.namespaced:
            return []  # a custom resource's count is not kept (docs/controllers.md)
        items, _ = await self.client.for_resource(r).list_all(namespace)
        return list(items)

    async def reconcile(self, key: str) -> float | None:
        q = self.quotas.get(key)
        if q is None:
            return None
        objects = await self._objects(q)

        def of(e: Evaluator) -> Sequence[Message]:
            return objects.get((e.plural, e.group), [])

        calculated = to_strings(mask(usage.calculate(q, of, self._now()), q.spec.hard))
        status = new_status(q, calculated)
        if status_changed(q.status, status) or (q.spec.hard and not q.status.hard):
            updated = quota_pb2.ResourceQuota()
            updated.CopyFrom(q)
            updated.status.CopyFrom(status)
            await self.client.resourcequotas.update_status(updated)
        return self.resync_period
