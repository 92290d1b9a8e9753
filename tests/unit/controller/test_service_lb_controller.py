"""The service load balancer controller against an in-memory apiserver: a LoadBalancer Service
gets the finalizer, then an address of the pool, with Kubernetes' events; an exhausted pool leaves
it pending with a SyncLoadBalancerFailed event until another Service's address is released;
another class's Service and other types are left alone; a type change releases the address."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from controller.servicelb.controller import FINALIZER, ServiceLBController
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster, FinalizingFakeApi, running

NS = "default"


def service(name: str, type_: str = "LoadBalancer", **spec: Any) -> service_pb2.Service:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
            "spec": {"type": type_, "ports": [{"port": 80}], **spec},
        },
        service_pb2.Service,
    )


def cluster_with_services() -> FakeCluster:
    cluster = FakeCluster()
    cluster.services = FinalizingFakeApi(resources.SERVICE, itertools.count(1000))
    return cluster


def stored(cluster: FakeCluster, name: str) -> service_pb2.Service | None:
    return cluster.services.store.get(f"{NS}/{name}")


def ips(cluster: FakeCluster, name: str) -> list[str]:
    svc = stored(cluster, name)
    return [] if svc is None else [i.ip for i in svc.status.load_balancer.ingress]


def reasons(cluster: FakeCluster, name: str) -> list[str]:
    return [e.reason for e in cluster.events.store.values() if e.involved_object.name == name]


async def until(cluster: FakeCluster, check: Any, what: str) -> None:
    await waiting.until(
        check, what, each=lambda: cluster.deliver(resources.SERVICE, resources.EVENT)
    )


def controller(cluster: FakeCluster, pool: str, lb_class: str = "") -> ServiceLBController:
    return ServiceLBController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        pool=pool,
        load_balancer_class=lb_class,
    )


async def test_a_load_balancer_gets_the_finalizer_an_address_and_the_events() -> None:
    cluster = cluster_with_services()
    await cluster.services.create(service("web"))
    async with running(controller(cluster, "10.0.0.200-10.0.0.201")):
        await until(cluster, lambda: ips(cluster, "web") == ["10.0.0.200"], "an address")
        svc = stored(cluster, "web")
        assert svc is not None and list(svc.metadata.finalizers) == [FINALIZER]
        assert svc.status.load_balancer.ingress[0].ip_mode == "VIP"
        await until(
            cluster,
            lambda: reasons(cluster, "web") == ["EnsuringLoadBalancer", "EnsuredLoadBalancer"],
            "the events",
        )
        # Deleted: the address released, the finalizer removed, the Service gone.
        await cluster.services.delete("web", NS)
        await until(cluster, lambda: stored(cluster, "web") is None, "the Service to go")
        await until(
            cluster,
            lambda: reasons(cluster, "web")[2:] == ["DeletingLoadBalancer", "DeletedLoadBalancer"],
            "the deletion's events",
        )


async def test_an_exhausted_pool_leaves_the_service_pending_until_an_address_is_free() -> None:
    cluster = cluster_with_services()
    await cluster.services.create(service("a"))
    async with running(controller(cluster, "10.0.0.200")):
        await until(cluster, lambda: ips(cluster, "a") == ["10.0.0.200"], "a's address")
        await cluster.services.create(service("b"))
        await until(cluster, lambda: "SyncLoadBalancerFailed" in reasons(cluster, "b"), "b fails")
        failed = [e for e in cluster.events.store.values() if e.reason == "SyncLoadBalancerFailed"]
        assert failed[0].type == "Warning"
        assert failed[0].message == (
            "Error syncing load balancer: failed to ensure load balancer: no available IP in the "
            "load balancer pool 10.0.0.200"
        )
        assert ips(cluster, "b") == []
        # a becomes a ClusterIP Service: its address is released and goes to b.
        changed = service_pb2.Service()
        changed.CopyFrom(stored(cluster, "a"))  # type: ignore[arg-type]
        changed.spec.type = "ClusterIP"
        await cluster.services.update(changed)
        await until(cluster, lambda: ips(cluster, "b") == ["10.0.0.200"], "b's address")
        await until(cluster, lambda: ips(cluster, "a") == [], "a's status cleared")
        a = stored(cluster, "a")
        assert a is not None and list(a.metadata.finalizers) == []


async def test_the_requested_address_is_given() -> None:
    cluster = cluster_with_services()
    await cluster.services.create(service("a", loadBalancerIP="10.0.0.203"))
    await cluster.services.create(service("b", loadBalancerIP="10.9.0.1"))
    async with running(controller(cluster, "10.0.0.200-10.0.0.210")):
        await until(cluster, lambda: ips(cluster, "a") == ["10.0.0.203"], "the requested one")
        await until(cluster, lambda: "SyncLoadBalancerFailed" in reasons(cluster, "b"), "b fails")
        assert ips(cluster, "b") == []


async def test_other_classes_and_types_are_left_alone() -> None:
    cluster = cluster_with_services()
    await cluster.services.create(service("theirs", loadBalancerClass="example.com/lb"))
    await cluster.services.create(service("plain", "ClusterIP"))
    await cluster.services.create(service("ours", loadBalancerClass="podplane.io/lb"))
    async with running(controller(cluster, "10.0.0.200-10.0.0.210", "podplane.io/lb")):
        await until(cluster, lambda: ips(cluster, "ours") == ["10.0.0.200"], "ours")
        await asyncio.sleep(0.05)
        for name in ("theirs", "plain"):
            svc = stored(cluster, name)
            assert svc is not None and not svc.metadata.finalizers
            assert ips(cluster, name) == [] and reasons(cluster, name) == []


async def test_addresses_services_hold_are_kept_across_restarts() -> None:
    cluster = cluster_with_services()
    held = service("old")
    held.metadata.finalizers.append(FINALIZER)
    held.status.load_balancer.ingress.add(ip="10.0.0.200", ip_mode="VIP")
    await cluster.services.create(held)
    await cluster.services.create(service("new"))
    async with running(controller(cluster, "10.0.0.200-10.0.0.201")):
        await until(cluster, lambda: ips(cluster, "new") == ["10.0.0.201"], "new's address")
        assert ips(cluster, "old") == ["10.0.0.200"]
        assert reasons(cluster, "old") == []  # nothing to do: no event


async def test_without_a_pool_nothing_is_touched() -> None:
    cluster = cluster_with_services()
    await cluster.services.create(service("web"))
    lb = ServiceLBController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        pool="auto",
        apiserver="127.0.0.1:6443",  # loopback: no default pool
    )
    async with asyncio.timeout(5):
        await lb.run()  # returns at once
    svc = stored(cluster, "web")
    assert svc is not None and not svc.metadata.finalizers and reasons(cluster, "web") == []
