"""Who may use the kubelet's API (logs, exec, attach, port-forward): on TLS, every caller has a
certificate of the cluster CA, but only the apiserver's kubelet-client identity, in
system:masters, may call it, as a kubelet's webhook authorization allows nodes/proxy to the
apiserver and to cluster admins only; another node's certificate is refused with the kubelet's
"Forbidden" message. The health service stays open (container healthchecks)."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import grpc
from google.protobuf.message import Message

from podplane.componentbase.x509_subject import name_and_groups, peer_subject

ALLOWED_GROUP = "system:masters"
OPEN_SERVICES = ("/grpc.health.v1.Health/",)


def refusal(auth_context: Mapping[str, Sequence[bytes]]) -> str | None:
    """Why the caller may not use the API, or None when it may."""
    subject = peer_subject(auth_context)
    parsed = name_and_groups(subject) if subject else None
    if parsed is not None and ALLOWED_GROUP in parsed[1]:
        return None
    user = parsed[0] if parsed else "system:anonymous"
    return f"Forbidden (user={user}, verb=create, resource=nodes, subresource=proxy)"


class KubeletAPIAuthorizer(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_SERVICES):
            return handler
        if _is_async_gen(handler.unary_stream):
            return _checked_unary_stream(handler)
        if _is_async_gen(handler.stream_stream):
            return _checked_stream_stream(handler)
        # The kubelet API is server and bidirectional streams yielding their messages; anything
        # else is refused rather than served unchecked.

        async def unknown(request: Message, context: grpc.aio.ServicerContext) -> None:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "Forbidden")

        return grpc.unary_unary_rpc_method_handler(
            unknown,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _is_async_gen(behavior: object) -> bool:
    return behavior is not None and inspect.isasyncgenfunction(behavior)


def _checked_unary_stream(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    behavior = handler.unary_stream

    async def checked(
        request: Message, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Message]:
        reason = refusal(context.auth_context())
        if reason is not None:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, reason)
        async for item in behavior(request, context):
            yield item

    return grpc.unary_stream_rpc_method_handler(
        checked,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _checked_stream_stream(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    behavior = handler.stream_stream

    async def checked(
        requests: AsyncIterator[Message], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Message]:
        reason = refusal(context.auth_context())
        if reason is not None:
            # The caller's first message is read before the refusal: ended while its write was
            # still under way, the call reports gRPC's "Internal error from Core" to the caller
            # instead of the reason.
            await anext(aiter(requests), None)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, reason)
        async for item in behavior(requests, context):
            yield item

    return grpc.stream_stream_rpc_method_handler(
        checked,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
