"""podplane.componentbase.serving.MethodTable: the servicers' methods reach gRPC as one generic
handler, so a server's accept loop waits on one call request, not one per method; every method,
health and reflection are still served, and an unknown method is UNIMPLEMENTED."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.componentbase.serving import MethodTable, Server


class NamedPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        return request

    async def Bind(self, request: core_pb2.Binding, context: grpc.aio.ServicerContext) -> Any:
        return meta_pb2.Status(status="Success", message=f"bound to {request.target.name}")


class Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_the_table_finds_each_method_of_an_added_servicer() -> None:
    table = MethodTable()
    resources.POD.add_servicer(NamedPods(), table)
    for name in ("Create", "Get", "List", "Watch", "Update", "UpdateStatus", "Delete", "Bind"):
        assert table.service(Details(f"/podplane.core.v1.Pods/{name}")) is not None, name
    assert table.service(Details("/podplane.core.v1.Pods/Nope")) is None
    assert table.service(Details("/podplane.core.v1.Nodes/Create")) is None


def test_generic_handlers_alone_are_asked_after_the_table() -> None:
    """Code generated before registered methods existed adds generic handlers only."""
    table = MethodTable()
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    table.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("old.Service", {"Call": handler}),)
    )
    assert table.service(Details("/old.Service/Call")) is handler
    assert table.service(Details("/old.Service/Other")) is None


@pytest.mark.parametrize("acceptors", [1, 3])
async def test_every_method_health_and_reflection_are_served(acceptors: int) -> None:
    server = Server(
        "127.0.0.1:0",
        lambda s: resources.POD.add_servicer(NamedPods(), s),
        ["podplane.core.v1.Pods"],
        acceptors=acceptors,
    )
    await server.start()
    await server.set_serving(True)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            pods = services_pb2_grpc.PodsStub(channel)
            created = await pods.Create(
                core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="a")), timeout=5
            )
            assert created.metadata.name == "a"
            bound = await pods.Bind(
                core_pb2.Binding(
                    metadata=meta_pb2.ObjectMeta(name="a"),
                    target=core_pb2.ObjectReference(name="node-1"),
                ),
                timeout=5,
            )
            assert bound.message == "bound to node-1"
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await pods.Delete(meta_pb2.DeleteRequest(name="a"), timeout=5)
            assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED  # not written by NamedPods
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await channel.unary_unary("/podplane.core.v1.Pods/Nope")(b"", timeout=5)
            assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            listed = [
                s.name async for reply in stream for s in reply.list_services_response.service
            ]
            assert "podplane.core.v1.Pods" in listed
    finally:
        await server.stop(0)
