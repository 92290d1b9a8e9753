"""The max-in-flight guard (--enable-priority-and-fairness=false) on the real apiserver over real
etcd, with 2 mutating requests allowed at once. etcd is paused (SIGSTOP) so that two creates stay
in flight: further creates are refused with RESOURCE_EXHAUSTED while the held ones still wait
(not queued behind them), reads are still served, every acknowledged create is in etcd and no
refused one is; and a podplane Client gets all its creates through the refusals by retrying."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS
from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from tests.integration.control_plane import (
    etcd_process,
    mutating_requests_in_flight,
    paused,
    running_apiserver,
)
from tests.support import EtcdProcess, eventually

MUTATING_LIMIT = 2
NAMESPACE = "default"


@pytest.fixture(scope="module")
def own_etcd() -> Iterator[EtcdProcess]:
    """An etcd of this module's own: it is paused, which must not stall other tests."""
    with etcd_process() as process:
        yield process


@pytest.fixture(scope="module")
async def guarded(own_etcd: EtcdProcess) -> AsyncIterator[APIServer]:
    async with running_apiserver(
        own_etcd,
        max_mutating_requests_inflight=MUTATING_LIMIT,
        enable_priority_and_fairness=False,
    ) as server:
        yield server


def pod(name: str) -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=NAMESPACE),
        spec=core_pb2.PodSpec(
            containers=[core_pb2.Container(name="c", image="busybox")], node_name="no-such-node"
        ),
    )


def stored_pods(etcd: EtcdProcess, prefix: str) -> set[str]:
    """The pod names under `prefix` in etcd itself (not through the apiserver)."""
    keys = etcd.etcdctl("get", f"/registry/pods/{NAMESPACE}/{prefix}", "--prefix", "--keys-only")
    return {k.rsplit("/", 1)[1] for k in keys.split() if k}


def dropped_mutating() -> float:
    return (
        REGISTRY.get_sample_value("apiserver_dropped_requests_total", {"request_kind": "mutating"})
        or 0.0
    )


async def answered_create(stub: Any, name: str) -> tuple[str, float, grpc.StatusCode]:
    """The pod's name, when the answer came (time.monotonic()) and its code."""
    try:
        await stub.Create(pod(name), timeout=30)
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as e:
        code = e.code()
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            assert e.details() == TOO_MANY_REQUESTS
            assert ("retry-after", "1") in tuple(e.trailing_metadata())
    return name, time.monotonic(), code


async def test_excess_creates_are_refused_fast_and_no_acknowledged_write_is_lost(
    guarded: APIServer, own_etcd: EtcdProcess
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        stub = resources.POD.stub(channel)
        dropped_before = dropped_mutating()
        with paused(own_etcd):
            held = [
                asyncio.ensure_future(answered_create(stub, f"held-{i}"))
                for i in range(MUTATING_LIMIT)
            ]

            async def limit_reached() -> bool:
                return mutating_requests_in_flight() >= MUTATING_LIMIT

            await eventually(limit_reached, 5, interval=0.02, what="the held creates in flight")
            assert mutating_requests_in_flight() == MUTATING_LIMIT
            refused = await asyncio.gather(
                *(answered_create(stub, f"excess-{i}") for i in range(20))
            )
            assert not any(h.done() for h in held)  # all refused while the held ones wait
            # Reads have their own limit and come from the watch cache: served meanwhile.
            listed = await stub.List(
                meta_pb2.ListRequest(namespace=NAMESPACE, resource_version="0"), timeout=5
            )
            assert listed.metadata.resource_version
            resumed = time.monotonic()  # etcd goes on as the block ends
        accepted = await asyncio.gather(*held)
    assert [code for _, _, code in accepted] == [grpc.StatusCode.OK] * MUTATING_LIMIT
    assert {code for _, _, code in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    # Held while etcd was paused: answered only once it went on.
    assert min(answered for _, answered, _ in accepted) >= resumed
    assert dropped_mutating() - dropped_before == 20
    # Acknowledged: in etcd. Refused: never written.
    assert stored_pods(own_etcd, "held-") == {f"held-{i}" for i in range(MUTATING_LIMIT)}
    assert stored_pods(own_etcd, "excess-") == set()


async def test_a_client_retries_through_the_refusals(
    guarded: APIServer, own_etcd: EtcdProcess
) -> None:
    names = [f"retried-{i}" for i in range(30)]
    dropped_before = dropped_mutating()
    async with Client(f"127.0.0.1:{guarded.port}", timeout=60) as client:
        with paused(own_etcd):  # two creates wait on etcd; the other 28 are refused, then retry
            creates = asyncio.gather(*(client.pods.create(pod(n)) for n in names))

            async def all_but_the_held_refused() -> bool:
                return dropped_mutating() - dropped_before >= len(names) - MUTATING_LIMIT

            await eventually(all_but_the_held_refused, 20, interval=0.02, what="the refusals")
        created = await creates
    assert sorted(p.metadata.name for p in created) == sorted(names)
    assert dropped_mutating() - dropped_before >= len(names) - MUTATING_LIMIT
    assert stored_pods(own_etcd, "retried-") == set(names)
