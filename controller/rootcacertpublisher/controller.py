"""The root CA publisher (kubernetes pkg/controller/certificates/rootcacertpublisher): every
active namespace has the ConfigMap kube-root-ca.crt whose ca.crt is the CA bundle that verifies
the apiserver (the controller-manager's --root-ca-file), for in-cluster clients; made when the
namespace appears, and again when it is deleted or changed."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_already_exists, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
DATA_KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
NAMESPACE_ACTIVE = "Active"


class RootCACertPublisher:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        root_ca: str,
        *,
        workers: int = 1,
    ) -> None:
        self.client = client
        self.root_ca = root_ca
        self.namespaces: Informer[core_pb2.Namespace] = informers.informer_for(resources.NAMESPACE)
        self.config_maps: Informer[core_pb2.ConfigMap] = informers.informer_for(
            resources.CONFIG_MAP
        )
        self.loop = ReconcileLoop(
            "root-ca-cert-publisher",
            self.reconcile,
            informers,
            [self.namespaces, self.config_maps],
            workers=workers,
        )
        self.namespaces.add_handler(
            on_add=self._namespace_changed,
            on_update=lambda _old, new: self._namespace_changed(new),
        )
        self.config_maps.add_handler(
            on_add=self._config_map_changed,
            on_update=lambda _old, new: self._config_map_changed(new),
            on_delete=self._config_map_changed,
        )

    def _namespace_changed(self, ns: core_pb2.Namespace) -> None:
        self.loop.enqueue(ns.metadata.name)

    def _config_map_changed(self, cm: core_pb2.ConfigMap) -> None:
        if cm.metadata.name == ROOT_CA_CONFIG_MAP:
            self.loop.enqueue(cm.metadata.namespace)

    async def run(self) -> None:
        if not self.root_ca:
            log.warning("root-ca-cert-publisher: no root CA (--root-ca-file); publishing none")
        await self.loop.run()

    def _published(self, cm: core_pb2.ConfigMap) -> bool:
        return (
            dict(cm.data) == {DATA_KEY: self.root_ca}
            and not cm.binary_data
            and DESCRIPTION_ANNOTATION in cm.metadata.annotations
        )

    async def reconcile(self, namespace: str) -> float | None:
        ns = self.namespaces.get(namespace)
        if not self.root_ca or ns is None or ns.metadata.deletion_timestamp:
            return None
        if ns.status.phase and ns.status.phase != NAMESPACE_ACTIVE:
            return None
        cm = self.config_maps.get(f"{namespace}/{ROOT_CA_CONFIG_MAP}")
        try:
            if cm is None:
                await self.client.configmaps.create(
                    core_pb2.ConfigMap(
                        metadata=meta_pb2.ObjectMeta(
                            name=ROOT_CA_CONFIG_MAP,
                            namespace=namespace,
                            annotations={DESCRIPTION_ANNOTATION: DESCRIPTION},
                        ),
                        data={DATA_KEY: self.root_ca},
                    )
                )
                log.info("namespace %s: published %s", namespace, ROOT_CA_CONFIG_MAP)
            elif not self._published(cm):
                fixed = core_pb2.ConfigMap()
                fixed.CopyFrom(cm)
                fixed.ClearField("data")
                fixed.ClearField("binary_data")
                fixed.data[DATA_KEY] = self.root_ca
                fixed.metadata.annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
                await self.client.configmaps.update(fixed)
                log.info("namespace %s: restored %s", namespace, ROOT_CA_CONFIG_MAP)
        except Exception as e:
            # Made or changed meanwhile (the next event brings it), or the namespace went away.
            if is_already_exists(e) or is_conflict(e) or is_not_found(e):
                return None
            raise
        return None
