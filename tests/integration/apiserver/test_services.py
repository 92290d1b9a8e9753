"""Services through the real apiserver over a real etcd: cluster IPs and node ports allocated and
released with the Service in one transaction (no value given twice, under concurrent creates and
across apiserver restarts; none leaked by a create that fails), updates that change the type, the
errors Kubernetes words, a full range, the repair of claims edited behind the apiserver's back,
and the `kubernetes` Service of the apiserver itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from apiserver.registry.service.allocator import IP_PREFIX, NODE_PORT_PREFIX
from apiserver.registry.service.repair import repair
from apiserver.server import APIServer
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.control_plane import running_apiserver
from tests.support import EtcdProcess, eventually, new_namespace


def service(name: str, namespace: str, **spec: Any) -> service_pb2.Service:
    spec.setdefault("ports", [{"port": 80}])
    spec.setdefault("selector", {"app": name})
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )
    assert isinstance(obj, service_pb2.Service)
    return obj


async def claims(server: APIServer) -> set[str]:
    """Every claimed cluster IP and node port, as "ip" and "port:<n>"."""
    ips, _ = await server.etcd.keys(IP_PREFIX)
    ports, _ = await server.etcd.keys(NODE_PORT_PREFIX)
    return {k[len(IP_PREFIX) :].decode() for k in ips} | {
        f"port:{k[len(NODE_PORT_PREFIX) :].decode()}" for k in ports
    }


async def refused(call: Any, code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return str(err.value.details())


@contextlib.asynccontextmanager
async def own_cluster(**options: Any) -> AsyncIterator[tuple[EtcdProcess, APIServer, Client]]:
    """An etcd and an apiserver of their own (a range of their own, restarts)."""
    etcd = EtcdProcess.start()
    try:
        async with running_apiserver(etcd, **options) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            try:
                yield etcd, server, client
            finally:
                await client.close()
    finally:
        etcd.stop()


# ------------------------------------------------------------------ allocation


async def test_fifty_concurrent_creates_get_fifty_distinct_ips_and_ports(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client, "svc-")
    created = await asyncio.gather(
        *(client.services.create(service(f"s{i}", ns, type="NodePort")) for i in range(50))
    )
    ips = [s.spec.cluster_ip for s in created]
    node_ports = [s.spec.ports[0].node_port for s in created]
    assert len(set(ips)) == 50 and len(set(node_ports)) == 50
    assert all(30000 <= p <= 32767 for p in node_ports)
    held = await claims(apiserver)
    assert set(ips) <= held and {f"port:{p}" for p in node_ports} <= held
    for s in created:
        assert list(s.spec.cluster_ips) == [s.spec.cluster_ip]
        kv, _ = await apiserver.etcd.get(IP_PREFIX + s.spec.cluster_ip.encode())
        assert kv is not None
        owner = json.loads(kv.value)
        assert owner == {"namespace": ns, "name": s.metadata.name, "uid": s.metadata.uid}
    await asyncio.gather(*(client.services.delete(s.metadata.name, ns) for s in created))
    left = await claims(apiserver)
    assert not (set(ips) | {f"port:{p}" for p in node_ports}) & left


async def test_concurrent_creates_asking_for_one_ip_get_it_once(client: Client) -> None:
    ns = await new_namespace(client, "svc-")
    results = await asyncio.gather(
        *(client.services.create(service(f"s{i}", ns, clusterIP="10.96.7.7")) for i in range(8)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, service_pb2.Service)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 7
    for e in lost:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.details().endswith(
            'spec.clusterIPs: Invalid value: []string{"10.96.7.7"}: failed to allocate IP '
            "10.96.7.7: provided IP is already allocated"
        )


async def test_a_failed_create_leaks_nothing(apiserver: APIServer, client: Client) -> None:
    ns = await new_namespace(client, "svc-")
    await client.services.create(service("web", ns, type="NodePort"))
    before = await claims(apiserver)
    # The name is taken: nothing is claimed for the second one.
    assert "already exists" in await refused(
        client.services.create(service("web", ns, type="NodePort")), grpc.StatusCode.ALREADY_EXISTS
    )
    # Invalid, with an IP and a node port of its own asked for.
    bad = service(
        "bad", ns, type="NodePort", clusterIP="10.96.9.9", ports=[{"port": 0, "nodePort": 30999}]
    )
    assert "spec.ports[0].port: Invalid value: 0" in await refused(client.services.create(bad))
    # A free IP and a taken node port: neither is claimed.
    taken_port = service("taken", ns, type="NodePort", clusterIP="10.96.9.10")
    taken_port.spec.ports[0].node_port = next(int(c[5:]) for c in before if c.startswith("port:"))
    assert "provided port is already allocated" in await refused(client.services.create(taken_port))
    assert await claims(apiserver) == before


async def test_errors_as_kubernetes_words_them(client: Client) -> None:
    ns = await new_namespace(client, "svc-")
    outside = await refused(client.services.create(service("a", ns, clusterIP="192.168.0.1")))
    assert outside == (
        'Service "a" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.0.1"}: failed '
        "to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The "
        "range of valid IPs is 10.96.0.0/12"
    )
    port = await refused(
        client.services.create(
            service("b", ns, type="NodePort", ports=[{"port": 80, "nodePort": 29999}])
        )
    )
    assert port == (
        'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is '
        "not in the valid range. The range of valid ports is 30000-32767"
    )
    dual = await refused(
        client.services.create(service("c", ns, ipFamilyPolicy="RequireDualStack"))
    )
    assert dual == (
        'Service "c" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this '
        "cluster is not configured for dual-stack services"
    )
    v6 = await refused(client.services.create(service("d", ns, clusterIP="fd00::10")))
    assert v6 == (
        'Service "d" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::10"}: IPv6 '
        "is not configured on this cluster"
    )
    none_nodeport = await refused(
        client.services.create(service("e", ns, type="NodePort", clusterIP="None"))
    )
    assert none_nodeport == (
        'Service "e" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to '
        "'None' for NodePort services"
    )


async def test_updates_allocate_and_release_with_the_type(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client, "svc-")
    svc = await client.services.create(service("web", ns))
    ip = svc.spec.cluster_ip
    # Resubmitted without the allocated IP (as a kubectl apply of the original YAML): kept.
    resubmitted = service("web", ns)
    resubmitted.metadata.resource_version = svc.metadata.resource_version
    svc = await client.services.update(resubmitted)
    assert svc.spec.cluster_ip == ip
    # ClusterIP -> NodePort: a node port is allocated.
    svc.spec.type = "NodePort"
    svc = await client.services.update(svc)
    node_port = svc.spec.ports[0].node_port
    assert node_port and f"port:{node_port}" in await claims(apiserver)
    # NodePort -> ClusterIP: released (the node port left as it was is cleared).
    svc.spec.type = "ClusterIP"
    svc = await client.services.update(svc)
    assert svc.spec.ports[0].node_port == 0
    assert f"port:{node_port}" not in await claims(apiserver)
    # The cluster IP may not change.
    changed = service_pb2.Service()
    changed.CopyFrom(svc)
    changed.spec.cluster_ip = "10.96.8.8"
    del changed.spec.cluster_ips[:]
    changed.spec.cluster_ips.append("10.96.8.8")
    message = await refused(client.services.update(changed))
    assert (
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.8.8"}: may not change once set'
        in message
    )
    # -> ExternalName: the IP is released, and the fields that went with it.
    svc.spec.type = "ExternalName"
    svc.spec.external_name = "db.example.com"
    svc = await client.services.update(svc)
    assert not svc.spec.cluster_ip and not svc.spec.cluster_ips and not svc.spec.ip_families
    assert ip not in await claims(apiserver)
    # ExternalName -> ClusterIP: a new IP.
    svc.spec.type = "ClusterIP"
    svc.spec.external_name = ""
    svc = await client.services.update(svc)
    assert svc.spec.cluster_ip and svc.spec.cluster_ip in await claims(apiserver)
    await client.services.delete("web", ns)
    assert svc.spec.cluster_ip not in await claims(apiserver)


async def test_load_balancer_gets_node_ports_and_a_health_check_port(client: Client) -> None:
    ns = await new_namespace(client, "svc-")
    svc = await client.services.create(
        service("lb", ns, type="LoadBalancer", externalTrafficPolicy="Local")
    )
    assert svc.spec.allocate_load_balancer_node_ports
    assert svc.spec.ports[0].node_port and svc.spec.health_check_node_port
    assert svc.spec.ports[0].node_port != svc.spec.health_check_node_port
    svc.status.load_balancer.ingress.add(ip="203.0.113.7")
    svc = await client.services.update_status(svc)
    assert svc.status.load_balancer.ingress[0].ip_mode == "VIP"
    plain = await client.services.create(service("plain", ns))
    plain.status.load_balancer.ingress.add(ip="203.0.113.8")
    assert "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is " in (
        await refused(client.services.update_status(plain))
    )


async def test_a_full_range_says_so_and_restarts_keep_every_claim() -> None:
    async with own_cluster(service_cluster_ip_range="10.200.0.0/28") as (etcd, server, client):
        ns = await new_namespace(client, "svc-")
        # 14 addresses; the first is the kubernetes Service's.
        created = await asyncio.gather(
            *(client.services.create(service(f"s{i}", ns)) for i in range(13))
        )
        assert len({s.spec.cluster_ip for s in created} | {"10.200.0.1"}) == 14
        full = await refused(
            client.services.create(service("one-more", ns)), grpc.StatusCode.INTERNAL
        )
        assert full == "Internal error occurred: failed to allocate a serviceIP: range is full"
        await client.services.delete("s0", ns)
        again = await client.services.create(service("again", ns))
        assert again.spec.cluster_ip == created[0].spec.cluster_ip
    etcd = EtcdProcess.start()
    try:
        async with running_apiserver(etcd, service_node_port_range="30000-30019") as server:
            address = f"127.0.0.1:{server.port}"
            client = Client(address, timeout=10)
            ns = await new_namespace(client, "svc-")
            first = await asyncio.gather(
                *(client.services.create(service(f"a{i}", ns, type="NodePort")) for i in range(10))
            )
        # Another apiserver, on the same etcd and address: it knows the claims from etcd alone.
        async with running_apiserver(etcd, address, service_node_port_range="30000-30019"):
            second = await asyncio.gather(
                *(client.services.create(service(f"b{i}", ns, type="NodePort")) for i in range(10))
            )
            ports = {s.spec.ports[0].node_port for s in [*first, *second]}
            assert ports == set(range(30000, 30020))
            full = await refused(
                client.services.create(service("c", ns, type="NodePort")), grpc.StatusCode.INTERNAL
            )
            assert full == "Internal error occurred: failed to allocate a nodePort: range is full"
        await client.close()
    finally:
        etcd.stop()


async def test_repair_mends_claims_edited_behind_the_apiserver(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client, "svc-")
    svc = await client.services.create(service("web", ns, type="NodePort"))
    key = IP_PREFIX + svc.spec.cluster_ip.encode()
    orphan = IP_PREFIX + b"10.96.250.250"
    await apiserver.etcd.delete(key)
    await apiserver.etcd.put(orphan, b'{"namespace": "gone", "name": "gone", "uid": "x"}')
    report = await repair(apiserver.etcd, apiserver.service_allocator)
    assert key in report.claimed and orphan in report.released
    held = await claims(apiserver)
    assert svc.spec.cluster_ip in held and "10.96.250.250" not in held
    assert (await repair(apiserver.etcd, apiserver.service_allocator)).claimed == []


# ------------------------------------------------------------------ the kubernetes Service


async def test_the_kubernetes_service_names_the_apiserver(
    apiserver: APIServer, client: Client
) -> None:
    # Other modules' apiservers on the session's etcd wrote their own REST port here, and this
    # one puts its own back every 10 s: its reconcile, run now, is what the test looks at.
    assert apiserver.kubernetes_service is not None
    await apiserver.kubernetes_service.reconcile()
    svc = await client.services.get("kubernetes", "default")
    assert svc.spec.cluster_ip == "10.96.0.1" and svc.spec.type == "ClusterIP"
    port = svc.spec.ports[0]
    assert (port.name, port.port, port.protocol) == ("https", 443, "TCP")
    assert port.target_port == str(apiserver.rest_port)
    assert dict(svc.metadata.labels) == {"component": "apiserver", "provider": "kubernetes"}

    async def this_apiserver_published() -> service_pb2.EndpointSubset | None:
        # Other modules' apiservers on the session's etcd come and go, and the endpoints follow
        # their leases: this one's port shows once its own lease has been reconciled.
        endpoints = await client.endpoints.get("kubernetes", "default")
        ports = [[p.port for p in s.ports] for s in endpoints.subsets]
        return endpoints.subsets[0] if ports == [[apiserver.rest_port]] else None

    subset = await eventually(this_apiserver_published, timeout=30, what="this apiserver's port")
    assert subset.addresses[0].ip
    eps = await client.endpointslices.get("kubernetes", "default")
    assert eps.metadata.labels["kubernetes.io/service-name"] == "kubernetes"
    assert list(eps.endpoints[0].addresses) == [subset.addresses[0].ip]
    assert eps.endpoints[0].conditions.ready
    # Deleted, it comes back.
    await client.services.delete("kubernetes", "default")
    await apiserver.kubernetes_service.reconcile()
    again = await eventually(lambda: client.services.get("kubernetes", "default"), timeout=5)
    assert again.spec.cluster_ip == "10.96.0.1"
