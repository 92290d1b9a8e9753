"""The EndpointSlice and endpoints controllers against the real apiserver over a real etcd, running
in this process (no kubelets: the test reports the pods' IPs and readiness itself, as a kubelet
would). Endpoints follow pod readiness and deletion, named target ports are resolved per pod,
publishNotReadyAddresses publishes every pod, a Service's slices hold at most 100 endpoints, and
they go with the Service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest_asyncio

from controller.endpoint.controller import EndpointsController
from controller.endpointslice.controller import EndpointSliceController
from controller.garbagecollector.controller import GarbageCollector
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.support import eventually, new_namespace

NODE = "svc-it-node"
ZONE = "zone-a"
SERVICE_LABEL = "kubernetes.io/service-name"


@pytest_asyncio.fixture(scope="module")
async def controllers(client: Client) -> AsyncIterator[None]:
    try:
        await client.nodes.create(
            core_pb2.Node(
                metadata=meta_pb2.ObjectMeta(
                    name=NODE, labels={"topology.kubernetes.io/zone": ZONE}
                )
            )
        )
    except Exception:  # noqa: BLE001 - made by an earlier run of the module
        pass
    informers = SharedInformerFactory(client)  # one per process, as the controller-manager's
    async with running(
        EndpointSliceController(client, informers),
        EndpointsController(client, informers),
        GarbageCollector(client, informers),
    ):
        yield


def service(name: str, ns: str, **spec: Any) -> service_pb2.Service:
    spec.setdefault("selector", {"app": name})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080}])
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }
    )
    return obj  # type: ignore[no-any-return]


async def start_pod(
    client: Client,
    ns: str,
    name: str,
    ip: str,
    *,
    ready: bool,
    labels: dict[str, str],
    port: int = 8080,
) -> core_pb2.Pod:
    """A pod bound to the test's node, Running with `ip`, ready or not."""
    pod: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {
                "nodeName": NODE,
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"name": "http", "containerPort": port}],
                    }
                ],
            },
        }
    )
    created = await client.pods.create(pod)
    return await report(client, created, ip, ready)


async def report(client: Client, pod: core_pb2.Pod, ip: str, ready: bool) -> core_pb2.Pod:
    fresh = await client.pods.get(pod.metadata.name, pod.metadata.namespace)
    fresh.status.phase = "Running"
    fresh.status.pod_ip = ip
    del fresh.status.pod_ips[:]
    fresh.status.pod_ips.add(ip=ip)
    status = "True" if ready else "False"
    for kind in ("Ready", "ContainersReady"):
        fresh.status.conditions.add(type=kind, status=status, last_transition_time=timeutil.now())
    del fresh.status.conditions[:-2]
    return await client.pods.update_status(fresh)


async def slices_of(client: Client, ns: str, name: str) -> list[discovery_pb2.EndpointSlice]:
    items, _ = await client.endpointslices.list_all(ns, label_selector=f"{SERVICE_LABEL}={name}")
    return sorted(items, key=lambda s: -len(s.endpoints))


def conditions(eps: list[discovery_pb2.EndpointSlice]) -> dict[str, tuple[bool, bool, bool]]:
    return {
        e.target_ref.name: (e.conditions.ready, e.conditions.serving, e.conditions.terminating)
        for s in eps
        for e in s.endpoints
    }


async def test_endpoints_follow_pod_readiness(client: Client, controllers: None) -> None:
    ns = await new_namespace(client, "ep-")
    await client.services.create(service("web", ns))
    web = {"app": "web"}
    one = await start_pod(client, ns, "one", "10.244.9.1", ready=True, labels=web)
    await start_pod(client, ns, "two", "10.244.9.2", ready=False, labels=web)

    async def sliced() -> list[discovery_pb2.EndpointSlice] | None:
        eps = await slices_of(client, ns, "web")
        return eps if len(conditions(eps)) == 2 else None

    (eps,) = await eventually(sliced, timeout=15, what="a slice of two endpoints")
    assert conditions([eps]) == {"one": (True, True, False), "two": (False, False, False)}
    assert eps.address_type == "IPv4"
    assert [(p.name, p.port, p.protocol) for p in eps.ports] == [("http", 8080, "TCP")]
    assert eps.metadata.labels["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslice-controller.k8s.io"
    )
    (owner,) = eps.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("Service", "web", True)
    first = next(e for e in eps.endpoints if e.target_ref.name == "one")
    assert list(first.addresses) == ["10.244.9.1"]
    assert (first.node_name, first.zone, first.target_ref.kind) == (NODE, ZONE, "Pod")

    async def endpoints_are(ready: list[str], not_ready: list[str]) -> bool:
        ep = await client.endpoints.get("web", ns)
        got = (
            [a.ip for s in ep.subsets for a in s.addresses],
            [a.ip for s in ep.subsets for a in s.not_ready_addresses],
        )
        return got == (ready, not_ready)

    await eventually(lambda: endpoints_are(["10.244.9.1"], ["10.244.9.2"]), timeout=15)

    # The second becomes ready.
    await report(client, await client.pods.get("two", ns), "10.244.9.2", ready=True)
    await eventually(
        lambda: _has(client, ns, "web", {"one": (True, True, False), "two": (True, True, False)}),
        timeout=15,
    )
    await eventually(lambda: endpoints_are(["10.244.9.1", "10.244.9.2"], []), timeout=15)

    # The first is being deleted (its kubelet would stop it): terminating, still serving.
    await client.pods.delete(one.metadata.name, ns)
    await eventually(
        lambda: _has(client, ns, "web", {"one": (False, True, True), "two": (True, True, False)}),
        timeout=15,
    )
    await eventually(lambda: endpoints_are(["10.244.9.2"], []), timeout=15)


