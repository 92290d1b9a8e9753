"""The endpoints controller (kubernetes pkg/controller/endpoint), which Kubernetes 1.31 still runs
beside the EndpointSlice controller: keeps the Endpoints object named after each Service with a
selector, for the clients that still read Endpoints. A Service that is gone takes its Endpoints
with it; a Service without selector (or of type ExternalName) has its Endpoints left alone, to
whoever manages them.

Handlers only enqueue Service keys (a Service's own events, an Endpoints' events, and a pod's for
every Service of its namespace that selects it); reconcile(key) writes the Endpoints only when
its subsets or labels differ from what the pods say."""

from __future__ import annotations

import logging

from controller.endpoint.subsets import endpoints_labels, subsets
from controller.framework import endpoint_pods
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.client.clientset import Client, is_namespace_terminating, is_not_found
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 5


class EndpointsController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self.client = client
        self.services: Informer[service_pb2.Service] = informers.informer_for(resources.SERVICE)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.endpoints: Informer[service_pb2.Endpoints] = informers.informer_for(
            resources.ENDPOINTS
        )
        self.services.add_index(NAMESPACE_INDEX, namespace_of)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        self.loop = ReconcileLoop(
            "endpoint",
            self.reconcile,
            informers,
            [self.services, self.pods, self.endpoints],
            workers=workers,
        )
        self.services.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._enqueue,
        )
        self.pods.add_handler(
            on_add=self._on_pod, on_update=self._on_pod_update, on_delete=self._on_pod
        )
        self.endpoints.add_handler(
            on_update=lambda _old, new: self._enqueue(new), on_delete=self._enqueue
        )

    async def run(self) -> None:
        await self.loop.run()

    def _enqueue(self, obj: service_pb2.Service | service_pb2.Endpoints) -> None:
        self.loop.enqueue(object_key(obj))

    def _on_pod(self, pod: core_pb2.Pod) -> None:
        services = self.services.by_index(NAMESPACE_INDEX, pod.metadata.namespace)
        for key in endpoint_pods.services_selecting(services, pod):
            self.loop.enqueue(key)

    def _on_pod_update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        # Only a Service of its namespace can select the pod: in one without any, the pod's
        # changes are not even compared.
        services = self.services.by_index(NAMESPACE_INDEX, new.metadata.namespace)
        if services and endpoint_pods.endpoints_changed(old, new):
            for key in endpoint_pods.services_selecting(services, old, new):
                self.loop.enqueue(key)

    async def reconcile(self, key: str) -> float | None:
        namespace, _, name = key.partition("/")
        svc = self.services.get(key)
        if svc is None:
            if self.endpoints.get(key) is not None:
                try:
                    await self.client.endpoints.delete(name, namespace)
                except Exception as e:
                    if not is_not_found(e):
                        raise
            return None
        if svc.spec.type == svc_helper.EXTERNAL_NAME or not svc.spec.selector:
            return None
        pods = [
            p
            for p in self.pods.by_index(NAMESPACE_INDEX, namespace)
            if endpoint_pods.selects(svc, p)
        ]
        wanted_subsets = subsets(svc, sorted(pods, key=lambda p: p.metadata.name))
        labels = endpoints_labels(svc)
        current = self.endpoints.get(key)
        if current is None:
            created = service_pb2.Endpoints(
                metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, labels=labels),
                subsets=wanted_subsets,
            )
            try:
                await self.client.endpoints.create(created)
            except Exception as e:
                # Refused if they exist and the informer has not seen them yet: the error retries
                # the Service after a back-off, as Kubernetes' controller returns it (the
                # Endpoints' add event enqueues nothing), so what they hold is compared then.
                if not is_namespace_terminating(e):
                    raise
            return None
        if list(current.subsets) == wanted_subsets and dict(current.metadata.labels) == labels:
            return None
        updated = service_pb2.Endpoints()
        updated.CopyFrom(current)
        del updated.subsets[:]
        updated.subsets.extend(wanted_subsets)
        updated.metadata.labels.clear()
        updated.metadata.labels.update(labels)
        await self.client.endpoints.update(updated)
        return None
