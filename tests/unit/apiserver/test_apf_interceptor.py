"""API Priority and Fairness' gRPC interceptor on a real grpc.aio server, with a server of very
few seats: a request over its level's seats waits in its queue and is then served (not refused),
one that waits too long is refused with RESOURCE_EXHAUSTED and a retry-after hint before its
client's deadline, a watch waits its turn and then holds no seat, and a super-admin never waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from apiserver.auth.user import MASTERS_GROUP, UserInfo
from apiserver.endpoints.grpc.interceptors.priority_and_fairness import (
    PriorityAndFairnessInterceptor,
)
from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.componentbase.serving import Server
from tests.unit import waiting
from tests.unit.apiserver.flow_waits import waiting_after
from tests.unit.apiserver.held_pods import AsUser, HeldPods, wait_started

# Anonymous callers (no authentication here) are global-default's, one flow.
LEVEL = "global-default"
Served = tuple[Any, HeldPods, PriorityAndFairness]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """serve(wait_limit, user=None) -> (pods stub, servicer, flow control), with 2 seats in all:
    global-default gets 1."""
    started: list[tuple[Server, grpc.aio.Channel, HeldPods]] = []

    async def start(wait_limit: float = 5.0, user: UserInfo | None = None) -> Served:
        servicer = HeldPods()
        apf = PriorityAndFairness(2, request_wait_limit=wait_limit)
        guard = PriorityAndFairnessInterceptor(apf)
        server = Server(
            "127.0.0.1:0",
            lambda s: resources.POD.add_servicer(servicer, s),
            interceptors=[guard] if user is None else [AsUser(user), guard],
        )
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        started.append((server, channel, servicer))
        return resources.POD.stub(channel), servicer, apf

    yield start
    for server, channel, servicer in started:
        servicer.release.set()
        await channel.close()
        await server.stop(0)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def until(condition: Callable[[], bool]) -> None:
    await waiting.until(condition, "the condition", interval=0.02)


async def test_a_request_over_the_seats_waits_its_turn(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf = await serve()
    queues = apf.levels[LEVEL].queues
    assert queues.limit == 1
    held = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 1)
    queued = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await until(lambda: queues.waiting == 1)
    assert (
        value(
            "apiserver_flowcontrol_current_inqueue_requests",
            priority_level=LEVEL,
            flow_schema=LEVEL,
        )
        >= 1
    )
    assert servicer.started == 1
    servicer.release.set()
    await asyncio.gather(held, queued)  # both served: nothing refused
    await until(lambda: queues.executing == 0)


async def test_a_request_that_waits_too_long_is_refused_with_a_retry_hint(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf = await serve(wait_limit=0.1)
    rejected_before = value(
        "apiserver_flowcontrol_rejected_requests_total",
        priority_level=LEVEL,
        flow_schema=LEVEL,
        reason="time-out",
    )
    dropped_before = value("apiserver_dropped_requests_total", request_kind="mutating")
    held = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 1)
    queues = apf.levels[LEVEL].queues
    start = time.monotonic()
    # The client's 30 s would make its wait 7.5 s: out of the queue by the 0.1 s limit instead.
    waiting = asyncio.ensure_future(stub.Create(core_pb2.Pod(), timeout=30))
    await until(lambda: queues.waiting == 1)
    assert await waiting_after(0.11, queues) == 0
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await waiting
    assert time.monotonic() - start > 0.08
    assert not held.done()  # refused while the seat is still taken, not served after it
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.details() == TOO_MANY_REQUESTS
    assert ("retry-after", "1") in tuple(refused.value.trailing_metadata())
    assert servicer.started == 1  # the refused one never reached the servicer
    rejected = value(
        "apiserver_flowcontrol_rejected_requests_total",
        priority_level=LEVEL,
        flow_schema=LEVEL,
        reason="time-out",
    )
    assert rejected == rejected_before + 1
    assert value("apiserver_dropped_requests_total", request_kind="mutating") == dropped_before + 1
    servicer.release.set()
    await held


async def test_the_wait_is_a_quarter_of_the_clients_deadline(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf = await serve(wait_limit=5.0)
    held = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 1)
    queues = apf.levels[LEVEL].queues
    waiting = asyncio.ensure_future(stub.Create(core_pb2.Pod(), timeout=2))
    await until(lambda: queues.waiting == 1)
    # Out of the queue by a quarter of the client's 2 s (counted from the request's receipt),
    # not at the 5 s limit nor at the client's deadline.
    assert await waiting_after(0.5, queues) == 0
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await waiting
    # Refused while the client can still act on it.
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    servicer.release.set()
    await held


async def test_a_watch_waits_its_turn_then_holds_no_seat(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, apf = await serve()
    queues = apf.levels[LEVEL].queues
    held = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 1)
    watch = stub.Watch(meta_pb2.WatchRequest())
    first = asyncio.ensure_future(watch.read())
    await until(lambda: queues.waiting == 1)  # the watch waits for the one seat
    servicer.release.set()
    await held
    async with asyncio.timeout(5):
        assert (await first).type == "ADDED"
    await until(lambda: queues.executing == 0)  # open, seatless
    servicer.release.clear()
    get = asyncio.ensure_future(stub.Get(meta_pb2.GetRequest(name="web")))
    await wait_started(servicer, 2)  # served while the watch stays open
    servicer.release.set()
    await get
    watch.cancel()


async def test_system_masters_never_wait(serve: Callable[..., Awaitable[Served]]) -> None:
    admin = UserInfo("admin", frozenset({MASTERS_GROUP}))
    stub, servicer, apf = await serve(user=admin)
    creates = [asyncio.ensure_future(stub.Create(core_pb2.Pod())) for _ in range(5)]
    await wait_started(servicer, 5)
    assert apf.levels["exempt"].queues.executing == 5
    servicer.release.set()
    await asyncio.gather(*creates)
