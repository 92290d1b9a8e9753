"""The resource quota controller (kubernetes pkg/controller/resourcequota
resource_quota_controller.go): each ResourceQuota's status.hard follows its spec.hard, and its
status.used is recomputed from the namespace's objects (podplane/apimachinery/quota/usage.py, as
the ResourceQuota admission plugin counts them) when a quota is added or its spec.hard changes,
when an object of its namespace gives its share back (replenishment, quota_monitor.go: any
deleted, a pod finished or past its grace period, a Service whose type counts differently), and
every resync period (5 minutes, --resource-quota-sync-period). A quota is written only when its
status changes.

As Kubernetes, a status update and an object's creation start no sync: the admission plugin
charged the object to status.used before storing it, and a sync on that event would count from
this controller's caches, which need not have the object yet, and write its share away (a
third pod admitted under a quota of two)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from google.protobuf.message import Message

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2, quota_pb2, service_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.quota import usage
from podplane.apimachinery.quota.evaluators import Evaluator
from podplane.apimachinery.quota.pods import counts_for_quota
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


def hard_changed(old: quota_pb2.ResourceQuota, new: quota_pb2.ResourceQuota) -> bool:
    """Whether an update changed what the quota limits (its status is this controller's and the
    admission plugin's to write)."""
    return not equals(parse_list(old.spec.hard), parse_list(new.spec.hard))


def _quota_service_type(svc: service_pb2.Service) -> str:
    """GetQuotaServiceType: the types quotas count apart, NodePort and LoadBalancer."""
    return svc.spec.type if svc.spec.type in ("NodePort", "LoadBalancer") else ""


def replenishes(plural: str, old: Message, new: Message, now: datetime) -> bool:
    """Whether an update gives quota back (quota_monitor.go): a pod that stops counting, a
    Service whose counted type changes; no other update does."""
    if plural == resources.POD.plural:
        assert isinstance(old, core_pb2.Pod) and isinstance(new, core_pb2.Pod)
        return counts_for_quota(old, now) and not counts_for_quota(new, now)
    if plural == resources.SERVICE.plural:
        assert isinstance(old, service_pb2.Service) and isinstance(new, service_pb2.Service)
        return _quota_service_type(old) != _quota_service_type(new)
    return False


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
            informer.add_handler(on_update=self._replenisher(r.plural), on_delete=self._replenish)
            self.tracked[r.plural] = informer
        self.loop = ReconcileLoop(
            "resourcequota", self.reconcile, informers, [self.quotas, *self.tracked.values()]
        )
        self.quotas.add_handler(
            on_add=self._enqueue,
            on_update=lambda old, new: self._enqueue(new) if hard_changed(old, new) else None,
            # A deleted quota counts toward resourcequotas in the others.
            on_delete=self._replenish,
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, q: quota_pb2.ResourceQuota) -> None:
        self.loop.enqueue(object_key(q))

    def _replenisher(self, plural: str) -> Callable[[Message, Message], None]:
        """The update handler of one tracked kind: replenishes when `replenishes` says so."""

        def updated(old: Message, new: Message) -> None:
            if replenishes(plural, old, new, self._now()):
                self._replenish(new)

        return updated

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
