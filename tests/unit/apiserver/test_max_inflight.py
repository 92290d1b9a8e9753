"""The max-in-flight guard on a real grpc.aio server: each request kind against its own limit, the
excess refused at once with RESOURCE_EXHAUSTED and a retry-after hint, long-running requests and
health exempt, slots given back however a call ends, and a super-admin always served."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from apiserver.__main__ import parse_args
from apiserver.auth.user import MASTERS_GROUP, UserInfo
from apiserver.endpoints.grpc.interceptors.max_inflight import MaxInflightInterceptor
from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS, MaxInflight
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.componentbase.serving import Server
from tests.unit import waiting
from tests.unit.apiserver.held_pods import AsUser, HeldPods, wait_started

Served = tuple[Any, HeldPods, MaxInflightInterceptor, grpc.aio.Channel]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """serve(read_only, mutating, user=None) -> (pods stub, servicer, guard, channel)."""
    started: list[tuple[Server, grpc.aio.Channel, HeldPods]] = []

    async def start(read_only: int, mutating: int, user: UserInfo | None = None) -> Served:
        servicer = HeldPods()
        guard = MaxInflightInterceptor(MaxInflight(read_only, mutating))
        interceptors: list[Any] = [guard] if user is None else [AsUser(user), guard]
        server = Server(
            "127.0.0.1:0",
            lambda s: resources.POD.add_servicer(servicer, s),
            interceptors=interceptors,
        )
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        started.append((server, channel, servicer))
        return resources.POD.stub(channel), servicer, guard, channel

    yield start
    for server, channel, servicer in started:
        servicer.release.set()
        await channel.close()
        await server.stop(0)


async def all_released(guard: MaxInflightInterceptor) -> None:
    """Waits for the slots to come back: gRPC sends an aborted call's status before the handler
    has unwound (context.abort writes it, then raises), so the client may see it a moment first."""
    await waiting.until(
        lambda: all(slots.in_use == 0 for slots in guard.slots.values()),
        f"the slots back ({guard.slots})",
        interval=0.02,
    )


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_excess_mutating_request_is_refused_at_once_with_a_retry_hint(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, guard, _ = await serve(read_only=5, mutating=2)
    dropped = value("apiserver_dropped_requests_total", request_kind="mutating")
    terminated = value(
        "apiserver_request_terminations_total",
        verb="POST",
        resource="pods",
        subresource="",
        component="apiserver",
        code="RESOURCE_EXHAUSTED",
    )
    held = [asyncio.ensure_future(stub.Create(core_pb2.Pod())) for _ in range(2)]
    await wait_started(servicer, 2)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Create(core_pb2.Pod(), timeout=30)  # queued, it would outwait its deadline
    assert not any(h.done() for h in held)  # refused while they run: not queued behind them
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.details() == TOO_MANY_REQUESTS
    assert ("retry-after", "1") in tuple(refused.value.trailing_metadata())
    assert servicer.started == 2  # the refused one never reached the servicer
    assert value("apiserver_dropped_requests_total", request_kind="mutating") == dropped + 1
    assert (
        value(
            "apiserver_request_terminations_total",
            verb="POST",
            resource="pods",
            subresource="",
            component="apiserver",
            code="RESOURCE_EXHAUSTED",
        )
        == terminated + 1
    )
    # Reads have their own limit: still served while writes are full.
    read = asyncio.ensure_future(stub.Get(meta_pb2.GetRequest(name="web")))
    await wait_started(servicer, 3)
    servicer.release.set()
    await asyncio.gather(*held, read)
    await all_released(guard)
    await stub.Create(core_pb2.Pod())  # room again


async def test_read_only_requests_have_their_own_limit(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, _, _ = await serve(read_only=1, mutating=5)
    held = asyncio.ensure_future(stub.Get(meta_pb2.GetRequest(name="a")))
    await wait_started(servicer, 1)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Get(meta_pb2.GetRequest(name="b"))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    create = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 2)
    servicer.release.set()
    await asyncio.gather(held, create)


async def test_watches_and_health_hold_no_slot(serve: Callable[..., Awaitable[Served]]) -> None:
    stub, servicer, guard, channel = await serve(read_only=1, mutating=1)
    held = asyncio.ensure_future(stub.Get(meta_pb2.GetRequest(name="a")))
    await wait_started(servicer, 1)
    watches = [stub.Watch(meta_pb2.WatchRequest()) for _ in range(5)]
    for watch in watches:  # all five open while the one read-only slot is taken
        assert (await watch.read()).type == "ADDED"
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert guard.slots["readOnly"].in_use == 1
    for watch in watches:
        watch.cancel()
    servicer.release.set()
    await held


async def test_slots_are_given_back_when_calls_fail_or_are_cancelled(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    stub, servicer, guard, _ = await serve(read_only=2, mutating=2)
    for name in ("conflict", "bug", "conflict", "bug", "conflict"):  # more failures than slots
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Update(core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name)))
        assert err.value.code() in (grpc.StatusCode.ABORTED, grpc.StatusCode.UNKNOWN)
    await all_released(guard)
    for _ in range(3):  # the client gives up on held calls: their slots come back
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await asyncio.gather(*(stub.Create(core_pb2.Pod(), timeout=0.2) for _ in range(2)))
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await all_released(guard)
    servicer.release.set()
    await stub.Create(core_pb2.Pod())


async def test_zero_disables_that_kinds_limit(serve: Callable[..., Awaitable[Served]]) -> None:
    stub, servicer, guard, _ = await serve(read_only=1, mutating=0)
    assert "mutating" not in guard.slots
    creates = [asyncio.ensure_future(stub.Create(core_pb2.Pod())) for _ in range(20)]
    await wait_started(servicer, 20)
    servicer.release.set()
    await asyncio.gather(*creates)


async def test_system_masters_are_served_past_the_limit(
    serve: Callable[..., Awaitable[Served]],
) -> None:
    admin = UserInfo("admin", frozenset({MASTERS_GROUP}))
    stub, servicer, guard, _ = await serve(read_only=1, mutating=1, user=admin)
    creates = [asyncio.ensure_future(stub.Create(core_pb2.Pod())) for _ in range(3)]
    await wait_started(servicer, 3)
    servicer.release.set()
    await asyncio.gather(*creates)
    await all_released(guard)


async def test_other_users_are_refused(serve: Callable[..., Awaitable[Served]]) -> None:
    user = UserInfo("alice", frozenset({"system:authenticated"}))
    stub, servicer, _, _ = await serve(read_only=1, mutating=1, user=user)
    held = asyncio.ensure_future(stub.Create(core_pb2.Pod()))
    await wait_started(servicer, 1)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Create(core_pb2.Pod())
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    servicer.release.set()
    await held


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--max-requests-inflight", "-1"], "--max-requests-inflight: must be >= 0"),
        (
            ["--max-mutating-requests-inflight", "-5"],
            "--max-mutating-requests-inflight: must be >= 0",
        ),
        (["--max-mutating-requests-inflight", "many"], "--max-mutating-requests-inflight"),
    ],
)
def test_bad_limits_are_refused_naming_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--etcd-servers", "http://127.0.0.1:2379", *argv])
    assert message in capsys.readouterr().err


def test_defaults_are_an_eighth_of_kubernetes() -> None:
    limits = MaxInflight()
    assert (limits.max_requests_inflight, limits.max_mutating_requests_inflight) == (50, 25)
    with pytest.raises(ValueError, match="max-mutating-requests-inflight"):
        MaxInflight(1, -1)
