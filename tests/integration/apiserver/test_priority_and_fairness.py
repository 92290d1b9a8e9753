"""API Priority and Fairness on the real apiserver over real etcd, with a server of 8 seats
(--max-requests-inflight 4, --max-mutating-requests-inflight 4).

With TLS and the cluster's identities: a flood of writes from one workload user (the
controller-manager, the one identity short of system:masters that may create pods) fills its
priority level's seats and queues, while the scheduler's lease renewals and a kubelet's node
lease heartbeats, on levels of their own, keep going through well within their renew deadline.

Without authentication (everyone anonymous, global-default: one seat): with etcd paused so that a
create stays in flight, more creates wait in their queue and are all served once it resumes;
when it stays paused past the wait limit, they are refused with RESOURCE_EXHAUSTED (429
TooManyRequests with Retry-After at the REST door) and never written, and a podplane Client gets
through by retrying."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import grpc
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from apiserver.server import APIServer
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from podplane.client.leaderelection import (
    RENEW_DEADLINE,
    LeaderElectionConfig,
    LeaderElector,
)
from podplane.client.retry_after import retry_after
from tests.integration.control_plane import etcd_process, paused, running_apiserver
from tests.pki_support import cert_credentials, make_pki, secure_serving
from tests.support import EtcdProcess, eventually

NAMESPACE = "default"
FLOOD_WRITERS = 120
FLOOD_SECONDS = 8.0
RENEW_EVERY = 1.0


def pod(name: str) -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=NAMESPACE),
        spec=core_pb2.PodSpec(
            containers=[core_pb2.Container(name="c", image="busybox")], node_name="no-such-node"
        ),
    )


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# ---------------------------------------------------------------- a flood against the renewals
@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"), nodes=("node-1",))


@pytest_asyncio.fixture(scope="module")
async def secure_apiserver(etcd: EtcdProcess, pki_dir: Path) -> AsyncIterator[APIServer]:
    async with running_apiserver(
        etcd,
        security=secure_serving(pki_dir),
        max_requests_inflight=4,
        max_mutating_requests_inflight=4,
    ) as server:
        yield server


async def flood(target: str, pki_dir: Path, until: float) -> dict[str, int]:
    """FLOOD_WRITERS closed loops creating pods as the controller-manager, each on its own
    connection; a refused writer waits the hint before its next create, as clients do."""
    credentials = cert_credentials(pki_dir, "controller-manager")
    outcomes = {"created": 0, "refused": 0}

    async def writer(i: int) -> None:
        async with credentials.aio_channel(target) as channel:
            stub = resources.POD.stub(channel)
            n = 0
            while time.monotonic() < until:
                n += 1
                try:
                    await stub.Create(pod(f"flood-{i}-{n}"), timeout=30)
                    outcomes["created"] += 1
                except grpc.aio.AioRpcError as e:
                    hint = retry_after(e)
                    if hint is None:
                        raise
                    outcomes["refused"] += 1
                    await asyncio.sleep(min(hint, max(until - time.monotonic(), 0)))

    await asyncio.gather(*(writer(i) for i in range(FLOOD_WRITERS)))
    return outcomes


async def timed_renewals(
    renew: Callable[[], Awaitable[bool]], until: float, deadline: float
) -> list[float]:
    """Renews every RENEW_EVERY seconds until `until`: each renewal's seconds, which must all
    succeed within `deadline`."""
    latencies = []
    while time.monotonic() < until:
        start = time.monotonic()
        async with asyncio.timeout(deadline):
            assert await renew(), "renewal refused"
        latencies.append(time.monotonic() - start)
        await asyncio.sleep(max(RENEW_EVERY - latencies[-1], 0))
    return latencies


async def test_a_flood_of_workload_writes_does_not_delay_lease_renewals(
    secure_apiserver: APIServer, pki_dir: Path
) -> None:
    target = f"localhost:{secure_apiserver.port}"
    apf = secure_apiserver.flow_control
    assert isinstance(apf, PriorityAndFairness)
    workload = apf.levels["workload-high"].queues
    workload_waits_before = sample(
        "apiserver_flowcontrol_request_wait_duration_seconds_count",
        priority_level="workload-high",
        flow_schema="kube-controller-manager",
        execute="true",
    )
    quick_before = sample(
        "apiserver_flowcontrol_request_wait_duration_seconds_bucket",
        priority_level="workload-high",
        flow_schema="kube-controller-manager",
        execute="true",
        le="0.02",
    )
    async with (
        Client(
            target, timeout=RENEW_DEADLINE, credentials=cert_credentials(pki_dir, "scheduler")
        ) as scheduler,
        Client(
            target, timeout=RENEW_DEADLINE, credentials=cert_credentials(pki_dir, "node-1")
        ) as kubelet,
    ):
        elector = LeaderElector(
            scheduler.leases, LeaderElectionConfig("kube-scheduler", "scheduler-under-flood")
        )
        assert await elector.try_acquire_or_renew()
        node_lease = await kubelet.leases.create(
            lease_pb2.Lease(
                metadata=meta_pb2.ObjectMeta(name="node-1", namespace="kube-node-lease"),
                spec=lease_pb2.LeaseSpec(holder_identity="node-1", lease_duration_seconds=40),
            )
        )

        async def heartbeat() -> bool:
            nonlocal node_lease
            node_lease.spec.renew_time = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
            node_lease = await kubelet.leases.update(node_lease)
            return True

        until = time.monotonic() + FLOOD_SECONDS
        flooding = asyncio.ensure_future(flood(target, pki_dir, until))

        async def seats_filled() -> bool:
            # A request waits in a queue only when every seat of its level is taken.
            return workload.waiting > 0

        await eventually(
            seats_filled, FLOOD_SECONDS / 2, interval=0.01, what="the flood to fill the seats"
        )
        renewals, heartbeats = await asyncio.gather(
            timed_renewals(elector.try_acquire_or_renew, until, RENEW_DEADLINE),
            timed_renewals(heartbeat, until, RENEW_DEADLINE),
        )
        outcomes = await flooding
    # The flood was more than its level could execute: its requests queued (and some were
    # refused), while every renewal and heartbeat went through, in a fraction of the deadline.
    waited = (
        sample(
            "apiserver_flowcontrol_request_wait_duration_seconds_count",
            priority_level="workload-high",
            flow_schema="kube-controller-manager",
            execute="true",
        )
        - workload_waits_before
    )
    quick = (
        sample(
            "apiserver_flowcontrol_request_wait_duration_seconds_bucket",
            priority_level="workload-high",
            flow_schema="kube-controller-manager",
            execute="true",
            le="0.02",
        )
        - quick_before
    )
    assert outcomes["created"] > 100, outcomes
    assert waited - quick > 50, (waited, quick)  # that many flood writes waited over 20 ms
    for latencies in (renewals, heartbeats):
        assert len(latencies) >= 3
        assert max(latencies) < RENEW_DEADLINE / 2, latencies
        assert statistics.median(latencies) < 1.0, latencies
    assert elector.is_leader()


# ---------------------------------------------------------------- queued, not refused
@pytest.fixture(scope="module")
def own_etcd() -> Iterator[EtcdProcess]:
    """An etcd of this module's own: it is paused, which must not stall other tests."""
    with etcd_process() as process:
        yield process


