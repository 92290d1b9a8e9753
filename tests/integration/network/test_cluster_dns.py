"""The cluster DNS server against the real apiserver: its informers follow Services and
EndpointSlices as they are created, changed and deleted, and its UDP/TCP listeners and /ready
endpoint answer as a client sees them."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.message
import dns.rcode
import pytest_asyncio

from clusterdns.app import ClusterDNS
from clusterdns.options import Options
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually, new_namespace


@pytest_asyncio.fixture
async def server(client: Client) -> AsyncIterator[ClusterDNS]:
    options = Options(
        server="unused",
        bind_address="127.0.0.1",
        dns_port=0,
        health_address="127.0.0.1:0",
        ready_address="127.0.0.1:0",
        metrics_address="",
        lameduck=0,
    )
    dns_server = ClusterDNS(options, client)
    await dns_server.start()
    async with asyncio.timeout(30):
        await dns_server.wait_synced()
    yield dns_server
    await dns_server.stop()


def service(namespace: str, name: str, spec: dict[str, object]) -> service_pb2.Service:
    obj = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}}
        | {"spec": spec}
    )
    assert isinstance(obj, service_pb2.Service)
    return obj


async def answer(server: ClusterDNS, name: str, proto: str = "udp") -> tuple[str, set[str]]:
    query = dns.message.make_query(name, "A")
    if proto == "udp":
        response = await dns.asyncquery.udp(query, "127.0.0.1", port=server.dns.port, timeout=5)
    else:
        response = await dns.asyncquery.tcp(query, "127.0.0.1", port=server.dns.port, timeout=5)
    ips = {r.to_text() for rrset in response.answer for r in rrset}
    return dns.rcode.to_text(response.rcode()), ips


async def test_services_and_endpoints_are_answered_as_they_change(
    client: Client, server: ClusterDNS
) -> None:
    ns = await new_namespace(client, "dns-")
    web = await client.services.create(
        service(ns, "web", {"selector": {"app": "web"}, "ports": [{"port": 80}]})
    )
    name = f"web.{ns}.svc.cluster.local."

    async def cluster_ip_answered() -> bool:
        return await answer(server, name) == ("NOERROR", {web.spec.cluster_ip})

    await eventually(cluster_ip_answered, what="the new Service's cluster IP")
    assert await answer(server, name, "tcp") == ("NOERROR", {web.spec.cluster_ip})
    assert (await answer(server, f"nope.{ns}.svc.cluster.local."))[0] == "NXDOMAIN"

    await client.services.create(
        service(ns, "db", {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]})
    )
    endpoints = [("10.244.1.5", True), ("10.244.2.6", True), ("10.244.3.7", False)]
    slice_ = discovery_pb2.EndpointSlice(address_type="IPv4")
    slice_.metadata.name, slice_.metadata.namespace = "db-1", ns
    slice_.metadata.labels["kubernetes.io/service-name"] = "db"
    for ip, ready in endpoints:
        slice_.endpoints.add(addresses=[ip]).conditions.ready = ready
    slice_.ports.add(name="pg", port=5432, protocol="TCP")
    created = await client.endpointslices.create(slice_)
    headless = f"db.{ns}.svc.cluster.local."

    async def ready_endpoints(expected: set[str]) -> bool:
        return await answer(server, headless) == ("NOERROR", expected)

    await eventually(lambda: ready_endpoints({"10.244.1.5", "10.244.2.6"}), what="headless")
    created.endpoints[2].conditions.ready = True
    created.endpoints[0].conditions.ready = False
    await client.endpointslices.update(created)
    await eventually(lambda: ready_endpoints({"10.244.2.6", "10.244.3.7"}), what="readiness")

    await client.services.delete("web", ns)

    async def gone() -> bool:
        return (await answer(server, name))[0] == "NXDOMAIN"

    await eventually(gone, what="the deleted Service's NXDOMAIN")
    await client.namespaces.delete(ns)


async def test_ready_once_synced(server: ClusterDNS) -> None:
    ready = next(e for e in server.http if "/ready" in e.routes)

    def get() -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{ready.port}/ready", timeout=5) as r:
            return int(r.status)

    assert await asyncio.to_thread(get) == 200
