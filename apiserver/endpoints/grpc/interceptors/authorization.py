"""The authorization interceptor (k8s.io/apiserver/pkg/endpoints/filters/authorization.go): asks
apiserver.auth.authorizer before each call whether its user (system:anonymous included) may make
it, and refuses with PERMISSION_DENIED in Kubernetes' words. The namespace and name are read from
the request message: an object's metadata (create, update, bind), or the request's own fields
(get, list, watch, delete, log, exec). Reflection is authorized as a GET of /openapi/v3."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import grpc
from google.protobuf.message import Message

from apiserver.auth.authorizer import Attributes, Authorizer, request_attributes
from apiserver.auth.user import UserInfo, current_user
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Stream,
    Unary,
    WrappingInterceptor,
    abort,
    checked_first,
    wrap_behaviors,
)
from apiserver.endpoints.grpc.interceptors.request_info import (
    custom_request_info,
    non_resource_path,
    request_info,
)
from apiserver.endpoints.request import RequestInfo, Resolver
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObjectRequest
from podplane.apimachinery.resources import Resource


def request_names(request: Message) -> tuple[str, str]:
    """The namespace and name a request message names: an object's metadata (a custom object's
    in its request), or the request's own namespace and name fields (every kind of request
    message comes here)."""
    if hasattr(request, "metadata"):
        meta = request.metadata
        return meta.namespace, meta.name
    if isinstance(request, CustomObjectRequest):
        return request.object.metadata.namespace, request.object.metadata.name
    return getattr(request, "namespace", ""), getattr(request, "name", "")


def attributes(user: UserInfo, info: RequestInfo, request: Message) -> Attributes:
    return request_attributes(
        user,
        info.authorization_verb,
        info.resource,
        info.subresource,
        *request_names(request),
        group=info.group,
        namespaced=info.namespaced,
        field_selector=getattr(request, "field_selector", ""),
    )


def _no_resources(group: str, version: str, plural: str) -> Resource | None:
    return None


class AuthorizationInterceptor(WrappingInterceptor):
    """Refuses a call its user may not make. Listed after the authentication interceptor, so its
    check runs inside the call where current_user() is set."""

    def __init__(self, authorizer: Authorizer, resolve: Resolver = _no_resources) -> None:
        super().__init__()
        self.authorizer = authorizer
        # The custom resources a CustomObjects call may name (the server's served resources).
        self.resolve = resolve

    async def _check(
        self, info: RequestInfo, request: Message, context: grpc.aio.ServicerContext
    ) -> None:
        if info.per_request:
            info = custom_request_info(info, request, self.resolve)
        user = current_user()
        if user is None:  # no authentication configured: every request is allowed
            return
        refused = self.authorizer.refusal(attributes(user, info, request))
        if refused is not None:
            await abort(context, refused.code, refused.message)

    async def _check_path(self, path: str, context: grpc.aio.ServicerContext) -> None:
        refused = self.authorizer.non_resource_refusal(current_user(), "get", path)
        if refused is not None:
            await abort(context, refused.code, refused.message)

    def _unary(self, behavior: Unary, info: RequestInfo) -> Unary:
        async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
            await self._check(info, request, context)
            return await behavior(request, context)

        return handle

    def _stream(self, behavior: Stream, info: RequestInfo) -> Stream:
        async def stream(
            request: Message, context: grpc.aio.ServicerContext
        ) -> AsyncGenerator[Message, None]:
            await self._check(info, request, context)
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response

        return stream

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        info = request_info(method)
        if info is None:
            path = non_resource_path(method)
            if path is None:
                return handler
            return checked_first(handler, lambda context: self._check_path(path, context))
        return wrap_behaviors(
            handler, lambda b: self._unary(b, info), lambda b: self._stream(b, info)
        )
