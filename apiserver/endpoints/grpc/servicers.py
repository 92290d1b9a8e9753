"""gRPC servicers: thin adapters from the generated service interfaces to the registry. One generic
servicer serves every resource's Create/Get/List/Watch/Update/UpdateStatus/Delete; an APIError the
registry raises ends the call with its status (api_errors_as_status).

A write's manager (metadata.managedFields) is the call's `field-manager` metadata, else the first
word of its user agent (a client's grpc.primary_user_agent: `kubelet/v1.31.0 grpc-python/...` is
kubelet), as the REST door takes the fieldManager parameter, else the User-Agent header."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Generic

import grpc

from apiserver import errors
from apiserver.endpoints.grpc.request_stream import RequestStream
from apiserver.endpoints.grpc.status import api_errors_as_status, warning_trailer
from apiserver.endpoints.grpc.watch_batches import batch_bytes
from apiserver.endpoints.object_type import check_object_type
from apiserver.objects import ListMessage, T, WatchMessage
from apiserver.registry.componentstatus.rest import DEPRECATION_WARNING, ComponentStatuses
from apiserver.registry.generic.managed_fields import Manager
from apiserver.registry.generic.options import (
    DeleteOptions,
    ListOptions,
    Preconditions,
    WatchOptions,
)
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import proxy
from apiserver.registry.pod.binding import bind
from apiserver.registry.pod.ephemeral_containers import update_ephemeral_containers
from apiserver.registry.pod.eviction import Evictions
from apiserver.registry.pod.eviction import check_type as check_eviction_type
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.reviews import CreateOnlyAPI
from apiserver.registry.serviceaccount.token import TokenRequests
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2

log = logging.getLogger(__name__)

# Events per message on a watch that allows batches (WatchRequest.allow_watch_batches).
MAX_WATCH_BATCH = 100
# What a Bind answers, as Kubernetes' pods/binding does (a create answering a Status: code 201).
BOUND = meta_pb2.Status(api_version="v1", kind="Status", status="Success", code=201)
# The call metadata a client names its field manager with.
FIELD_MANAGER_KEY = "field-manager"


def manager_of(context: grpc.aio.ServicerContext) -> Manager:
    """Who writes: the call's field-manager metadata and its user agent."""
    field_manager = user_agent = ""
    for key, value in context.invocation_metadata() or ():
        if key == FIELD_MANAGER_KEY and isinstance(value, str):
            field_manager = value
        elif key == "user-agent" and isinstance(value, str):
            user_agent = value
    return Manager(field_manager, user_agent)


class ResourceServicer(Generic[T]):
    def __init__(self, api: ResourceAPI[T]) -> None:
        self.api = api

    def _check_type(self, obj: T) -> None:
        """The object's apiVersion and kind, when it sets them, are the resource's, as the REST
        door requires of a body."""
        check_object_type(self.api.resource, obj.api_version, obj.kind)  # type: ignore[attr-defined]

    @api_errors_as_status
    async def Create(self, request: T, context: grpc.aio.ServicerContext) -> T:
        self._check_type(request)
        return await self.api.create(request, manager=manager_of(context))

    @api_errors_as_status
    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> T:
        return await self.api.get(request.namespace, request.name, request.resource_version)

    @api_errors_as_status
    async def List(
        self, request: meta_pb2.ListRequest, context: grpc.aio.ServicerContext
    ) -> ListMessage[T]:
        return await self.api.list(
            request.namespace,
            ListOptions(
                label_selector=request.label_selector,
                field_selector=request.field_selector,
                resource_version=request.resource_version,
                limit=request.limit,
                continue_=request.continue_token,
            ),
        )

    @api_errors_as_status
    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[WatchMessage[T] | bytes]:
        options = WatchOptions(
            label_selector=request.label_selector,
            field_selector=request.field_selector,
            resource_version=request.resource_version,
            allow_watch_bookmarks=request.allow_watch_bookmarks,
            timeout_seconds=request.timeout_seconds,
        )
        async for batch in self.api.watch_batches(
            request.namespace,
            options,
            max_batch=MAX_WATCH_BATCH if request.allow_watch_batches else 1,
        ):
            # Each write is a trip through gRPC's core and the event loop: a stream sending
            # one event per write fell behind a few hundred events a second.
            # A batch goes as bytes (watch_batches): built as a message, it copied each event.
            yield batch[0] if len(batch) == 1 else batch_bytes(batch)

    @api_errors_as_status
    async def Update(self, request: T, context: grpc.aio.ServicerContext) -> T:
        self._check_type(request)
        return await self.api.update(request, manager=manager_of(context))

    @api_errors_as_status
    async def UpdateStatus(self, request: T, context: grpc.aio.ServicerContext) -> T:
        self._check_type(request)
        return await self.api.update_status(request, manager=manager_of(context))

    @api_errors_as_status
    async def UpdateApproval(self, request: T, context: grpc.aio.ServicerContext) -> T:
        """A CertificateSigningRequest's approval (the only service that declares it)."""
        self._check_type(request)
        return await self.api.update_status(
            request, manager=manager_of(context), subresource="approval"
        )

    @api_errors_as_status
    async def Delete(self, request: meta_pb2.DeleteRequest, context: grpc.aio.ServicerContext) -> T:
        options = DeleteOptions(
            grace_period_seconds=(
                request.grace_period_seconds if request.HasField("grace_period_seconds") else None
            ),
            preconditions=Preconditions(
                uid=request.preconditions.uid,
                resource_version=request.preconditions.resource_version,
            ),
            propagation_policy=request.propagation_policy,
        )
        deleted, _ = await self.api.delete(request.namespace, request.name, options)
        return deleted


