"""The namespace controller (kubernetes pkg/controller/namespace): when a namespace is being
deleted, delete everything in it (every namespaced kind, the established custom resources
too); once it is empty, remove the "kubernetes" finalizer from its spec, upon which the
apiserver deletes the namespace itself."""

from __future__ import annotations

import logging

from controller.framework.custom_resources import CustomResourceKinds
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
# How soon to look again while content (e.g. pods their kubelets are still stopping) remains.
RECHECK_SECONDS = 2.0


class NamespaceController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 2
    ) -> None:
        self.client = client
        self.namespaces: Informer[core_pb2.Namespace] = informers.informer_for(resources.NAMESPACE)
        self.custom = CustomResourceKinds(informers)
        self.loop = ReconcileLoop(
            "namespace",
            self.reconcile,
            informers,
            [self.namespaces, self.custom.definitions],
            workers=workers,
        )
        self.namespaces.add_handler(
            on_add=self._on_change, on_update=lambda _old, new: self._on_change(new)
        )

    def _on_change(self, ns: core_pb2.Namespace) -> None:
        if ns.metadata.deletion_timestamp:
            self.loop.enqueue(ns.metadata.name)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        ns = self.namespaces.get(name)
        if ns is None or not ns.metadata.deletion_timestamp:
            return None
        remaining = 0
        for resource in [*resources.ALL, *self.custom.preferred()]:
            if resource.namespaced:
                remaining += await self._delete_content(resource, name)
        if remaining:
            log.info("namespace %s: waiting for %d object(s) to go", name, remaining)
            return RECHECK_SECONDS
        if FINALIZER in ns.spec.finalizers:
            finalized = core_pb2.Namespace()
            finalized.CopyFrom(ns)
            finalized.spec.finalizers.remove(FINALIZER)
            try:
                await self.client.namespaces.update(finalized)
            except Exception as e:
                if is_not_found(e):
                    return None
                raise
            log.info("namespace %s: empty; finalized", name)
        return None

    async def _delete_content(self, resource: resources.Resource, namespace: str) -> int:
        """Deletes every object of this kind in the namespace; returns how many are left."""
        api = self.client.for_resource(resource)
        try:
            items, _ = await api.list_all(namespace)
        except Exception as e:
            if resource.custom and is_not_found(e):
                return 0  # its definition went meanwhile, and its objects with it
            raise
        left = 0
        for obj in items:
            try:
                if not obj.metadata.deletion_timestamp:
                    obj = await api.delete(obj.metadata.name, namespace, uid=obj.metadata.uid)
            except Exception as e:
                if is_not_found(e) or is_conflict(e):
                    continue  # gone already, or replaced by a newer object (seen next time)
                raise
            if obj.metadata.deletion_timestamp:
                left += 1  # held by a grace period or finalizers
        return left
