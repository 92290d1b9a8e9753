"""The endpoints and EndpointSlice controllers against an in-memory apiserver whose watch events
arrive only when the test delivers them: the slice controller does not write again before its
cache shows its own writes, and the endpoints controller's subsets are repacked as Kubernetes
repacks them (tables of cases)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from controller.endpoint.controller import EndpointsController
from controller.endpoint.subsets import subsets
from controller.endpointslice.controller import EndpointSliceController
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster

NS = "default"


def service(**spec: Any) -> service_pb2.Service:
    spec.setdefault("selector", {"app": "web"})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}])
    spec.setdefault("clusterIP", "10.96.0.20")
    spec.setdefault("ipFamilies", ["IPv4"])
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": spec,
        }
    )
    return obj  # type: ignore[no-any-return]


def pod(
    name: str, ip: str, *, ready: bool = True, ports: list[dict[str, Any]] | None = None
) -> core_pb2.Pod:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": NS,
                "uid": f"uid-{name}",
                "labels": {"app": "web"},
            },
            "spec": {
                "nodeName": "node-1",
                "containers": [{"name": "c", "image": "x", "ports": ports or []}],
            },
            "status": {
                "phase": "Running",
                "podIP": ip,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
    )
    return obj  # type: ignore[no-any-return]


async def until(check: Callable[[], bool], what: str) -> None:
    await waiting.until(check, what)


@contextlib.asynccontextmanager
async def running(controller: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(controller.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_slice_controller_waits_for_its_cache_to_show_its_writes() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(core_pb2.Node(metadata=meta_pb2.ObjectMeta(name="node-1")))
    await cluster.services.create(service())
    await cluster.pods.create(pod("a", "10.244.0.1"))
    controller = EndpointSliceController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    async with running(controller):
        await until(lambda: len(cluster.endpointslices.created) == 1, "a slice")
        # A second pod while the cache still lacks the slice: no second slice is created.
        await cluster.pods.create(pod("b", "10.244.0.2"))
        cluster.deliver(resources.POD)
        await asyncio.sleep(0.1)
        assert len(cluster.endpointslices.created) == 1
        cluster.deliver(resources.ENDPOINT_SLICE)
        await until(
            lambda: sum(len(s.endpoints) for s in cluster.endpointslices.store.values()) == 2,
            "both pods in the slice",
        )
        assert len(cluster.endpointslices.created) == 1


async def test_the_endpoints_controller_follows_its_service() -> None:
    cluster = FakeCluster()
    await cluster.services.create(service())
    await cluster.pods.create(pod("a", "10.244.0.1", ready=False))
    controller = EndpointsController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    async with running(controller):
        await until(lambda: len(cluster.endpoints.created) == 1, "the endpoints")
        (ep,) = cluster.endpoints.store.values()
        assert [a.ip for s in ep.subsets for a in s.not_ready_addresses] == ["10.244.0.1"]
        await cluster.services.delete("web", NS)
        cluster.deliver(resources.SERVICE, resources.ENDPOINTS)
        await until(lambda: cluster.endpoints.deleted == ["web"], "the endpoints deleted")


def shape(result: list[service_pb2.EndpointSubset]) -> list[tuple[list[str], list[str], list[str]]]:
    return [
        (
            [a.ip for a in s.addresses],
            [a.ip for a in s.not_ready_addresses],
            [f"{p.name}:{p.port}/{p.protocol}" for p in s.ports],
        )
        for s in result
    ]


HTTP = {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
METRICS = {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"}


@pytest.mark.parametrize(
    ("spec", "pods", "expected"),
    [
        # One subset: every address serves every port, ready or not.
        (
            {},
            [pod("a", "10.0.0.2"), pod("b", "10.0.0.1", ready=False)],
            [(["10.0.0.2"], ["10.0.0.1"], ["http:8080/TCP"])],
        ),
        # Named target ports of different numbers: a subset per port.
        (
            {"ports": [HTTP]},
            [
                pod("a", "10.0.0.1", ports=[{"name": "http", "containerPort": 8080}]),
                pod("b", "10.0.0.2", ports=[{"name": "http", "containerPort": 9090}]),
            ],
            [(["10.0.0.1"], [], ["http:8080/TCP"]), (["10.0.0.2"], [], ["http:9090/TCP"])],
        ),
        # A pod without the named port serves only the other port.
        (
            {"ports": [HTTP, METRICS]},
            [
                pod("a", "10.0.0.1", ports=[{"name": "http", "containerPort": 8080}]),
                pod("b", "10.0.0.2"),
            ],
            [
                (["10.0.0.1"], [], ["http:8080/TCP"]),
                (["10.0.0.1", "10.0.0.2"], [], ["metrics:9100/TCP"]),
            ],
        ),
        # Published not-ready addresses are ready.
        (
            {"publishNotReadyAddresses": True},
            [pod("a", "10.0.0.1", ready=False)],
            [(["10.0.0.1"], [], ["http:8080/TCP"])],
        ),
        # A headless Service without ports lists the addresses alone.
        (
            {"clusterIP": "None", "ports": []},
            [pod("a", "10.0.0.1"), pod("b", "10.0.0.2", ready=False)],
            [(["10.0.0.1"], ["10.0.0.2"], [])],
        ),
    ],
)
def test_subsets_are_repacked(
    spec: dict[str, Any], pods: list[core_pb2.Pod], expected: list[Any]
) -> None:
    assert shape(subsets(service(**spec), pods)) == expected


def test_a_terminating_pod_leaves_the_endpoints_unless_published() -> None:
    going = pod("a", "10.0.0.1")
    going.metadata.deletion_timestamp = "2026-11-21T15:00:00Z"
    assert subsets(service(), [going]) == []
    assert shape(subsets(service(publishNotReadyAddresses=True), [going])) == [
        (["10.0.0.1"], [], ["http:8080/TCP"])
    ]