class CreateOnlyServicer(Generic[T]):
    """A create-only kind's service (an access review): Create alone."""

    def __init__(self, api: CreateOnlyAPI[T]) -> None:
        self.api = api

    @api_errors_as_status
    async def Create(self, request: T, context: grpc.aio.ServicerContext) -> T:
        return await self.api.create(request)


class ComponentStatusesServicer:
    """ComponentStatuses: Get and List, computed on each call, each answer carrying the
    deprecation warning in its trailer (the REST door's Warning header)."""

    def __init__(self, api: ComponentStatuses) -> None:
        self.api = api

    @api_errors_as_status
    async def Get(
        self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext
    ) -> core_pb2.ComponentStatus:
        context.set_trailing_metadata(warning_trailer([DEPRECATION_WARNING]))
        return await self.api.get(request.name)

    @api_errors_as_status
    async def List(
        self, request: meta_pb2.ListRequest, context: grpc.aio.ServicerContext
    ) -> core_pb2.ComponentStatusList:
        context.set_trailing_metadata(warning_trailer([DEPRECATION_WARNING]))
        return await self.api.list(request.label_selector, request.field_selector)


class EventsServicer(ResourceServicer[core_pb2.Event]):
    def __init__(self, api: ResourceAPI[core_pb2.Event]) -> None:
        super().__init__(api)
        # Create, for each event an event stream carries.
        self.CreateStream = RequestStream(self.Create, "event").serve


class PodsServicer(ResourceServicer[core_pb2.Pod]):
    def __init__(
        self,
        api: ResourceAPI[core_pb2.Pod],
        nodes: Store[core_pb2.Node],
        budgets: ResourceAPI[policy_pb2.PodDisruptionBudget],
    ) -> None:
        super().__init__(api)
        self.store = api.store
        self.nodes = nodes
        self.evictions = Evictions(api, budgets)
        # Create, for each pod a create stream carries; Bind, for each binding a bind stream
        # carries.
        self.CreateStream = RequestStream(self.Create, "pod").serve
        self.BindStream = RequestStream(self.Bind, "binding").serve

    @api_errors_as_status
    async def Bind(
        self, request: core_pb2.Binding, context: grpc.aio.ServicerContext
    ) -> meta_pb2.Status:
        await bind(self.store, request, self.api.reads.peek)
        return BOUND

    @api_errors_as_status
    async def Evict(
        self, request: policy_pb2.Eviction, context: grpc.aio.ServicerContext
    ) -> meta_pb2.Status:
        check_eviction_type(request.api_version, request.kind)
        meta = request.metadata
        return await self.evictions.evict(meta.namespace, meta.name, request)

    @api_errors_as_status
    async def Log(
        self, request: core_pb2.PodLogRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.LogChunk]:
        async for chunk in proxy.logs(self.store, self.nodes, request):
            yield chunk

    @api_errors_as_status
    async def Exec(
        self, request: core_pb2.PodExecRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        async for chunk in proxy.exec_command(self.store, self.nodes, request):
            yield chunk

    @api_errors_as_status
    async def UpdateEphemeralContainers(
        self, request: core_pb2.Pod, context: grpc.aio.ServicerContext
    ) -> core_pb2.Pod:
        self._check_type(request)
        return await update_ephemeral_containers(self.store, request, manager_of(context))

    @api_errors_as_status
    async def Attach(
        self, request: core_pb2.PodAttachRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        async for chunk in proxy.attach(self.store, self.nodes, request):
            yield chunk


class ServiceAccountsServicer(ResourceServicer[core_pb2.ServiceAccount]):
    def __init__(
        self, api: ResourceAPI[core_pb2.ServiceAccount], tokens: TokenRequests | None
    ) -> None:
        super().__init__(api)
        self.tokens = tokens

    @api_errors_as_status
    async def CreateToken(
        self, request: token_request_pb2.TokenRequest, context: grpc.aio.ServicerContext
    ) -> token_request_pb2.TokenRequest:
        """serviceaccounts/token for the account the request's metadata names."""
        if self.tokens is None:  # as the REST door's 404: the subresource does not exist
            raise errors.APIError(
                grpc.StatusCode.NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource: the apiserver serves no "
                "serviceaccounts/token without --service-account-signing-key-file and "
                "--service-account-issuer",
            )
        meta = request.metadata
        return await self.tokens.create(meta.namespace or "default", meta.name, request)