@pytest_asyncio.fixture(scope="module")
async def anonymous_apiserver(own_etcd: EtcdProcess) -> AsyncIterator[APIServer]:
    """Everyone anonymous: global-default, with 1 seat of the server's 2, and one flow."""
    async with running_apiserver(
        own_etcd, max_requests_inflight=1, max_mutating_requests_inflight=1
    ) as server:
        yield server


def stored_pods(etcd: EtcdProcess, prefix: str) -> set[str]:
    keys = etcd.etcdctl("get", f"/registry/pods/{NAMESPACE}/{prefix}", "--prefix", "--keys-only")
    return {k.rsplit("/", 1)[1] for k in keys.split() if k}


async def create(stub: object, name: str) -> grpc.StatusCode:
    try:
        await stub.Create(pod(name), timeout=30)  # type: ignore[attr-defined]
    except grpc.aio.AioRpcError as e:
        if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
            assert e.details() == TOO_MANY_REQUESTS
            assert retry_after(e) is not None
        return e.code()
    return grpc.StatusCode.OK


async def test_excess_creates_wait_their_turn_and_are_all_served(
    anonymous_apiserver: APIServer, own_etcd: EtcdProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    apf = anonymous_apiserver.flow_control
    assert isinstance(apf, PriorityAndFairness)
    # Waiting their turn is what this shows, not how long a turn may take: each queued create
    # waits for the five before it (etcd paused, then six writes in a row), which on a loaded
    # host took longer than the 0.5 s wait limit (refused, RESOURCE_EXHAUSTED). Raised here, each
    # may wait a quarter of its client's 30 s; the limit's refusals are the next test's.
    monkeypatch.setattr(apf, "request_wait_limit", 30.0)
    queues = apf.levels["global-default"].queues
    async with grpc.aio.insecure_channel(f"127.0.0.1:{anonymous_apiserver.port}") as channel:
        stub = resources.POD.stub(channel)
        with paused(own_etcd):
            creates = [asyncio.ensure_future(create(stub, f"queued-{i}")) for i in range(6)]

            async def five_waiting() -> bool:
                return queues.waiting == 5

            await eventually(five_waiting, 10, interval=0.01, what="five creates to wait")
            assert (queues.executing, queues.waiting) == (1, 5)
        codes = await asyncio.gather(*creates)
    assert codes == [grpc.StatusCode.OK] * 6
    assert stored_pods(own_etcd, "queued-") == {f"queued-{i}" for i in range(6)}


async def test_creates_that_wait_too_long_are_refused_and_never_written(
    anonymous_apiserver: APIServer, own_etcd: EtcdProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wait each queued request is given, counted rather than timed: the wait limit, not a
    # quarter of the client's 30 s.
    apf = anonymous_apiserver.flow_control
    assert isinstance(apf, PriorityAndFairness)
    given: list[float] = []
    wait_deadline = apf.wait_deadline

    def recorded(received_at: float, time_remaining: float | None) -> float:
        deadline = wait_deadline(received_at, time_remaining)
        given.append(deadline - received_at)
        return deadline

    monkeypatch.setattr(apf, "wait_deadline", recorded)
    rest = f"http://127.0.0.1:{anonymous_apiserver.rest_port}"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{anonymous_apiserver.port}") as channel:
        stub = resources.POD.stub(channel)
        queues = apf.levels["global-default"].queues
        with paused(own_etcd):
            held = asyncio.ensure_future(create(stub, "held"))

            async def held_executing() -> bool:
                return queues.executing == 1

            await eventually(held_executing, 10, interval=0.01, what="the held create to execute")
            start = time.monotonic()
            refused = await asyncio.gather(*(create(stub, f"late-{i}") for i in range(5)))
            waited = time.monotonic() - start
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"{rest}/api/v1/namespaces/{NAMESPACE}/pods",
                    data=json.dumps(
                        {
                            "apiVersion": "v1",
                            "kind": "Pod",
                            "metadata": {"name": "late-rest"},
                            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                        }
                    ),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    status, retry, body = (
                        response.status,
                        response.headers.get("Retry-After"),
                        await response.json(),
                    )
        assert await held == grpc.StatusCode.OK

        async def level_idle() -> bool:
            return (queues.executing, queues.waiting) == (0, 0)

        # Nothing of the level is left to execute: a refused create cannot be written later.
        await eventually(level_idle, 10, interval=0.01, what="the level to be idle")
    assert refused == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 5
    limit = anonymous_apiserver.request_wait_limit
    assert given == [pytest.approx(limit)] * 6  # the five gRPC creates and the REST one
    assert waited > limit * 0.8  # refused at the wait limit, not at the deadline
    assert (status, retry) == (429, str(body["details"]["retryAfterSeconds"]))
    assert (body["reason"], body["message"]) == ("TooManyRequests", TOO_MANY_REQUESTS)
    assert stored_pods(own_etcd, "late-") == set()


async def test_a_client_retries_through_the_refusals(
    anonymous_apiserver: APIServer, own_etcd: EtcdProcess
) -> None:
    names = [f"retried-{i}" for i in range(10)]
    apf = anonymous_apiserver.flow_control
    assert isinstance(apf, PriorityAndFairness)
    queues = apf.levels["global-default"].queues
    rejected_before = queues.rejected
    async with Client(f"127.0.0.1:{anonymous_apiserver.port}", timeout=60) as client:
        with paused(own_etcd):  # one create waits on etcd; the others wait, time out, retry
            creates = asyncio.gather(*(client.pods.create(pod(n)) for n in names))

            async def the_others_refused() -> bool:
                return queues.rejected - rejected_before >= len(names) - 1

            await eventually(the_others_refused, 20, interval=0.02, what="the refusals")
        created = await creates
    assert sorted(p.metadata.name for p in created) == sorted(names)
    assert stored_pods(own_etcd, "retried-") == set(names)
