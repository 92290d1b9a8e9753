"""The AvailableConditionController (kube-aggregator available_controller.go, Kubernetes 1.31):
each APIService's Available condition kept as apiserver/aggregator/availability.py decides it,
written through the status subresource only when it changes (SetAPIServiceCondition: the
transition time moves with the status). An APIService is looked at again when it changes, when
its Service or one of the Service's EndpointSlices changes (their watch caches), every 30 s
(the informer's resync, which finds a backend gone unreachable), and after a failed discovery
check with the work queue's back-off (5 ms doubling to 30 s)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from apiserver.aggregator.availability import PASSED, Probe, Verdict, check_service
from apiserver.aggregator.backends import backend_of
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.apiregistration.autoregister import Cached
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import apiservices, timeutil
from podplane.apimachinery.apiservices import APIService
from podplane.apimachinery.service import SERVICE_NAME_LABEL

log = logging.getLogger(__name__)

RESYNC_SECONDS = 30.0


class StatusWriter(Protocol):
    async def update_status(self, obj: APIService) -> APIService: ...


class FailedDiscoveryCheck(Exception):
    """The discovery check failed: the name is looked at again with back-off."""


def set_condition(obj: APIService, verdict: Verdict) -> None:
    """SetAPIServiceCondition for Available."""
    for c in obj.status.conditions:
        if c.type == apiservices.AVAILABLE:
            if c.status != verdict.status:
                c.status, c.last_transition_time = verdict.status, timeutil.now()
            c.reason, c.message = verdict.reason, verdict.message
            return
    obj.status.conditions.add(
        type=apiservices.AVAILABLE,
        status=verdict.status,
        last_transition_time=timeutil.now(),
        reason=verdict.reason,
        message=verdict.message,
    )


class AvailableConditionController:
    """A CacheObserver of the APIServices' cache; `services_changed` and `slices_changed` are
    the Services' and EndpointSlices' caches' (ServiceFeed, SliceFeed)."""

    def __init__(
        self,
        apiservices_cache: Cached[APIService],
        store: StatusWriter,
        service: Callable[[str, str], service_pb2.Service | None],
        slices: Callable[[str, str], Sequence[discovery_pb2.EndpointSlice]],
        probe: Probe | None,
    ) -> None:
        self.cache = apiservices_cache
        self.store = store
        self.service = service
        self.slices = slices
        self.probe = probe
        self.loop = DefinitionLoop("AvailableConditionController", self.reconcile)
        # (namespace, service name) -> the APIServices naming it (rebuildAPIServiceCache).
        self._by_service: dict[tuple[str, str], set[str]] = {}

    # ------------------------------------------------------------------ triggers
    def changed(self, prev: APIService | None, obj: APIService | None) -> None:
        current = obj or prev
        if current is None:
            return
        if prev is None or obj is None or prev.spec.service != obj.spec.service:
            self._rebuild()
        self.loop.enqueue(current.metadata.name)

    def replaced(self, objects: Iterable[APIService]) -> None:
        self._rebuild()
        for obj in objects:
            self.loop.enqueue(obj.metadata.name)

    def _rebuild(self) -> None:
        index: dict[tuple[str, str], set[str]] = {}
        for obj in list(self.cache.objects.values()):
            if obj.spec.HasField("service"):
                key = (obj.spec.service.namespace, obj.spec.service.name)
                index.setdefault(key, set()).add(obj.metadata.name)
        self._by_service = index

    def service_changed(self, namespace: str, name: str) -> None:
        for apiservice in self._by_service.get((namespace, name), ()):
            self.loop.enqueue(apiservice)

    async def run(self) -> None:
        """Runs once the caches are ready (the server starts it after they are)."""
        self.replaced(list(self.cache.objects.values()))
        await self.loop.run()

    # ------------------------------------------------------------------ sync
    async def reconcile(self, name: str) -> float | None:
        original = self.cache.peek("", name)
        if original is None:
            return None
        obj = APIService()
        obj.CopyFrom(original)
        backend = backend_of(obj)
        if backend is None:  # local APIServices are always available
            apiservices.set_local_available(obj)
            await self._write(original, obj)
            return None
        service = self.service(backend.namespace, backend.service)
        verdict = check_service(backend, service, self.slices(backend.namespace, backend.service))
        failure = None
        if verdict is None and self.probe is not None:
            failure = await self.probe(backend)
            if failure is not None:
                verdict = Verdict("False", "FailedDiscoveryCheck", failure)
        set_condition(obj, verdict or PASSED)
        await self._write(original, obj)
        if failure is not None:
            raise FailedDiscoveryCheck(failure)
        return RESYNC_SECONDS

    async def _write(self, original: APIService, obj: APIService) -> None:
        """updateAPIServiceStatus: only a change is written."""
        if original.status == obj.status:
            return
        log.info(
            "changing APIService availability: %s %s",
            obj.metadata.name,
            [(c.status, c.reason, c.message) for c in obj.status.conditions],
        )
        await self.store.update_status(obj)


class ServiceFeed:
    """A CacheObserver of the Services' cache for the controller."""

    def __init__(self, controller: AvailableConditionController) -> None:
        self.controller = controller

    def changed(self, prev: service_pb2.Service | None, obj: service_pb2.Service | None) -> None:
        current = obj or prev
        if current is not None:
            self.controller.service_changed(current.metadata.namespace, current.metadata.name)

    def replaced(self, objects: Iterable[service_pb2.Service]) -> None:
        for obj in objects:
            self.changed(None, obj)


class SliceFeed:
    """A CacheObserver of the EndpointSlices' cache: a slice's Service, by its label."""

    def __init__(self, controller: AvailableConditionController) -> None:
        self.controller = controller

    def changed(
        self,
        prev: discovery_pb2.EndpointSlice | None,
        obj: discovery_pb2.EndpointSlice | None,
    ) -> None:
        for current in (prev, obj):
            if current is not None:
                service = current.metadata.labels.get(SERVICE_NAME_LABEL, "")
                if service:
                    self.controller.service_changed(current.metadata.namespace, service)

    def replaced(self, objects: Iterable[discovery_pb2.EndpointSlice]) -> None:
        for obj in objects:
            self.changed(None, obj)
