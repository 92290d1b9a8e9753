"""The EndpointSlice controller (kubernetes pkg/controller/endpointslice): keeps the EndpointSlices
of every Service with a selector, labelled kubernetes.io/service-name=<service> and
endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io and owned by the Service
(the garbage collector deletes them with it).

Handlers only enqueue Service keys: a Service's own events, its slices' events, and a pod's
events for every Service of its namespace that selects it (before or after the change).
reconcile(key) plans the slices from the caches (reconciler.py) and writes the plan. A tracker of
the slices it wrote keeps it from planning again before its informer has seen its own writes:
a Service whose cached slices are older than what it wrote is tried again later."""

from __future__ import annotations

import logging

import grpc

from controller.endpointslice.reconciler import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    MAX_ENDPOINTS_PER_SLICE,
    plan_slices,
)
from controller.framework import endpoint_pods
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import SERVICE_NAME_LABEL
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

SERVICE_INDEX = "service"
# kube-controller-manager's --concurrent-service-endpoint-syncs default.
DEFAULT_WORKERS = 5


class StaleSlices(Exception):
    """The slice cache does not show this controller's own writes yet."""


class SliceTracker:
    """EndpointSliceTracker: the resourceVersion of each slice this controller wrote, and the
    slices it deleted, by Service."""

    def __init__(self) -> None:
        self._written: dict[str, dict[str, int]] = {}
        self._deleted: dict[str, set[str]] = {}

    def wrote(self, service: str, eps: discovery_pb2.EndpointSlice) -> None:
        self._written.setdefault(service, {})[eps.metadata.name] = int(
            eps.metadata.resource_version or 0
        )

    def deleted(self, service: str, name: str) -> None:
        self._written.get(service, {}).pop(name, None)
        self._deleted.setdefault(service, set()).add(name)

    def stale(self, service: str, cached: list[discovery_pb2.EndpointSlice]) -> bool:
        """Whether the cache misses a write: a slice older than written, or one deleted."""
        by_name = {eps.metadata.name: int(eps.metadata.resource_version or 0) for eps in cached}
        for name, version in self._written.get(service, {}).items():
            if by_name.get(name, -1) < version:
                return True
        return any(name in by_name for name in self._deleted.get(service, ()))

    def observed(self, service: str, cached: list[discovery_pb2.EndpointSlice]) -> None:
        """The cache has caught up: what it shows needs no more tracking."""
        names = {eps.metadata.name for eps in cached}
        self._deleted[service] = {n for n in self._deleted.get(service, ()) if n in names}

    def forget(self, service: str) -> None:
        self._written.pop(service, None)
        self._deleted.pop(service, None)


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
        self.tracker = SliceTracker()
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
            on_delete=self._on_service_delete,
        )
        self.pods.add_handler(
            on_add=self._on_pod, on_update=self._on_pod_update, on_delete=self._on_pod
        )
        self.slices.add_handler(
            on_add=self._on_slice,
            on_update=lambda _old, new: self._on_slice(new),
            on_delete=self._on_slice,
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, svc: service_pb2.Service) -> None:
        self.loop.enqueue(object_key(svc))

    def _on_service_delete(self, svc: service_pb2.Service) -> None:
        self.tracker.forget(object_key(svc))
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

    def _on_slice(self, eps: discovery_pb2.EndpointSlice) -> None:
        for key in _service_key_of(eps):
            self.loop.enqueue(key)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        svc = self.services.get(key)
        if svc is None:
            return None  # its slices go with it (owner references)
        if svc.spec.type == svc_helper.EXTERNAL_NAME or not svc.spec.selector:
            return None  # no endpoints, or managed by someone else
        cached = self.slices.by_index(SERVICE_INDEX, key)
        if self.tracker.stale(key, cached):
            raise StaleSlices(f"EndpointSlice informer cache is out of date for {key}")
        self.tracker.observed(key, cached)
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
                if _namespace_terminating(e):
                    return None
                raise
            self.tracker.wrote(key, created)
        for eps in plan.update:
            self.tracker.wrote(key, await api.update(eps))
        for eps in plan.delete:
            try:
                await api.delete(eps.metadata.name, namespace, uid=eps.metadata.uid)
            except Exception as e:
                if not is_not_found(e):
                    raise
            self.tracker.deleted(key, eps.metadata.name)
        if problems:
            raise RuntimeError("; ".join(problems))
        return None


def _service_key_of(eps: discovery_pb2.EndpointSlice) -> list[str]:
    """The SERVICE_INDEX function: the Service of a slice this controller manages."""
    if eps.metadata.labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME:
        return []
    name = eps.metadata.labels.get(SERVICE_NAME_LABEL)
    return [f"{eps.metadata.namespace}/{name}"] if name else []


def _namespace_terminating(err: BaseException) -> bool:
    """Creates in a namespace being deleted keep failing: the Service goes with it."""
    return (
        isinstance(err, grpc.aio.AioRpcError)
        and err.code() == grpc.StatusCode.PERMISSION_DENIED
        and "being terminated" in (err.details() or "")
    )
