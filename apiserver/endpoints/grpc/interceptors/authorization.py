"""The authorization interceptor (k8s.io/apiserver/pkg/endpoints/filters/authorization.go): asks
apiserver.auth.authorizer before each call whether its user may make it, and refuses with
PERMISSION_DENIED in Kubernetes' words. The namespace and name are read from the request message:
an object's metadata (create, update, bind), or the request's own fields (get, list, watch,
delete, log, exec)."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from apiserver import errors
from apiserver.auth.authorizer import Attributes, Authorizer, request_attributes
from apiserver.auth.user import UserInfo, current_user
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (Behavior, WrappingInterceptor,
                                                                   wrap_behaviors)
from apiserver.endpoints.grpc.request_info import request_info
from apiserver.endpoints.request import RequestInfo


def request_names(request: Any) -> tuple[str, str]:
    """The namespace and name a request message names (any message: it is not typed here)."""
    if hasattr(request, "metadata"):
        return request.metadata.namespace, request.metadata.name
    return getattr(request, "namespace", ""), getattr(request, "name", "")


def attributes(user: UserInfo, info: RequestInfo, request: Any) -> Attributes:
    return request_attributes(user, info.authorization_verb, info.resource, info.subresource,
                              *request_names(request))


class AuthorizationInterceptor(WrappingInterceptor):
    """Refuses a call its user may not make. Listed after the authentication interceptor, so its
    check runs inside the call where current_user() is set."""

    def __init__(self, authorizer: Authorizer) -> None:
        super().__init__()
        self.authorizer = authorizer

    async def _check(self, info: RequestInfo, request: Any,
                     context: grpc.aio.ServicerContext) -> None:
        try:
            self.authorizer.check(current_user(), info.authorization_verb, info.resource,
                                  info.subresource, *request_names(request))
        except errors.APIError as err:
            await context.abort(err.code, err.message)

    def _unary(self, behavior: Behavior, info: RequestInfo) -> Callable[..., Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await self._check(info, request, context)
            return await behavior(request, context)
        return handle

    def _stream(self, behavior: Behavior, info: RequestInfo) -> Callable[..., AsyncIterator[Any]]:
        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            await self._check(info, request, context)
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response
        return stream

    def wrap_handler(self, method: str, handler: Any) -> Any:
        info = request_info(method)
        if info is None:
            return handler
        return wrap_behaviors(handler, lambda b: self._unary(b, info),
                              lambda b: self._stream(b, info))
