"""A request stream (Pods/BindStream) on a real grpc.aio server behind the flow control, decoding,
metrics and authorization interceptors: each binding is answered by its id with the status its
Bind call would have ended with, as it finishes; each is flow-controlled, authorized and counted
as a Bind call; a message that does not decode ends the stream; a stream that ends cancels the
bindings it still runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from apiserver import errors
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.user import UserInfo
from apiserver.endpoints.grpc.interceptors.authorization import AuthorizationInterceptor
from apiserver.endpoints.grpc.interceptors.metrics import MetricsInterceptor
from apiserver.endpoints.grpc.interceptors.priority_and_fairness import (
    PriorityAndFairnessInterceptor,
)
from apiserver.endpoints.grpc.interceptors.request_decoding import RequestDecodingInterceptor
from apiserver.endpoints.grpc.request_stream import RequestStream
from apiserver.endpoints.grpc.status import api_errors_as_status
from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import binding
from podplane.componentbase.serving import Server
from tests.unit.apiserver.held_pods import AsUser, HeldPods
from tests.unit.waiting import TIMEOUT, until

LEVEL = "global-default"  # anonymous callers' level: 1 seat of the server's 2


class StreamedPods(HeldPods):
    """Bind: "held-*" waits until released; "taken" is refused as Kubernetes refuses a bound
    pod; "bug" raises; any other succeeds."""

    def __init__(self) -> None:
        super().__init__()
        self.bound: list[str] = []
        self.cancelled: list[str] = []
        self.BindStream = RequestStream(self.Bind, "binding").serve

    @api_errors_as_status
    async def Bind(
        self, request: core_pb2.Binding, context: grpc.aio.ServicerContext
    ) -> meta_pb2.Status:
        name = request.metadata.name
        if name.startswith("held"):
            self.started += 1
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.append(name)
                raise
        if name == "taken":
            raise errors.conflict(resources.POD, f"{name}/binding", "pod taken is already bound")
        if name == "bug":
            raise RuntimeError("a bug")
        self.bound.append(name)
        return meta_pb2.Status(status="Success", code=201)


Served = tuple[Any, StreamedPods, PriorityAndFairness, grpc.aio.Channel]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """serve(wait_limit, seats) -> (pods stub, servicer, flow control, channel). With the
    server's 2 seats, anonymous callers' level has 1."""
    started: list[tuple[Server, grpc.aio.Channel, StreamedPods]] = []

    async def start(wait_limit: float = 5.0, seats: int = 2) -> Served:
        servicer = StreamedPods()
        apf = PriorityAndFairness(seats, request_wait_limit=wait_limit)
        server = Server(
            "127.0.0.1:0",
            lambda s: resources.POD.add_servicer(servicer, s),
            interceptors=[
                PriorityAndFairnessInterceptor(apf),
                RequestDecodingInterceptor(),
                MetricsInterceptor(),
            ],
        )
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        started.append((server, channel, servicer))
        return resources.POD.stub(channel), servicer, apf, channel

    yield start
    for server, channel, servicer in started:
        servicer.release.set()
        await channel.close()
        await server.stop(0)


def requests(*names: str, first_id: int = 1) -> core_pb2.BindingRequests:
    message = core_pb2.BindingRequests()
    for i, name in enumerate(names):
        message.requests.add(id=first_id + i, binding=binding("default", name, "node-1"))
    return message


async def answers(stream: Any, count: int) -> dict[int, meta_pb2.RequestAnswer]:
    """The next `count` answers, by id."""
    got: dict[int, meta_pb2.RequestAnswer] = {}
    while len(got) < count:
        async with asyncio.timeout(TIMEOUT):
            message = await stream.read()
        assert message is not grpc.aio.EOF
        got.update((a.id, a) for a in message.answers)
    return got


def requests_total(code: str) -> float:
    labels = {"verb": "POST", "resource": "pods", "subresource": "binding", "code": code}
    return REGISTRY.get_sample_value("apiserver_request_total", labels) or 0.0


def code(answer: meta_pb2.RequestAnswer) -> grpc.StatusCode:
    return next(c for c in grpc.StatusCode if c.value[0] == answer.code)


async def test_each_binding_is_answered_by_its_id_as_its_call_would_be(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, _, _ = await serve()
    ok_before, conflicts_before = requests_total("OK"), requests_total("ABORTED")
    stream = stub.BindStream()
    await stream.write(requests("a", "taken", "bug", "b"))
    got = await answers(stream, 4)
    assert [(code(got[i]), got[i].message) for i in (1, 2, 4)] == [
        (grpc.StatusCode.OK, ""),
        (
            grpc.StatusCode.ABORTED,
            'Operation cannot be fulfilled on pods "taken/binding": pod taken is already bound',
        ),
        (grpc.StatusCode.OK, ""),
    ]
    assert code(got[3]) == grpc.StatusCode.UNKNOWN and "a bug" in got[3].message
    assert sorted(servicer.bound) == ["a", "b"]
    # Counted as the Bind calls they stand for (the bug is the servicer's: UNKNOWN).
    assert requests_total("OK") - ok_before == 2
    assert requests_total("ABORTED") - conflicts_before == 1
    # The stream stays open for more.
    await stream.write(requests("c", first_id=5))
    assert code((await answers(stream, 1))[5]) == grpc.StatusCode.OK
    await stream.done_writing()
    assert await stream.code() == grpc.StatusCode.OK


async def test_answers_come_as_bindings_finish_not_in_order(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, _, _ = await serve(seats=100)  # seats for both
    stream = stub.BindStream()
    await stream.write(requests("held-1", "quick"))
    first = await answers(stream, 1)
    assert list(first) == [2]  # "quick", sent after the held one, is answered first
    servicer.release.set()
    assert list(await answers(stream, 1)) == [1]
    await stream.done_writing()
    assert await stream.code() == grpc.StatusCode.OK


async def test_each_binding_waits_for_a_seat_and_is_refused_alone(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf, _ = await serve(wait_limit=0.2)
    queues = apf.levels[LEVEL].queues
    assert queues.limit == 1
    stream = stub.BindStream()
    # The held binding takes the level's one seat; the next waits for it, then is refused, and
    # only it: the stream goes on.
    await stream.write(requests("held-1", "waits"))
    refused = (await answers(stream, 1))[2]
    assert (code(refused), refused.message) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        TOO_MANY_REQUESTS,
    )
    assert refused.retry_after_seconds >= 1
    assert servicer.bound == []
    servicer.release.set()
    assert code((await answers(stream, 1))[1]) == grpc.StatusCode.OK
    await stream.write(requests("again", first_id=3))
    assert code((await answers(stream, 1))[3]) == grpc.StatusCode.OK
    assert queues.executing == 0 and queues.waiting == 0
    await stream.done_writing()
    assert await stream.code() == grpc.StatusCode.OK


async def test_a_message_that_does_not_decode_ends_the_stream(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    _, servicer, _, channel = await serve()
    stream = channel.stream_stream("/podplane.core.v1.Pods/BindStream")()
    await stream.write(b"\xff\xff\xff")
    assert await stream.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be decoded" in (await stream.details() or "")
    assert servicer.bound == []


async def test_a_stream_that_ends_cancels_the_bindings_it_still_runs(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf, _ = await serve()
    stream = stub.BindStream()
    await stream.write(requests("held-1"))
    await until(lambda: servicer.started, "the binding started")
    stream.cancel()
    await until(lambda: servicer.cancelled, "the binding cancelled")
    assert servicer.cancelled == ["held-1"]
    assert servicer.bound == []
    assert apf.levels[LEVEL].queues.executing == 0  # its seat given back


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (UserInfo("system:kube-scheduler", frozenset({"system:authenticated"})), True),
        (UserInfo("alice", frozenset({"system:authenticated"})), False),
    ],
)
async def test_each_binding_is_authorized_as_its_bind_call_is(
    user: UserInfo, allowed: bool
) -> None:
    servicer = StreamedPods()
    server = Server(
        "127.0.0.1:0",
        lambda s: resources.POD.add_servicer(servicer, s),
        interceptors=[
            AsUser(user),
            RequestDecodingInterceptor(),
            AuthorizationInterceptor(Authorizer(lambda namespace: [])),
        ],
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stream = resources.POD.stub(channel).BindStream()
            await stream.write(requests("a", "b"))
            got = await answers(stream, 2)
            await stream.done_writing()
            assert await stream.code() == grpc.StatusCode.OK  # refusals end no stream
    finally:
        await server.stop(0)
    if allowed:
        assert {code(a) for a in got.values()} == {grpc.StatusCode.OK}
        assert sorted(servicer.bound) == ["a", "b"]
    else:
        assert {code(a) for a in got.values()} == {grpc.StatusCode.PERMISSION_DENIED}
        assert 'User "alice" cannot create resource "pods/binding"' in got[1].message
        assert servicer.bound == []