async def _has(
    client: Client, ns: str, name: str, want: dict[str, tuple[bool, bool, bool]]
) -> bool:
    return conditions(await slices_of(client, ns, name)) == want


async def test_named_target_ports_and_not_ready_addresses(
    client: Client, controllers: None
) -> None:
    ns = await new_namespace(client, "ep-")
    await client.services.create(
        service(
            "named",
            ns,
            ports=[{"name": "http", "port": 80, "targetPort": "http"}],
            publishNotReadyAddresses=True,
        )
    )
    labels = {"app": "named"}
    await start_pod(client, ns, "a", "10.244.8.1", ready=False, labels=labels, port=8080)
    await start_pod(client, ns, "b", "10.244.8.2", ready=False, labels=labels, port=9090)

    async def two_slices() -> list[discovery_pb2.EndpointSlice] | None:
        eps = await slices_of(client, ns, "named")
        return eps if len(eps) == 2 and all(s.endpoints for s in eps) else None

    eps = await eventually(two_slices, timeout=15, what="a slice per target port")
    by_port = {s.ports[0].port: s.endpoints[0].target_ref.name for s in eps}
    assert by_port == {8080: "a", 9090: "b"}
    # Published though not ready: ready, not serving.
    assert conditions(eps) == {"a": (True, False, False), "b": (True, False, False)}

    async def endpoints_ready() -> bool:
        ep = await client.endpoints.get("named", ns)
        return sorted((a.ip, p.port) for s in ep.subsets for a in s.addresses for p in s.ports) == [
            ("10.244.8.1", 8080),
            ("10.244.8.2", 9090),
        ]

    await eventually(endpoints_ready, timeout=15)


async def test_slices_hold_at_most_a_hundred_and_go_with_the_service(
    client: Client, controllers: None
) -> None:
    ns = await new_namespace(client, "ep-")
    await client.services.create(service("many", ns))
    for i in range(130):
        await start_pod(
            client,
            ns,
            f"p{i}",
            f"10.244.{20 + i // 200}.{i % 200 + 1}",
            ready=True,
            labels={"app": "many"},
        )

    async def split() -> list[discovery_pb2.EndpointSlice] | None:
        eps = await slices_of(client, ns, "many")
        return eps if sum(len(s.endpoints) for s in eps) == 130 else None

    eps = await eventually(split, timeout=30, what="130 endpoints")
    assert [len(s.endpoints) for s in eps] == [100, 30]
    assert all(s.metadata.name.startswith("many-") for s in eps)

    await client.services.delete("many", ns)

    async def gone() -> bool:
        left = await slices_of(client, ns, "many")
        if left:
            return False
        try:
            await client.endpoints.get("many", ns)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return True
            raise  # any other error says nothing about the endpoints
        return False

    await eventually(gone, timeout=30, what="the slices and endpoints gone")


async def test_headless_and_selectorless_services(client: Client, controllers: None) -> None:
    ns = await new_namespace(client, "ep-")
    await client.services.create(service("headless", ns, clusterIP="None"))
    await client.services.create(service("manual", ns, selector={}))
    await start_pod(client, ns, "h", "10.244.7.1", ready=True, labels={"app": "headless"})

    async def headless_slice() -> discovery_pb2.EndpointSlice | None:
        eps = await slices_of(client, ns, "headless")
        return eps[0] if eps and eps[0].endpoints else None

    eps = await eventually(headless_slice, timeout=15)
    assert eps.metadata.labels["service.kubernetes.io/headless"] == ""
    ep = await eventually(lambda: client.endpoints.get("headless", ns), timeout=15)
    assert ep.metadata.labels["service.kubernetes.io/headless"] == ""
    # A Service without selector is left to whoever manages its endpoints.
    assert await slices_of(client, ns, "manual") == []
