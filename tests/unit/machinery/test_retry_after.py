"""The client retries a call the apiserver refused as overloaded (RESOURCE_EXHAUSTED with a
retry-after hint), for every verb, within its timeout; other refusals are final."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client import retry_after
from podplane.client.clientset import Client
from podplane.client.retry_after import MAX_RETRIES, MAX_WAIT, wait_before_retry
from podplane.componentbase.serving import Server


class RefusingPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    """Refuses the first `refusals` calls of each method, then answers."""

    def __init__(self) -> None:
        self.refusals = 0
        self.hint: str | None = "0"
        self.calls: dict[str, int] = {}

    async def _maybe_refuse(self, method: str, context: grpc.aio.ServicerContext) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.calls[method] <= self.refusals:
            metadata = () if self.hint is None else (("retry-after", self.hint),)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "Too many requests, please try again later.",
                trailing_metadata=metadata,
            )

    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        await self._maybe_refuse("Create", context)
        return request

    async def Delete(
        self, request: meta_pb2.DeleteRequest, context: grpc.aio.ServicerContext
    ) -> Any:
        await self._maybe_refuse("Delete", context)
        return core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=request.name))

    async def Bind(self, request: core_pb2.Binding, context: grpc.aio.ServicerContext) -> Any:
        await self._maybe_refuse("Bind", context)
        return meta_pb2.Status(status="Success", code=201)


@pytest.fixture
async def refusing() -> AsyncIterator[tuple[RefusingPods, str]]:
    servicer = RefusingPods()
    server = Server("127.0.0.1:0", lambda s: resources.POD.add_servicer(servicer, s))
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{server.port}"
    finally:
        await server.stop(0)


async def test_every_verb_is_retried_through_refusals(refusing: tuple[RefusingPods, str]) -> None:
    servicer, target = refusing
    servicer.refusals = 3
    async with Client(target, timeout=10) as client:
        pod = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web", namespace="default"))
        assert (await client.pods.create(pod)).metadata.name == "web"
        assert (await client.pods.delete("web", "default")).metadata.name == "web"
        await client.bind("default", "web", "node-1")
    assert servicer.calls == {"Create": 4, "Delete": 4, "Bind": 4}


async def test_a_refusal_without_a_hint_is_final(refusing: tuple[RefusingPods, str]) -> None:
    servicer, target = refusing
    servicer.refusals, servicer.hint = 1, None  # e.g. gRPC's "message larger than max"
    async with Client(target, timeout=10) as client:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.pods.create(core_pb2.Pod())
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert servicer.calls == {"Create": 1}


class Waits:
    """The waits the retry loop sleeps (its module's asyncio.sleep), counted rather than timed."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def sleep(self, delay: float) -> Any:
        self.seconds.append(delay)
        return asyncio.sleep(delay)


async def test_retries_stop_within_the_timeout(
    refusing: tuple[RefusingPods, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    waits = Waits()
    monkeypatch.setattr(retry_after, "asyncio", waits)
    servicer, target = refusing
    servicer.refusals, servicer.hint = 1000, "1"
    async with Client(target, timeout=2.5) as client:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.pods.create(core_pb2.Pod())
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Waits of at least the hint, growing by half: 1-1.5 s, then 1.5-2.25 s, which would end
    # past the 2.5 s: the second refusal is final, and no wait crossed the timeout.
    assert len(waits.seconds) == 1 and 1 <= waits.seconds[0] <= 1.5, waits.seconds
    assert servicer.calls["Create"] == 2


async def test_at_most_ten_retries(
    refusing: tuple[RefusingPods, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    servicer, target = refusing
    monkeypatch.setattr(retry_after, "wait_before_retry", lambda hint, retry: 0.001)
    servicer.refusals = 1000
    async with Client(target, timeout=600) as client:
        with pytest.raises(grpc.aio.AioRpcError):
            async with asyncio.timeout(60):
                await client.pods.create(core_pb2.Pod())
    assert servicer.calls["Create"] == 1 + MAX_RETRIES


@pytest.mark.parametrize(
    "hint, retry, jitter, expected",
    [
        (1.0, 0, 0.0, 1.0),  # never sooner than the hint
        (1.0, 0, 1.0, 1.5),  # up to half again as jitter
        (1.0, 2, 0.0, 2.25),  # growing by half per retry
        (1.0, 20, 0.0, MAX_WAIT),  # capped
        (30.0, 3, 0.0, 30.0),  # a hint longer than the cap is still honoured
        (0.0, 0, 0.0, 0.05),  # a zero hint still waits a little
    ],
)
def test_wait_before_retry(hint: float, retry: int, jitter: float, expected: float) -> None:
    assert wait_before_retry(hint, retry, lambda: jitter) == pytest.approx(expected)
