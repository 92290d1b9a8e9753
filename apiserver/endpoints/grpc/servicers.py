"""gRPC servicers: thin adapters from the generated service interfaces to the registry. One generic
servicer serves every resource's Create/Get/List/Watch/Update/UpdateStatus/Delete."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from apiserver import errors
from apiserver.registry.pod import subresources as pod_subresources
from apiserver.registry.pod.ephemeral_containers import update_ephemeral_containers
from apiserver.registry.cacher import Cacher
from apiserver.registry.store import Store
from apiserver.registry.uncached import Uncached
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)

# Events per message on a watch that allows batches (WatchRequest.allow_watch_batches).
MAX_WATCH_BATCH = 100


async def _abort(context: grpc.aio.ServicerContext, err: errors.APIError) -> None:
    await context.abort(err.code, errors.status_message(err.message))


def _from_cache(resource_version: str) -> bool:
    """resourceVersion "0" means any version will do: served from the watch cache; "" means the
    most recent: read from etcd."""
    return resource_version == "0"


class ResourceServicer:
    def __init__(self, store: Store, cacher: Cacher | Uncached) -> None:
        self.store = store
        # The watch cache, or etcd itself for a resource kept out of it (UNCACHED_RESOURCES).
        self.cacher = cacher

    def _namespace(self, namespace: str) -> str:
        return (namespace or "default") if self.store.resource.namespaced else ""

    def _cached(self, obj: Any) -> Any | None:
        """The watch cache's copy of the object an update names: the update starts from it
        instead of reading etcd (see Store.guaranteed_update)."""
        if not obj.metadata.name:
            return None
        return self.cacher.peek(self._namespace(obj.metadata.namespace), obj.metadata.name)

    async def Create(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await self.store.create(request)
        except errors.APIError as e:
            await _abort(context, e)

    async def Get(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            if _from_cache(request.resource_version):
                return await self.cacher.get(self._namespace(request.namespace), request.name)
            return await self.store.get(self._namespace(request.namespace), request.name)
        except errors.APIError as e:
            await _abort(context, e)

    async def List(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request.limit < 0:
            await _abort(context, errors.bad_request("limit: Invalid value: must be >= 0"))
        try:
            # An empty namespace lists every namespace (kubectl --all-namespaces).
            if _from_cache(request.resource_version) and not request.continue_token:
                return await self.cacher.list(
                    request.namespace, label_selector=request.label_selector,
                    field_selector=request.field_selector)
            return await self.store.list(
                request.namespace, label_selector=request.label_selector,
                field_selector=request.field_selector, limit=request.limit,
                continue_token=request.continue_token)
        except errors.APIError as e:
            await _abort(context, e)

    async def Watch(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for batch in self.cacher.watch_batches(
                    request.namespace, resource_version=request.resource_version,
                    label_selector=request.label_selector, field_selector=request.field_selector,
                    allow_bookmarks=request.allow_watch_bookmarks,
                    timeout_seconds=request.timeout_seconds,
                    max_batch=MAX_WATCH_BATCH if request.allow_watch_batches else 1):
                # Each write is a trip through gRPC's core and the event loop: a stream sending
                # one event per write fell behind a few hundred events a second.
                yield batch[0] if len(batch) == 1 else type(batch[0])(events=batch)
        except errors.APIError as e:
            await _abort(context, e)

    async def Update(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await self.store.update(request, cached=self._cached(request))
        except errors.APIError as e:
            await _abort(context, e)

    async def UpdateStatus(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await self.store.update_status(request, cached=self._cached(request))
        except errors.APIError as e:
            await _abort(context, e)

    async def Delete(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await self.store.delete(
                self._namespace(request.namespace), request.name,
                grace_period_seconds=(request.grace_period_seconds
                                      if request.HasField("grace_period_seconds") else None),
                expected_rv=request.preconditions.resource_version,
                expected_uid=request.preconditions.uid,
                propagation_policy=request.propagation_policy)
        except errors.APIError as e:
            await _abort(context, e)


class PodsServicer(ResourceServicer):
    def __init__(self, store: Store, cacher: Cacher, nodes: Store) -> None:
        super().__init__(store, cacher)
        self.nodes = nodes

    async def Bind(self, request: core_pb2.Binding,
                   context: grpc.aio.ServicerContext) -> core_pb2.Pod | None:
        try:
            return await pod_subresources.bind(self.store, request, self.cacher.peek)
        except errors.APIError as e:
            await _abort(context, e)
        return None

    async def Log(self, request: core_pb2.PodLogRequest,
                  context: grpc.aio.ServicerContext) -> AsyncIterator[core_pb2.LogChunk]:
        try:
            async for chunk in pod_subresources.logs(self.store, self.nodes, request):
                yield chunk
        except errors.APIError as e:
            await _abort(context, e)

    async def Exec(self, request: core_pb2.PodExecRequest,
                   context: grpc.aio.ServicerContext) -> AsyncIterator[core_pb2.ExecChunk]:
        try:
            async for chunk in pod_subresources.exec_command(self.store, self.nodes, request):
                yield chunk
        except errors.APIError as e:
            await _abort(context, e)

    async def UpdateEphemeralContainers(self, request: core_pb2.Pod,
                                        context: grpc.aio.ServicerContext) -> core_pb2.Pod | None:
        try:
            return await update_ephemeral_containers(self.store, request)
        except errors.APIError as e:
            await _abort(context, e)
        return None

    async def Attach(self, request: core_pb2.PodAttachRequest,
                     context: grpc.aio.ServicerContext) -> AsyncIterator[core_pb2.ExecChunk]:
        try:
            async for chunk in pod_subresources.attach(self.store, self.nodes, request):
                yield chunk
        except errors.APIError as e:
            await _abort(context, e)
