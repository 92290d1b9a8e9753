"""What an interceptor makes of a method's handler is made once per method and handler, not on
every call; a method whose handler changes gets it made again."""

from __future__ import annotations

from typing import Any

import grpc

from apiserver.endpoints.grpc.interceptors.handler_wrapping import PerMethod
from apiserver.endpoints.grpc.interceptors.metrics import MetricsInterceptor
from apiserver.endpoints.grpc.interceptors.request_decoding import RequestDecodingInterceptor


def handler() -> Any:
    async def behavior(request: Any, context: Any) -> Any:
        return request

    return grpc.unary_unary_rpc_method_handler(behavior, request_deserializer=bytes)


def test_made_once_per_method_and_handler() -> None:
    made: list[str] = []

    def make(method: str, h: Any) -> tuple[str, Any]:
        made.append(method)
        return method, h

    wrapped = PerMethod(make)
    a, b = handler(), handler()
    first = wrapped.get("/p.Pods/Create", a)
    assert wrapped.get("/p.Pods/Create", a) is first
    assert wrapped.get("/p.Pods/Bind", a) == ("/p.Pods/Bind", a)
    assert made == ["/p.Pods/Create", "/p.Pods/Bind"]
    # Another handler for the method (the overload guard's refusal): made, and both kept.
    assert wrapped.get("/p.Pods/Create", b) == ("/p.Pods/Create", b)
    assert wrapped.get("/p.Pods/Create", a) is first
    assert wrapped.get("/p.Pods/Create", b) == ("/p.Pods/Create", b)
    assert made == ["/p.Pods/Create", "/p.Pods/Bind", "/p.Pods/Create"]
    # A third one pushes out the one used longest ago.
    c = handler()
    wrapped.get("/p.Pods/Create", c)
    wrapped.get("/p.Pods/Create", b)
    assert len(made) == 4
    wrapped.get("/p.Pods/Create", a)
    assert len(made) == 5


class Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


async def test_interceptors_hand_out_the_same_handler_for_each_call() -> None:
    create, bind = handler(), handler()

    async def continuation(details: Any) -> Any:
        return {"/podplane.core.v1.Pods/Create": create, "/podplane.core.v1.Pods/Bind": bind}.get(
            details.method
        )

    for interceptor in (MetricsInterceptor(), RequestDecodingInterceptor()):
        first = await interceptor.intercept_service(
            continuation, Details("/podplane.core.v1.Pods/Create")
        )
        assert first is not create  # wrapped
        assert (
            await interceptor.intercept_service(
                continuation, Details("/podplane.core.v1.Pods/Create")
            )
            is first
        )
        other = await interceptor.intercept_service(
            continuation, Details("/podplane.core.v1.Pods/Bind")
        )
        assert other is not first and other is not bind
        assert (
            await interceptor.intercept_service(
                continuation, Details("/podplane.core.v1.Pods/Nope")
            )
            is None
        )
