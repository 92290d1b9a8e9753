"""podplane.client.streams.BindStream: binds over one stream, each answered as Client.bind's
call would be (success, its own refusal, an overload refusal retried after its hint); a stream
that breaks fails the binds it had not answered, and the next bind opens another; closing fails
what is still unanswered. An in-process gRPC server serves Pods/BindStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from apiserver import errors
from apiserver.endpoints.grpc.request_stream import RequestStream
from apiserver.endpoints.grpc.status import api_errors_as_status
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from podplane.client.streams import BindStream


class Pods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    """Bind: "taken" is refused as a bound pod is; "busy" is refused once as an overloaded
    server refuses (retry after 1 s); "held" waits until released; any other succeeds."""

    def __init__(self) -> None:
        self.bound: list[tuple[str, str, str]] = []
        self.refused_busy = False
        self.held = asyncio.Event()
        self.release = asyncio.Event()
        self.streams = 0
        self.messages: list[int] = []  # the bindings each message carried
        serve = RequestStream(self.Bind, "binding").serve

        async def counted(messages: object, context: grpc.aio.ServicerContext) -> object:
            self.streams += 1

            async def each() -> AsyncIterator[object]:
                async for message in messages:  # type: ignore[attr-defined]
                    self.messages.append(len(message.requests))
                    yield message

            async for answer in serve(each(), context):
                yield answer

        self.BindStream = counted

    @api_errors_as_status
    async def Bind(
        self, request: core_pb2.Binding, context: grpc.aio.ServicerContext
    ) -> meta_pb2.Status:
        name = request.metadata.name
        if name == "taken":
            raise errors.conflict(resources.POD, f"{name}/binding", "pod taken is already bound")
        if name == "busy" and not self.refused_busy:
            self.refused_busy = True
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED, "too many requests", (("retry-after", "1"),)
            )
        if name == "held":
            self.held.set()
            await self.release.wait()
        self.bound.append((name, request.metadata.uid, request.target.name))
        return meta_pb2.Status(status="Success", code=201)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Pods, grpc.aio.Server, int]]:
    pods = Pods()
    server = grpc.aio.server()
    resources.POD.add_servicer(pods, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield pods, server, port
    pods.release.set()
    await server.stop(0)


async def test_each_bind_is_answered_as_its_call_would_be(
    served: tuple[Pods, grpc.aio.Server, int],
) -> None:
    pods, _, port = served
    async with Client(f"127.0.0.1:{port}", timeout=10) as client:
        binds = BindStream(client)
        try:
            outcomes = await asyncio.gather(
                *(binds.bind("ns", name, "node-1", uid=f"u-{name}") for name in ("a", "b")),
                binds.bind("ns", "taken", "node-1"),
                binds.bind("ns", "busy", "node-2"),  # refused once, then retried
                return_exceptions=True,
            )
        finally:
            await binds.close()
    assert outcomes[:2] == [None, None] and outcomes[3] is None
    refused = outcomes[2]
    assert isinstance(refused, grpc.aio.AioRpcError)
    assert refused.code() == grpc.StatusCode.ABORTED
    assert "pod taken is already bound" in (refused.details() or "")
    assert sorted(pods.bound) == [
        ("a", "u-a", "node-1"),
        ("b", "u-b", "node-1"),
        ("busy", "", "node-2"),
    ]
    assert pods.streams == 1  # all over one stream


async def test_a_broken_stream_fails_its_unanswered_binds_and_the_next_opens_another(
    served: tuple[Pods, grpc.aio.Server, int],
) -> None:
    pods, server, port = served
    async with Client(f"127.0.0.1:{port}", timeout=10) as client:
        binds = BindStream(client)
        try:
            held = asyncio.ensure_future(binds.bind("ns", "held", "node-1"))
            async with asyncio.timeout(5):
                await pods.held.wait()
            # The server ends every call: the held bind's stream breaks under it.
            await server.stop(0)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                async with asyncio.timeout(5):
                    await held
            assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
            assert pods.bound == []
            # A server on the same port again: the next bind opens a new stream.
            again = grpc.aio.server()
            resources.POD.add_servicer(pods, again)
            again.add_insecure_port(f"127.0.0.1:{port}")
            await again.start()
            try:
                await binds.bind("ns", "after", "node-1")
            finally:
                await again.stop(0)
        finally:
            await binds.close()
    assert pods.bound == [("after", "", "node-1")]
    assert pods.streams == 2


async def test_closing_fails_the_binds_not_answered(
    served: tuple[Pods, grpc.aio.Server, int],
) -> None:
    pods, _, port = served
    async with Client(f"127.0.0.1:{port}", timeout=10) as client:
        binds = BindStream(client)
        held = asyncio.ensure_future(binds.bind("ns", "held", "node-1"))
        async with asyncio.timeout(5):
            await pods.held.wait()
        await binds.close()
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await held
        assert err.value.code() == grpc.StatusCode.CANCELLED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await binds.bind("ns", "late", "node-1")
        assert err.value.code() == grpc.StatusCode.CANCELLED


async def test_binds_sent_within_the_linger_of_the_last_message_go_together(
    served: tuple[Pods, grpc.aio.Server, int],
) -> None:
    """An idle stream sends a bind at once; binds that follow within the linger of that message
    wait for the rest of it and go in the next, together."""
    pods, _, port = served
    async with Client(f"127.0.0.1:{port}", timeout=10) as client:
        binds = BindStream(client, linger=0.5)
        try:
            first = asyncio.ensure_future(binds.bind("ns", "p0", "node-1"))
            await asyncio.sleep(0.01)
            rest = [asyncio.ensure_future(binds.bind("ns", f"p{i}", "node-1")) for i in (1, 2, 3)]
            await asyncio.gather(first, *rest)
            assert pods.messages == [1, 3]
            await asyncio.sleep(0.5)  # idle again: the next goes at once, alone
            await binds.bind("ns", "p4", "node-1")
            assert pods.messages == [1, 3, 1]
        finally:
            await binds.close()
