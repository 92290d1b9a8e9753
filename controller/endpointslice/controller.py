"""The EndpointSlice controller (kubernetes pkg/controller/endpointslice): keeps the EndpointSlices
of every Service with a selector, labelled kubernetes.io/service-name=<service> and
endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io and owned by the Service
(the garbage collector deletes them with it).

Handlers only enqueue Service keys: a Service's own events, its slices' events, and a pod's
events for every Service of its namespace that selects it (before or after the change).
reconcile(key) plans the slices from the caches (reconciler.py) and writes the plan. A tracker of
the slices it wrote (tracker.py) keeps it from planning again before its informer has seen its
own writes: a Service whose cached slices are older than what it wrote is tried again later. A
slice someone else deleted or changed is not a lagging cache but a reason to sync: the Service
is queued and its slices recreated or repaired."""

from __future__ import annotations

import logging

from controller.endpointslice.reconciler import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MAX_ENDPOINTS_PER_SLICE,
    plan_slices,
)
from controller.endpointslice.tracker import EndpointSliceTracker, service_key_of
from controller.framework import endpoint_pods
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import SERVICE_NAME_LABEL
from podplane.client.clientset import Client, is_namespace_terminating, is_not_found
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

SERVICE_INDEX = "service"
# kube-controller-manager's --concurrent-service-endpoint-syncs default.
DEFAULT_WORKERS = 5


class StaleSlices(Exception):
    """The slice cache does not show this controller's own writes yet."""


class EndpointSliceController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = DEFAULT_WORKERS,
        max_endpoints_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
    ) -> None:
        self.client = client
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.services: Informer[service_pb2.Service] = informers.informer_for(resources.SERVICE)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.nodes: Informer[core_pb2.Node] = informers.informer_for(resources.NODE)
        # Every slice (the garbage collector's informer too); the index and the handlers see only
        # those this controller manages, as a watch with its managed-by selector would.
        self.slices: Informer[discovery_pb2.EndpointSlice] = informers.informer_for(
            resources.ENDPOINT_SLICE
        )
        self.services.add_index(NAMESPACE_INDEX, namespace_of)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        self.slices.add_index(SERVICE_INDEX, _service_key_of)
        self.tracker = EndpointSliceTracker()
        self.loop = ReconcileLoop(
            "endpointslice",
            self.reconcile,
            informers,
            [self.services, self.pods, self.nodes, self.slices],
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
        self.slices.add_handler(
            on_add=self._on_slice_add,
            on_update=self._on_slice_update,
            on_delete=self._on_slice_delete,
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, svc: service_pb2.Service) -> None:
        self.loop.enqueue(object_key(svc))

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

    def _on_slice_add(self, eps: discovery_pb2.EndpointSlice) -> None:
        # Its own creations come back here: only a slice it did not write is news.
        if _managed(eps) and self.tracker.should_sync(eps):
            self._enqueue_service_of(eps)

    def _on_slice_update(
        self, old: discovery_pb2.EndpointSlice, new: discovery_pb2.EndpointSlice
    ) -> None:
        # The generation does not move with labels: a slice moved to another Service, or taken
        # from or given to this controller, syncs both sides; for the Service it left, it is
        # as good as deleted.
        moved = old.metadata.labels.get(SERVICE_NAME_LABEL) != new.metadata.labels.get(
            SERVICE_NAME_LABEL
        )
        if moved or _managed(old) != _managed(new):
            self.tracker.handle_deletion(old)
            self._enqueue_service_of(old)
            self._enqueue_service_of(new)
        elif _managed(new) and self.tracker.should_sync(new):
            self._enqueue_service_of(new)

    def _on_slice_delete(self, eps: discovery_pb2.EndpointSlice) -> None:
        # A deletion it did not make (kubectl delete, a Service's old slices collected) is
        # repaired by a sync, not awaited as a lagging cache.
        if _managed(eps) and not self.tracker.handle_deletion(eps):
            self._enqueue_service_of(eps)

    def _enqueue_service_of(self, eps: discovery_pb2.EndpointSlice) -> None:
        if eps.metadata.labels.get(SERVICE_NAME_LABEL):
            self.loop.enqueue(service_key_of(eps))

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        svc = self.services.get(key)
        if svc is None:
            # Its slices go with it (owner references); a Service of the same name created
            # later starts afresh.
            self.tracker.delete_service(key)
            return None
        if svc.spec.type == svc_helper.EXTERNAL_NAME or not svc.spec.selector:
            return None  # no endpoints, or managed by someone else
        cached = self.slices.by_index(SERVICE_INDEX, key)
        if self.tracker.stale_slices(key, svc.metadata.uid, cached):
            raise StaleSlices(f"EndpointSlice informer cache is out of date for {key}")
        # Slices already being deleted are as good as gone (dropEndpointSlicesPendingDeletion).
        cached = [eps for eps in cached if not eps.metadata.deletion_timestamp]
        namespace = svc.metadata.namespace
        pods = [
            p
            for p in self.pods.by_index(NAMESPACE_INDEX, namespace)
            if endpoint_pods.selects(svc, p)
        ]
        nodes = {n.metadata.name: n for n in self.nodes.list()}
        plan, problems = plan_slices(svc, pods, nodes, cached, self.max_endpoints_per_slice)
        api = self.client.endpointslices
        for eps in plan.create:
            try:
                created = await api.create(eps)
            except Exception as e:
                if is_namespace_terminating(e):
                    return None
                raise
            self.tracker.update(created)
        for eps in plan.update:
            self.tracker.update(await api.update(eps))
        for eps in plan.delete:
            # Expected before the call: its deletion may be seen before the call returns.
            self.tracker.expect_deletion(eps)
            try:
                await api.delete(eps.metadata.name, namespace, uid=eps.metadata.uid)
            except Exception as e:
                if not is_not_found(e):
                    self.tracker.forget_slice(eps)
                    raise
        if problems:
            raise RuntimeError("; ".join(problems))
        return None


def _managed(eps: discovery_pb2.EndpointSlice) -> bool:
    return eps.metadata.labels.get(MANAGED_BY_LABEL) == CONTROLLER_NAME


def _service_key_of(eps: discovery_pb2.EndpointSlice) -> list[str]:
    """The SERVICE_INDEX function: the Service of a slice this controller manages."""
    if not _managed(eps) or not eps.metadata.labels.get(SERVICE_NAME_LABEL):
        return []
    return [service_key_of(eps)]
