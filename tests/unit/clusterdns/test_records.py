"""What the cluster DNS answers, query by query on the wire (dnspython messages through the
handler), from a cache holding Services, EndpointSlices, namespaces and pods: the records of
Kubernetes' DNS specification as CoreDNS's kubernetes plugin gives them, NXDOMAIN for the
cluster's unknown names, and REFUSED or the upstream's answer for the rest."""

from __future__ import annotations

import asyncio
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from clusterdns.kubernetes.cache import ClusterCache
from clusterdns.kubernetes.records import ZoneConfig
from clusterdns.server.forward import Forwarder
from clusterdns.server.handler import DNSHandler
from clusterdns.server.transport import DNSServer
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2


def service(name: str, namespace: str = "shop", ip: str = "10.96.0.50", **spec: Any) -> Any:
    ports = spec.pop("ports", [("http", 80, "TCP")])
    return service_pb2.Service(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
        spec=service_pb2.ServiceSpec(
            cluster_ip=ip,
            cluster_ips=[ip] if ip else [],
            ports=[service_pb2.ServicePort(name=n, port=p, protocol=pr) for n, p, pr in ports],
            **spec,
        ),
    )


def endpoint_slice(
    service_name: str,
    endpoints: list[tuple[str, bool, str]],
    namespace: str = "shop",
    ports: tuple[tuple[str, int, str], ...] = (("http", 8080, "TCP"),),
) -> discovery_pb2.EndpointSlice:
    return discovery_pb2.EndpointSlice(
        metadata=meta_pb2.ObjectMeta(
            name=f"{service_name}-abcde",
            namespace=namespace,
            labels={"kubernetes.io/service-name": service_name},
        ),
        address_type="IPv4",
        endpoints=[
            discovery_pb2.Endpoint(
                addresses=[ip],
                conditions=discovery_pb2.EndpointConditions(ready=ready),
                hostname=hostname,
            )
            for ip, ready, hostname in endpoints
        ],
        ports=[discovery_pb2.EndpointPort(name=n, port=p, protocol=pr) for n, p, pr in ports],
    )


def namespace(name: str) -> core_pb2.Namespace:
    return core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name))


def running_pod(name: str, ip: str, ns: str = "shop") -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=ns),
        status=core_pb2.PodStatus(pod_ip=ip),
    )


@pytest.fixture
def cache() -> ClusterCache:
    c = ClusterCache()
    for ns in ("default", "shop", "kube-system"):
        c.put_namespace(namespace(ns))
    c.put_service(service("kube-dns", "kube-system", "10.96.0.10", ports=[("dns", 53, "UDP")]))
    c.put_service(
        service("web", ports=[("http", 80, "TCP"), ("metrics", 9090, "TCP"), ("", 81, "TCP")])
    )
    c.put_service(service("db", ip="None", ports=[("pg", 5432, "TCP")]))
    c.put_slice(
        endpoint_slice(
            "db",
            [
                ("10.244.1.5", True, "db-0"),
                ("10.244.2.6", True, ""),
                ("10.244.3.7", True, ""),
                ("10.244.3.8", False, ""),
            ],
            ports=(("pg", 5432, "TCP"),),
        )
    )
    c.put_service(service("empty", ip="None"))
    c.put_slice(endpoint_slice("empty", [("10.244.1.9", False, "")]))
    c.put_service(service("ext", ip="", type="ExternalName", external_name="db.example.com"))
    c.put_pod(running_pod("web-1", "10.244.1.20"))
    return c


