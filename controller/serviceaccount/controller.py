"""The service account controller (kubernetes pkg/controller/serviceaccount,
serviceaccounts_controller.go): every active namespace has a `default` ServiceAccount, made when
the namespace appears and made again when it is deleted."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_already_exists, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# DefaultServiceAccountsControllerOptions: the accounts every namespace gets.
DEFAULT_ACCOUNTS = ("default",)
NAMESPACE_ACTIVE = "Active"


class ServiceAccountsController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.namespaces: Informer[core_pb2.Namespace] = informers.informer_for(resources.NAMESPACE)
        self.accounts: Informer[core_pb2.ServiceAccount] = informers.informer_for(
            resources.SERVICE_ACCOUNT
        )
        self.loop = ReconcileLoop(
            "serviceaccount",
            self.reconcile,
            informers,
            [self.namespaces, self.accounts],
            workers=workers,
        )
        self.namespaces.add_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new),
        )
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _namespace_changed(self, ns: core_pb2.Namespace) -> None:
        self.loop.enqueue(ns.metadata.name)

    def _account_deleted(self, sa: core_pb2.ServiceAccount) -> None:
        if sa.metadata.name in DEFAULT_ACCOUNTS:
            self.loop.enqueue(sa.metadata.namespace)

    async def run(self) -> None:
        await self.loop.run()

    async def reconcile(self, namespace: str) -> float | None:
        ns = self.namespaces.get(namespace)
        # A namespace being deleted gets nothing new (its phase is Terminating).
        if ns is None or (ns.status.phase and ns.status.phase != NAMESPACE_ACTIVE):
            return None
        if ns.metadata.deletion_timestamp:
            return None
        for name in DEFAULT_ACCOUNTS:
            if self.accounts.get(f"{namespace}/{name}") is not None:
                continue
            account = core_pb2.ServiceAccount(
                metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace)
            )
            try:
                await self.client.serviceaccounts.create(account)
            except Exception as e:
                # Made meanwhile (the cache is behind), or the namespace went away.
                if is_already_exists(e) or is_not_found(e):
                    continue
                raise
            log.info("namespace %s: created service account %s", namespace, name)
        return None
