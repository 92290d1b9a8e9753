"""The authentication interceptor (k8s.io/apiserver/pkg/endpoints/filters/authentication.go):
every call is attributed to a user, from the connection's verified client certificate or an
`authorization: Bearer <token>` header, before anything else looks at it; a call with neither is
system:anonymous (--anonymous-auth), which the authorization interceptor then refuses
PERMISSION_DENIED in Kubernetes' words wherever RBAC grants system:unauthenticated nothing, as
kube-apiserver answers 403. A token no one issued (or no credentials with --anonymous-auth=false)
is refused with UNAUTHENTICATED "Unauthorized", as kube-apiserver answers 401. Who the caller
is, apiserver.auth.authenticator decides; this adapter reads gRPC's auth context and metadata
for it.

The health service stays open to every caller while anonymous requests are allowed, as
/healthz, /livez and /readyz are in Kubernetes (system:public-info-viewer): container
healthchecks and load balancers probe it. With --anonymous-auth=false it wants credentials, as
/healthz then does. Reflection is authorized as /openapi/v3 (the authorization interceptor).

A call's `impersonate-user`, `impersonate-group`, `impersonate-uid` and `impersonate-extra-<key>`
metadata are the REST door's Impersonate-* headers: apiserver.auth.impersonation decides whether
the caller may act as the user they name, and the call is that user's from here on."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import NoReturn

import grpc

from apiserver import errors
from apiserver.auth.authenticator import Authenticator, bearer_from_header
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.impersonation import impersonate, requested
from apiserver.auth.user import UserInfo, reset_current_user, set_current_user
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    SHAPES,
    WrappingInterceptor,
    abort,
)
from podplane.componentbase.x509_subject import peer_subject

log = logging.getLogger(__name__)

UNAUTHORIZED = "Unauthorized"
ANONYMOUS_SERVICES = ("/grpc.health.v1.Health/",)


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The bearer token of a call's `authorization` metadata, else None."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            token = bearer_from_header(value)
            if token is not None:
                return token
    return None


async def authenticate(
    authenticator: Authenticator,
    auth_context: Mapping[str, Sequence[bytes]],
    metadata: Iterable[tuple[str, str | bytes]] | None,
) -> UserInfo | None:
    """The caller of a gRPC call: its connection's verified certificate, else its bearer token,
    else system:anonymous if it has neither and anonymous calls are allowed; None: refused as
    unauthenticated."""
    return await authenticator.authenticate_request(
        peer_subject(auth_context), bearer_token(metadata)
    )


# A handler's behavior of any of gRPC's four shapes (a request or a request iterator in; an
# answer, an awaitable or an async iterator out): this interceptor wraps them all.
Behavior = Callable[..., object]


def _text_metadata(
    metadata: Iterable[tuple[str, str | bytes]] | None,
) -> Iterable[tuple[str, str]]:
    return ((k, v) for k, v in metadata or () if isinstance(v, str))


class AuthenticationInterceptor(WrappingInterceptor):
    """The caller of every call, and the user it acts as when it impersonates one (allowed by
    `authorizer`; without one, impersonation metadata is not read)."""

    def __init__(self, authenticator: Authenticator, authorizer: Authorizer | None = None) -> None:
        super().__init__()
        self._authenticator = authenticator
        self._authorizer = authorizer

    async def _user(self, context: grpc.aio.ServicerContext) -> UserInfo | None:
        """The user the call runs as; raises the APIError of an impersonation refused."""
        metadata = context.invocation_metadata()
        user = await authenticate(self._authenticator, context.auth_context(), metadata)
        if user is None or self._authorizer is None:
            return user
        return impersonate(user, requested(_text_metadata(metadata)), self._authorizer.authorize)

    async def _caller(self, context: grpc.aio.ServicerContext) -> UserInfo:
        try:
            user = await self._user(context)
        except errors.APIError as err:
            await abort(context, err.code, err.message)
        if user is None:
            await self._refuse(context)
        return user

    async def _refuse(self, context: grpc.aio.ServicerContext) -> NoReturn:
        log.debug("unauthenticated call from %s", context.peer())
        await abort(context, grpc.StatusCode.UNAUTHENTICATED, UNAUTHORIZED)

    def _wrap(self, behavior: Behavior) -> Behavior:
        """The behavior with the caller set for its own task (the contextvar is per task)."""
        if inspect.isasyncgenfunction(behavior):

            async def stream(
                request: object, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[object]:
                token = set_current_user(await self._caller(context))
                try:
                    async for item in behavior(request, context):
                        yield item
                finally:
                    # A stream the client cancelled is closed by the loop's async generator
                    # finalizer, in a task of its own: the user was never set in its context.
                    with contextlib.suppress(ValueError):
                        reset_current_user(token)

            return stream

        async def call(request: object, context: grpc.aio.ServicerContext) -> object:
            token = set_current_user(await self._caller(context))
            try:
                result = behavior(request, context)
                return await result if inspect.isawaitable(result) else result
            finally:
                reset_current_user(token)

        return call

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if method.startswith(ANONYMOUS_SERVICES) and self._authenticator.anonymous:
            return handler
        for kind, factory in SHAPES:
            behavior = getattr(handler, kind)
            if behavior is not None:
                return factory(
                    self._wrap(behavior),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler
