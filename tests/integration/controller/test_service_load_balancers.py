"""The service load balancer controller in `python -m controller` (its own identity,
system:kube-controller-manager, over TLS) against the real apiserver over real etcd: a
LoadBalancer Service gets an address of the pool, the finalizer and the service controller's
events, and kubectl shows the address as EXTERNAL-IP; allocateLoadBalancerNodePorts false gets
an address without node ports; spec.loadBalancerIP is honoured; Services of another class are
left alone; an exhausted pool leaves a Service pending until an address is released by a
deletion or a type change.

Each controller-manager here serves its own spec.loadBalancerClass, so that it touches no
LoadBalancer Service of another module sharing the session's etcd."""

from __future__ import annotations

import contextlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import ComponentProcess, EtcdProcess, eventually, free_port, new_namespace

ROOT = Path(__file__).resolve().parents[3]
FINALIZER = "service.kubernetes.io/load-balancer-cleanup"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("service-lb")) as c:
        yield c


@contextlib.contextmanager
def controller_manager(cluster: RestCluster, pool: str, lb_class: str) -> Iterator[None]:
    """`python -m controller` running only the service-lb-controller, as the controller-manager."""
    pki = cluster.pki
    with tempfile.TemporaryDirectory(prefix="service-lb-") as folder:
        proc = ComponentProcess(
            Path(folder) / "controller-manager.log",
            "controller",
            "--server",
            cluster.grpc.target,
            "--ca-file",
            str(pki / "ca.crt"),
            "--cert-file",
            str(pki / "controller-manager.crt"),
            "--key-file",
            str(pki / "controller-manager.key"),
            "--controllers",
            "service-lb-controller",
            "--leader-elect=false",
            "--health-port",
            str(free_port()),
            "--metrics-bind-address",
            "",
            "--load-balancer-ip-pool",
            pool,
            "--load-balancer-class",
            lb_class,
        )
        try:
            yield
        finally:
            assert proc.stop() == 0, proc.output()


def lb_class() -> str:
    return f"podplane.io/it-{uuid.uuid4().hex[:8]}"


def service(name: str, ns: str, cls: str, **spec: Any) -> service_pb2.Service:
    spec.setdefault("type", "LoadBalancer")
    if cls:
        spec.setdefault("loadBalancerClass", cls)
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec},
        }
    )
    return obj  # type: ignore[no-any-return]


async def address(client: Client, ns: str, name: str) -> str | None:
    svc = await client.services.get(name, ns)
    return svc.status.load_balancer.ingress[0].ip if svc.status.load_balancer.ingress else None


async def assigned(client: Client, ns: str, name: str) -> str:
    async def check() -> str | None:
        return await address(client, ns, name)

    return await eventually(check, timeout=30, what=f"{name}'s address")


async def reasons(client: Client, ns: str, name: str) -> list[str]:
    items = (await client.events.list(ns)).items
    ordered = sorted(
        (e for e in items if e.involved_object.name == name), key=lambda e: e.metadata.name
    )
    return [e.reason for e in ordered]


async def test_a_load_balancer_gets_an_address_that_kubectl_shows(cluster: RestCluster) -> None:
    client, cls = cluster.grpc, lb_class()
    ns = await new_namespace(client, "lb-")
    with controller_manager(cluster, "198.51.100.10-198.51.100.12", cls):
        await client.services.create(service("web", ns, cls))
        await client.services.create(
            service("direct", ns, cls, allocateLoadBalancerNodePorts=False)
        )
        await client.services.create(service("asked", ns, cls, loadBalancerIP="198.51.100.12"))
        got = {name: await assigned(client, ns, name) for name in ("web", "direct", "asked")}
        assert got["asked"] == "198.51.100.12"
        assert sorted([got["web"], got["direct"]]) == ["198.51.100.10", "198.51.100.11"]
        web = await client.services.get("web", ns)
        assert list(web.metadata.finalizers) == [FINALIZER]
        assert web.status.load_balancer.ingress[0].ip_mode == "VIP"
        assert web.spec.ports[0].node_port
        direct = await client.services.get("direct", ns)
        assert not direct.spec.ports[0].node_port

        async def events_written() -> list[str] | None:
            seen = await reasons(client, ns, "web")
            return seen if "EnsuredLoadBalancer" in seen else None

        assert await eventually(events_written, what="the events") == [
            "EnsuringLoadBalancer",
            "EnsuredLoadBalancer",
        ]
        out = await cluster.kubectl_ok("get", "service", "web", "-n", ns)
        header, row = out.splitlines()
        assert header.split()[:5] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
        assert row.split()[:2] == ["web", "LoadBalancer"]
        assert row.split()[3] == got["web"]
        described = await cluster.kubectl_ok("describe", "service", "web", "-n", ns)
        assert f"LoadBalancer Ingress:     {got['web']} (VIP)" in described
        assert "Normal  EnsuredLoadBalancer" in described

        # Deleted: the address released, the finalizer removed, the Service gone.
        await cluster.kubectl_ok("delete", "service", "web", "-n", ns, "--timeout=30s")
        await client.services.create(service("next", ns, cls))
        assert await assigned(client, ns, "next") == got["web"]


async def test_other_classes_are_left_alone(cluster: RestCluster) -> None:
    client, cls = cluster.grpc, lb_class()
    ns = await new_namespace(client, "lb-")
    with controller_manager(cluster, "198.51.100.20-198.51.100.21", cls):
        # Worked in order by one worker: once the last has its address, the others were seen.
        await client.services.create(service("theirs", ns, "example.com/other-lb"))
        await client.services.create(service("unclassed", ns, ""))
        await client.services.create(service("ours", ns, cls))
        await assigned(client, ns, "ours")
        for name in ("theirs", "unclassed"):
            svc = await client.services.get(name, ns)
            assert not svc.metadata.finalizers and not svc.status.load_balancer.ingress
            assert await reasons(client, ns, name) == []
        out = await cluster.kubectl_ok("get", "service", "theirs", "-n", ns, "-o", "json")
        assert json.loads(out)["status"] == {"loadBalancer": {}}
        row = (await cluster.kubectl_ok("get", "service", "theirs", "-n", ns)).splitlines()[1]
        assert row.split()[3] == "<pending>"


async def test_an_exhausted_pool_leaves_a_service_pending_until_one_is_released(
    cluster: RestCluster,
) -> None:
    client, cls = cluster.grpc, lb_class()
    ns = await new_namespace(client, "lb-")
    with controller_manager(cluster, "198.51.100.30", cls):
        await client.services.create(service("first", ns, cls))
        assert await assigned(client, ns, "first") == "198.51.100.30"
        await client.services.create(service("second", ns, cls))

        async def refused() -> bool:
            return "SyncLoadBalancerFailed" in await reasons(client, ns, "second")

        await eventually(refused, what="the refusal's event")
        failed = [
            e for e in (await client.events.list(ns)).items if e.reason == "SyncLoadBalancerFailed"
        ]
        assert failed[0].type == "Warning"
        assert failed[0].message == (
            "Error syncing load balancer: failed to ensure load balancer: no available IP in the "
            "load balancer pool 198.51.100.30"
        )
        assert failed[0].source.component == "service-controller"
        assert await address(client, ns, "second") is None

        # first becomes a NodePort Service: its address goes to second.
        out = await cluster.kubectl_ok(
            "patch", "service", "first", "-n", ns, "-p", '{"spec":{"type":"NodePort"}}'
        )
        assert out == "service/first patched\n"
        assert await assigned(client, ns, "second") == "198.51.100.30"

        async def released() -> bool:
            first = await client.services.get("first", ns)
            return not first.metadata.finalizers and not first.status.load_balancer.ingress

        await eventually(released, what="first's finalizer and status gone")

        # DeletedLoadBalancer is recorded after the finalizer's removal, and events are written
        # on their own (podplane/client/events.py): it may follow the status cleared last.
        async def deletion_recorded() -> list[str] | None:
            seen = await reasons(client, ns, "first")
            return seen if {"DeletingLoadBalancer", "DeletedLoadBalancer"} <= set(seen) else None

        assert (await eventually(deletion_recorded, what="the deletion's events"))[-2:] == [
            "DeletingLoadBalancer",
            "DeletedLoadBalancer",
        ]
