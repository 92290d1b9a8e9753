"""The apiserver's metrics interceptor: which verb, resource and subresource a gRPC method is, and
what a real grpc.aio server counts for calls that succeed, fail, stream and are cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from apiserver.endpoints.grpc.interceptors.metrics import MetricsInterceptor
from apiserver.endpoints.grpc.interceptors.request_info import request_info
from apiserver.endpoints.request import RequestInfo
from apiserver.storage.metrics import etcd_request, storage_type
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.componentbase.serving import Server
from tests.unit import waiting


@pytest.mark.parametrize(
    "method, expected",
    [
        ("/podplane.core.v1.Pods/Create", RequestInfo("POST", "pods")),
        ("/podplane.core.v1.Pods/Get", RequestInfo("GET", "pods")),
        ("/podplane.core.v1.Nodes/List", RequestInfo("LIST", "nodes")),
        ("/podplane.core.v1.Pods/Watch", RequestInfo("WATCH", "pods", long_running=True)),
        ("/podplane.core.v1.Namespaces/Update", RequestInfo("PUT", "namespaces")),
        ("/podplane.core.v1.Pods/UpdateStatus", RequestInfo("PUT", "pods", "status")),
        ("/podplane.core.v1.Events/Delete", RequestInfo("DELETE", "events")),
        ("/podplane.core.v1.Pods/Bind", RequestInfo("POST", "pods", "binding")),
        ("/podplane.core.v1.Pods/Log", RequestInfo("GET", "pods", "log", long_running=True)),
        ("/podplane.coordination.v1.Leases/Update", RequestInfo("PUT", "leases")),
        ("/grpc.health.v1.Health/Check", None),
        ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", None),
    ],
)
def test_method_maps_to_kubernetes_verb_and_resource(
    method: str, expected: RequestInfo | None
) -> None:
    assert request_info(method) == expected


@pytest.mark.parametrize(
    "verb, kind",
    [
        ("GET", "readOnly"),
        ("LIST", "readOnly"),
        ("WATCH", "readOnly"),
        ("POST", "mutating"),
        ("PUT", "mutating"),
        ("DELETE", "mutating"),
    ],
)
def test_request_kind(verb: str, kind: str) -> None:
    assert RequestInfo(verb, "pods").request_kind == kind


@pytest.mark.parametrize(
    "key, type_",
    [
        (b"/registry/pods/default/web", "pods"),
        (b"/registry/nodes/node-1", "nodes"),
        (b"/registry/leases/", "leases"),
        (b"/elsewhere/x", "unknown"),
        (b"", "unknown"),
    ],
)
def test_etcd_key_type(key: bytes, type_: str) -> None:
    assert storage_type(key) == type_


@pytest.mark.parametrize(
    "operation, key, type_",
    [
        ("get", b"/registry/pods/default/web", "pods"),
        ("get", b"/registry/pods/default/db", "pods"),
        ("get", b"/registry/nodes/node-1", "nodes"),
        ("list", b"/registry/nodes/", "nodes"),
        ("get", b"/registry/namespaces", "namespaces"),
        ("get", b"/registry/leases", "leases"),
        ("get", b"/registry/", "unknown"),
        ("get", b"/elsewhere/x", "unknown"),
        ("compact", b"", "unknown"),
    ],
)
def test_each_etcd_request_is_timed_under_its_operation_and_type(
    operation: str, key: bytes, type_: str
) -> None:
    labels = {"operation": operation, "type": type_}
    before = REGISTRY.get_sample_value("etcd_request_duration_seconds_count", labels) or 0
    with etcd_request(operation, key):
        pass
    assert REGISTRY.get_sample_value("etcd_request_duration_seconds_count", labels) == before + 1


class TinyPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.watch_started = asyncio.Event()

    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        return request

    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.NOT_FOUND, f'pods "{request.name}" not found')

    async def Update(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.ABORTED, "the object has been modified")

    async def UpdateStatus(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        raise RuntimeError("a bug")

    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.PodWatchEvent]:
        yield core_pb2.PodWatchEvent(type="ADDED")
        self.watch_started.set()
        await asyncio.sleep(3600)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def total(verb: str, code: str, subresource: str = "") -> float:
    return value(
        "apiserver_request_total", verb=verb, resource="pods", subresource=subresource, code=code
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[grpc.aio.Channel, TinyPods]]:
    """TinyPods on a real grpc.aio server with the interceptor, and a channel to it."""
    servicer = TinyPods()
    server = Server(
        "127.0.0.1:0",
        lambda s: resources.POD.add_servicer(servicer, s),
        interceptors=[MetricsInterceptor()],
    )
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield channel, servicer
    finally:
        await channel.close()
        await server.stop(0)


async def test_counts_each_call_with_its_status_code(
    served: tuple[grpc.aio.Channel, TinyPods],
) -> None:
    stub = resources.POD.stub(served[0])
    before = {
        "created": total("POST", "OK"),
        "not_found": total("GET", "NOT_FOUND"),
        "conflict": total("PUT", "ABORTED"),
        "bug": total("PUT", "UNKNOWN", "status"),
        "timed": value(
            "apiserver_request_duration_seconds_count", verb="POST", resource="pods", subresource=""
        ),
    }
    await stub.Create(core_pb2.Pod())
    await stub.Create(core_pb2.Pod())
    for call, request, code in (
        (stub.Get, meta_pb2.GetRequest(name="web"), "NOT_FOUND"),
        (stub.Update, core_pb2.Pod(), "ABORTED"),
        (stub.UpdateStatus, core_pb2.Pod(), "UNKNOWN"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request)
        assert err.value.code().name == code
    assert total("POST", "OK") - before["created"] == 2
    assert total("GET", "NOT_FOUND") - before["not_found"] == 1
    assert total("PUT", "ABORTED") - before["conflict"] == 1
    assert total("PUT", "UNKNOWN", "status") - before["bug"] == 1
    assert (
        value(
            "apiserver_request_duration_seconds_count", verb="POST", resource="pods", subresource=""
        )
        - before["timed"]
        == 2
    )
    assert value("apiserver_current_inflight_requests", request_kind="readOnly") == 0
    assert value("apiserver_current_inflight_requests", request_kind="mutating") == 0


async def test_watch_is_long_running_while_open_and_counted_when_cancelled(
    served: tuple[grpc.aio.Channel, TinyPods],
) -> None:
    channel, servicer = served
    stub = resources.POD.stub(channel)
    cancelled_before = total("WATCH", "CANCELLED")
    timed_before = value(
        "apiserver_request_duration_seconds_count", verb="WATCH", resource="pods", subresource=""
    )
    call = stub.Watch(meta_pb2.WatchRequest())
    event = await call.read()
    assert event.type == "ADDED"
    async with asyncio.timeout(5):
        await servicer.watch_started.wait()
    assert (
        value("apiserver_longrunning_requests", verb="WATCH", resource="pods", subresource="") == 1
    )
    # A watch is not an in-flight request (Kubernetes' max-in-flight leaves long-running ones out).
    assert value("apiserver_current_inflight_requests", request_kind="readOnly") == 0
    call.cancel()
    await waiting.until(
        lambda: (
            value("apiserver_longrunning_requests", verb="WATCH", resource="pods", subresource="")
            == 0
        ),
        "the watch no longer counted",
        interval=0.02,
    )
    assert (
        value("apiserver_longrunning_requests", verb="WATCH", resource="pods", subresource="") == 0
    )
    assert total("WATCH", "CANCELLED") - cancelled_before == 1
    assert (
        value(
            "apiserver_request_duration_seconds_count",
            verb="WATCH",
            resource="pods",
            subresource="",
        )
        == timed_before
    )


def all_requests() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "apiserver_request"
        for sample in metric.samples
    )


async def test_other_services_pass_through_unmeasured(
    served: tuple[grpc.aio.Channel, TinyPods],
) -> None:
    await resources.POD.stub(served[0]).Create(core_pb2.Pod())
    before = all_requests()
    assert before >= 1
    health = health_pb2_grpc.HealthStub(served[0])
    reply = await health.Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert all_requests() == before
