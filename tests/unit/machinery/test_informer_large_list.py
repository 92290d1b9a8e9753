"""An informer whose first list, read from the apiserver's cache in one message, is over gRPC's
message size limit lists in pages instead (resourceVersion "", read from etcd) and syncs; any
other refusal is retried as before."""

from __future__ import annotations

import asyncio

import grpc

from podplane.api.core.v1 import core_pb2
from podplane.client.informer import Informer


def refused(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class PodLists:
    """list_all answers: the cache read ("0") refused as given, the paged read ("") two pods."""

    def __init__(self, refusal: grpc.aio.AioRpcError) -> None:
        self.refusal = refusal
        self.versions: list[str] = []

    async def list_all(self, namespace: str = "", **kw: str) -> tuple[list[core_pb2.Pod], str]:
        version = kw["resource_version"]
        self.versions.append(version)
        if version == "0":
            raise self.refusal
        pods = [core_pb2.Pod() for _ in range(2)]
        for i, p in enumerate(pods):
            p.metadata.name, p.metadata.namespace, p.metadata.resource_version = f"p{i}", "d", "7"
        return pods, "7"

    def watch(self, namespace: str = "", **kw: object) -> object:
        return _Forever()


class _Forever:
    def __aiter__(self) -> _Forever:
        return self

    async def __anext__(self) -> object:
        await asyncio.Event().wait()
        raise StopAsyncIteration


async def run_until_synced(lists: PodLists, seconds: float) -> Informer[core_pb2.Pod]:
    informer: Informer[core_pb2.Pod] = Informer(lists, name="pods")  # type: ignore[arg-type]
    task = asyncio.create_task(informer.run())
    try:
        async with asyncio.timeout(seconds):
            await informer._synced.wait()
    finally:
        task.cancel()
    return informer


def test_a_list_too_large_for_one_message_is_read_in_pages() -> None:
    lists = PodLists(
        refused(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "Sent message larger than max (71900008 vs. 67108864)",
        )
    )
    informer = asyncio.run(run_until_synced(lists, 5))
    assert lists.versions == ["0", ""]
    assert sorted(p.metadata.name for p in informer.list()) == ["p0", "p1"]


def test_other_refusals_retry_the_cache_read() -> None:
    lists = PodLists(refused(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many requests"))
    try:
        asyncio.run(run_until_synced(lists, 0.5))
    except TimeoutError:
        pass
    assert set(lists.versions) == {"0"}
