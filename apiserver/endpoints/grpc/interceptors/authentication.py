"""The authentication interceptor (k8s.io/apiserver/pkg/endpoints/filters/authentication.go):
every call is attributed to a user, from the connection's verified client certificate or an
`authorization: Bearer <token>` header, before anything else looks at it; a call that is neither
is refused with UNAUTHENTICATED "Unauthorized", as kube-apiserver answers 401.

The health service stays open to anonymous callers, as /healthz, /livez and /readyz are in
Kubernetes (system:public-info-viewer): container healthchecks and load balancers probe it.
Reflection, like /openapi, needs an authenticated caller."""
from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from apiserver.auth.token_file import TokenAuthenticator
from apiserver.auth.user import AUTHENTICATED_GROUP, UserInfo, reset_current_user, \
    set_current_user
from apiserver.auth.x509 import user_from_auth_context
from apiserver.endpoints.grpc.interceptors.handler_wrapping import WrappingInterceptor

log = logging.getLogger(__name__)

UNAUTHORIZED = "Unauthorized"
ANONYMOUS_SERVICES = ("/grpc.health.v1.Health/",)


def bearer_token(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class Authenticator:
    """Kubernetes' union of the x509 and token-file authenticators: the first that knows the
    caller wins; system:authenticated is added to every user's groups."""

    def __init__(self, tokens: TokenAuthenticator | None = None) -> None:
        self._tokens = tokens

    def authenticate(self, auth_context: Any, metadata: Any) -> UserInfo | None:
        user = user_from_auth_context(auth_context)
        if user is None and self._tokens is not None:
            token = bearer_token(metadata)
            if token is not None:
                user = self._tokens.authenticate(token)
        if user is None:
            return None
        return UserInfo(user.name, user.groups | {AUTHENTICATED_GROUP})


Behavior = Callable[..., Any]


class AuthenticationInterceptor(WrappingInterceptor):
    def __init__(self, authenticator: Authenticator) -> None:
        super().__init__()
        self._authenticator = authenticator

    def _user(self, context: grpc.aio.ServicerContext) -> UserInfo | None:
        return self._authenticator.authenticate(context.auth_context(),
                                                context.invocation_metadata())

    async def _refuse(self, context: grpc.aio.ServicerContext) -> None:
        log.debug("unauthenticated call from %s", context.peer())
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHORIZED)

    def _wrap(self, behavior: Behavior) -> Behavior:
        """The behavior with the caller set for its own task (the contextvar is per task)."""
        if inspect.isasyncgenfunction(behavior):
            async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                user = self._user(context)
                if user is None:
                    await self._refuse(context)
                token = set_current_user(user)
                try:
                    async for item in behavior(request, context):
                        yield item
                finally:
                    reset_current_user(token)
            return stream

        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            user = self._user(context)
            if user is None:
                await self._refuse(context)
            token = set_current_user(user)
            try:
                result = behavior(request, context)
                return await result if inspect.isawaitable(result) else result
            finally:
                reset_current_user(token)
        return call


    def wrap_handler(self, method: str, handler: Any) -> Any:
        if method.startswith(ANONYMOUS_SERVICES):
            return handler
        for kind, factory in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                              ("unary_stream", grpc.unary_stream_rpc_method_handler),
                              ("stream_unary", grpc.stream_unary_rpc_method_handler),
                              ("stream_stream", grpc.stream_stream_rpc_method_handler)):
            behavior = getattr(handler, kind)
            if behavior is not None:
                return factory(self._wrap(behavior),
                               request_deserializer=handler.request_deserializer,
                               response_serializer=handler.response_serializer)
        return handler