def ask(
    handler: DNSHandler, name: str, rdtype: str = "A", proto: str = "udp"
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    wire = asyncio.run(handler.handle(query.to_wire(), proto))
    assert wire is not None
    return dns.message.from_wire(wire)


def texts(response: dns.message.Message, section: str = "answer") -> list[str]:
    """Each record as `name TYPE data`, sorted."""
    out = []
    for rrset in getattr(response, section):
        for rdata in rrset:
            out.append(f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rdata}")
    return sorted(out)


def rcode(response: dns.message.Message) -> str:
    return dns.rcode.to_text(response.rcode())


PG = "_pg._tcp.db.shop.svc.cluster.local."


@pytest.fixture
def handler(cache: ClusterCache) -> DNSHandler:
    return DNSHandler(cache, ZoneConfig())


@pytest.mark.parametrize(
    ("name", "rdtype", "expected_rcode", "answers"),
    [
        # A ClusterIP Service: its cluster IP.
        (
            "web.shop.svc.cluster.local.",
            "A",
            "NOERROR",
            ["web.shop.svc.cluster.local. A 10.96.0.50"],
        ),
        # Names match case-insensitively; the answer keeps the case asked.
        (
            "WEB.Shop.svc.cluster.local.",
            "A",
            "NOERROR",
            ["WEB.Shop.svc.cluster.local. A 10.96.0.50"],
        ),
        # A headless Service: each ready endpoint's address (the not-ready one left out).
        (
            "db.shop.svc.cluster.local.",
            "A",
            "NOERROR",
            [
                "db.shop.svc.cluster.local. A 10.244.1.5",
                "db.shop.svc.cluster.local. A 10.244.2.6",
                "db.shop.svc.cluster.local. A 10.244.3.7",
            ],
        ),
        # One endpoint of a headless Service by its hostname, or by its dashed address.
        (
            "db-0.db.shop.svc.cluster.local.",
            "A",
            "NOERROR",
            ["db-0.db.shop.svc.cluster.local. A 10.244.1.5"],
        ),
        (
            "10-244-2-6.db.shop.svc.cluster.local.",
            "A",
            "NOERROR",
            ["10-244-2-6.db.shop.svc.cluster.local. A 10.244.2.6"],
        ),
        # SRV for a named port: priority 0, weight, port, the Service's name.
        (
            "_http._tcp.web.shop.svc.cluster.local.",
            "SRV",
            "NOERROR",
            ["_http._tcp.web.shop.svc.cluster.local. SRV 0 100 80 web.shop.svc.cluster.local."],
        ),
        # A headless Service's SRV: one per endpoint, its target the endpoint's name.
        (
            "_pg._tcp.db.shop.svc.cluster.local.",
            "SRV",
            "NOERROR",
            [
                f"{PG} SRV 0 33 5432 10-244-2-6.db.shop.svc.cluster.local.",
                f"{PG} SRV 0 33 5432 10-244-3-7.db.shop.svc.cluster.local.",
                f"{PG} SRV 0 33 5432 db-0.db.shop.svc.cluster.local.",
            ],
        ),
        # A pod by its dashed IP, in the namespace that has a pod with that IP.
        (
            "10-244-1-20.shop.pod.cluster.local.",
            "A",
            "NOERROR",
            ["10-244-1-20.shop.pod.cluster.local. A 10.244.1.20"],
        ),
        # ExternalName: a CNAME to the external name (not followed: no upstream here).
        (
            "ext.shop.svc.cluster.local.",
            "CNAME",
            "NOERROR",
            ["ext.shop.svc.cluster.local. CNAME db.example.com."],
        ),
        # The specification's version record.
        (
            "dns-version.cluster.local.",
            "TXT",
            "NOERROR",
            ['dns-version.cluster.local. TXT "1.1.0"'],
        ),
        # The zone's nameserver is the kube-dns Service.
        ("ns.dns.cluster.local.", "A", "NOERROR", ["ns.dns.cluster.local. A 10.96.0.10"]),
        # PTR of a cluster IP and of a headless endpoint.
        (
            "50.0.96.10.in-addr.arpa.",
            "PTR",
            "NOERROR",
            ["50.0.96.10.in-addr.arpa. PTR web.shop.svc.cluster.local."],
        ),
        (
            "5.1.244.10.in-addr.arpa.",
            "PTR",
            "NOERROR",
            ["5.1.244.10.in-addr.arpa. PTR db-0.db.shop.svc.cluster.local."],
        ),
        # Names that exist without records of the type asked: NODATA.
        ("web.shop.svc.cluster.local.", "AAAA", "NOERROR", []),
        ("web.shop.svc.cluster.local.", "TXT", "NOERROR", []),
        ("shop.svc.cluster.local.", "A", "NOERROR", []),
        ("svc.cluster.local.", "A", "NOERROR", []),
        # Unknown names in the cluster domain: NXDOMAIN.
        ("nope.shop.svc.cluster.local.", "A", "NXDOMAIN", []),
        ("web.nope.svc.cluster.local.", "A", "NXDOMAIN", []),
        ("web.shop.cluster.local.", "A", "NXDOMAIN", []),
        ("a.b.c.d.e.svc.cluster.local.", "A", "NXDOMAIN", []),
        ("_nope._tcp.web.shop.svc.cluster.local.", "SRV", "NXDOMAIN", []),
        ("_http._udp.web.shop.svc.cluster.local.", "SRV", "NXDOMAIN", []),
        ("db-9.db.shop.svc.cluster.local.", "A", "NXDOMAIN", []),
        # A headless Service with no ready endpoint (as CoreDNS).
        ("empty.shop.svc.cluster.local.", "A", "NXDOMAIN", []),
        # A pod IP no pod of the namespace holds (verified pods), and a label that is no IP.
        ("10-244-1-99.shop.pod.cluster.local.", "A", "NXDOMAIN", []),
        ("10-244-1-20.default.pod.cluster.local.", "A", "NXDOMAIN", []),
        ("web.shop.pod.cluster.local.", "A", "NXDOMAIN", []),
    ],
)
def test_cluster_records(
    handler: DNSHandler, name: str, rdtype: str, expected_rcode: str, answers: list[str]
) -> None:
    response = ask(handler, name, rdtype)
    assert rcode(response) == expected_rcode
    assert texts(response) == answers
    assert response.flags & dns.flags.AA  # the cluster's names are answered with authority


def test_negative_answers_carry_the_zone_soa_with_the_negative_ttl(handler: DNSHandler) -> None:
    for name in ("nope.shop.svc.cluster.local.", "shop.svc.cluster.local."):
        response = ask(handler, name)
        (soa,) = response.authority
        assert soa.rdtype == dns.rdatatype.SOA and soa.ttl == 5
        assert str(soa.name) == "cluster.local."


def test_positive_answers_have_the_ttl(handler: DNSHandler) -> None:
    assert ask(handler, "web.shop.svc.cluster.local.").answer[0].ttl == 30


def test_srv_answer_carries_target_addresses(handler: DNSHandler) -> None:
    response = ask(handler, "_pg._tcp.db.shop.svc.cluster.local.", "SRV")
    assert "db-0.db.shop.svc.cluster.local. A 10.244.1.5" in texts(response, "additional")


def test_changes_are_answered_at_once(cache: ClusterCache, handler: DNSHandler) -> None:
    cache.put_service(service("new", ip="10.96.0.77"))
    assert texts(ask(handler, "new.shop.svc.cluster.local.")) == [
        "new.shop.svc.cluster.local. A 10.96.0.77"
    ]
    cache.remove_service(("shop", "new"))
    assert rcode(ask(handler, "new.shop.svc.cluster.local.")) == "NXDOMAIN"
    # An endpoint turning not ready leaves the headless answer.
    cache.put_slice(endpoint_slice("db", [("10.244.1.5", True, "db-0"), ("10.244.2.6", False, "")]))
    assert texts(ask(handler, "db.shop.svc.cluster.local.")) == [
        "db.shop.svc.cluster.local. A 10.244.1.5"
    ]


def test_before_the_caches_sync_cluster_names_are_servfail_not_nxdomain(
    cache: ClusterCache,
) -> None:
    handler = DNSHandler(cache, ZoneConfig(), synced=lambda: False)
    assert rcode(ask(handler, "web.shop.svc.cluster.local.")) == "SERVFAIL"


@pytest.mark.parametrize("pods", ["disabled", "insecure", "verified"])
def test_pod_record_modes(cache: ClusterCache, pods: str) -> None:
    handler = DNSHandler(cache, ZoneConfig(pods=pods))
    known = rcode(ask(handler, "10-244-1-20.shop.pod.cluster.local."))
    unknown = rcode(ask(handler, "10-244-1-99.shop.pod.cluster.local."))
    assert (known, unknown) == {
        "disabled": ("NXDOMAIN", "NXDOMAIN"),
        "insecure": ("NOERROR", "NOERROR"),
        "verified": ("NOERROR", "NXDOMAIN"),
    }[pods]


def test_other_names_are_refused_without_an_upstream(handler: DNSHandler) -> None:
    response = ask(handler, "example.com.")
    assert rcode(response) == "REFUSED" and not response.flags & dns.flags.AA
    # A reverse name of an address the cluster does not hold is not the cluster's either.
    assert rcode(ask(handler, "1.0.0.127.in-addr.arpa.", "PTR")) == "REFUSED"


def test_non_queries_and_garbage() -> None:
    handler = DNSHandler(ClusterCache(), ZoneConfig())
    assert asyncio.run(handler.handle(b"\x00", "udp")) is None
    # A readable header with a broken question: FORMERR with the query's id.
    wire = asyncio.run(
        handler.handle(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03", "udp")
    )
    assert wire is not None and wire[:2] == b"\x12\x34" and wire[3] & 0xF == dns.rcode.FORMERR


def test_large_udp_answers_are_truncated_and_whole_over_tcp(cache: ClusterCache) -> None:
    many = [(f"10.244.{i // 250}.{i % 250 + 1}", True, "") for i in range(100)]
    cache.put_service(service("big", ip="None"))
    cache.put_slice(endpoint_slice("big", many))
    handler = DNSHandler(cache, ZoneConfig())
    udp = ask(handler, "big.shop.svc.cluster.local.")
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = ask(handler, "big.shop.svc.cluster.local.", proto="tcp")
    assert len(texts(tcp)) == 100


class _Upstream:
    """A DNS server on loopback that answers every A query with 192.0.2.1."""

    async def handle(self, wire: bytes, proto: str, family: str = "1") -> bytes | None:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.answer.append(
            dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "192.0.2.1")
        )
        return response.to_wire()


def test_other_names_and_external_names_go_upstream(cache: ClusterCache) -> None:
    async def run() -> tuple[dns.message.Message, dns.message.Message, dns.message.Message]:
        upstream = DNSServer(_Upstream(), "127.0.0.1", 0)
        await upstream.start()
        try:
            forwarder = Forwarder(["127.0.0.1"], timeout=2.0, port=upstream.port)
            handler = DNSHandler(cache, ZoneConfig(), forwarder=forwarder)
            results = []
            for name in ("example.com.", "ext.shop.svc.cluster.local."):
                wire = await handler.handle(dns.message.make_query(name, "A").to_wire(), "udp")
                assert wire is not None
                results.append(dns.message.from_wire(wire))
            # An upstream that does not answer: SERVFAIL soon, not a hang.
            silent = Forwarder(["127.0.0.1"], timeout=0.3, port=9)  # nothing answers there
            dead = DNSHandler(cache, ZoneConfig(), forwarder=silent)
            wire = await dead.handle(dns.message.make_query("example.org.", "A").to_wire(), "udp")
            assert wire is not None
            results.append(dns.message.from_wire(wire))
            return results[0], results[1], results[2]
        finally:
            await upstream.stop()

    forwarded, external, failed = asyncio.run(run())
    assert texts(forwarded) == ["example.com. A 192.0.2.1"]
    assert not forwarded.flags & dns.flags.AA
    assert texts(external) == [
        "db.example.com. A 192.0.2.1",
        "ext.shop.svc.cluster.local. CNAME db.example.com.",
    ]
    assert rcode(failed) == "SERVFAIL"
