"""Cluster IPs and node ports, allocated with the Service in one transaction (the services store
over an in-memory etcd): the ranges and the bands of KEP-3070/3668, what each type takes, no value
given twice under concurrent creates even when every writer picks the same value first, nothing
claimed by a create that fails, released by a delete or a change of type, and the repair of
claims edited behind the apiserver's back. Tables of cases."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import grpc
import pytest

from apiserver import errors
from apiserver.registry.generic.store import Store
from apiserver.registry.service.allocator import (
    IP_PREFIX,
    NODE_PORT_PREFIX,
    ServiceAllocator,
)
from apiserver.registry.service.ipallocator import IPRange, RangeFull, pick_free
from apiserver.registry.service.portallocator import PortRange
from apiserver.registry.service.repair import repair
from apiserver.registry.strategy import STRATEGIES
from apiserver.storage.etcd import KeyValue
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.fake_etcd import FakeEtcd


class Lowest(random.Random):
    """A degenerate random source: always the lowest candidate, so every concurrent writer
    picks the same value first."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        return start


def services_store(
    etcd: FakeEtcd,
    ip_range: str = "10.96.0.0/12",
    ports: str = "30000-32767",
    rng: random.Random | None = None,
) -> Store[service_pb2.Service]:
    fake: Any = etcd
    store: Store[service_pb2.Service] = Store(fake, STRATEGIES["services"])
    store.allocator = ServiceAllocator(fake, ip_range, ports, rng or random.Random(1))
    return store


def service(name: str = "web", **spec: Any) -> service_pb2.Service:
    spec.setdefault("ports", [{"port": 80}])
    obj: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    )
    return obj  # type: ignore[no-any-return]


def claimed(etcd: FakeEtcd) -> set[str]:
    return {k[len(IP_PREFIX) :].decode() for k in etcd.under(IP_PREFIX)} | {
        f"port:{k[len(NODE_PORT_PREFIX) :].decode()}" for k in etcd.under(NODE_PORT_PREFIX)
    }


# ------------------------------------------------------------------ ranges


@pytest.mark.parametrize(
    ("cidr", "size", "offset", "first", "last"),
    [
        ("10.96.0.0/12", 2**20 - 2, 256, "10.96.0.1", "10.111.255.254"),
        ("10.96.0.5/24", 254, 16, "10.96.0.1", "10.96.0.254"),
        ("10.0.0.0/28", 14, 0, "10.0.0.1", "10.0.0.14"),
        ("fd00::/108", 2**16 - 1, 256, "fd00::1", "fd00::ffff"),
    ],
)
def test_ip_ranges(cidr: str, size: int, offset: int, first: str, last: str) -> None:
    r = IPRange.parse(cidr)
    assert (r.size, r.offset, r.first(), r.address(r.size - 1)) == (size, offset, first, last)
    assert r.index(first) == 0 and r.index(last) == size - 1
    network = str(r.network.network_address)
    assert r.index(network) is None  # never the network address...
    assert r.index(str(r.network.broadcast_address)) is None or r.network.version == 6
    assert r.index("192.0.2.1" if r.network.version == 6 else "fd00::1") is None


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.0.0.0/8", "is too large; for 32-bit addresses, the mask must be >= 12"),
        ("fd00::/64", "is too large; for 128-bit addresses, the mask must be >= 108"),
        ("10.0.0.0/31", "is too small"),
    ],
)
def test_bad_ip_ranges(cidr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        IPRange.parse(cidr)


@pytest.mark.parametrize(
    ("text", "size", "offset", "shown"),
    [
        ("30000-32767", 2768, 86, "30000-32767"),
        ("30000-30009", 10, 0, "30000-30009"),
        ("31000", 1, 0, "31000-31000"),
    ],
)
def test_port_ranges(text: str, size: int, offset: int, shown: str) -> None:
    r = PortRange.parse(text)
    assert (r.size, r.offset, str(r)) == (size, offset, shown)


@pytest.mark.parametrize("text", ["a-b", "32767-30000", "30000-70000"])
def test_bad_port_ranges(text: str) -> None:
    with pytest.raises(ValueError):
        PortRange.parse(text)


@pytest.mark.parametrize(
    ("size", "offset", "taken", "allowed"),
    [
        (10, 4, set(), set(range(4, 10))),  # the upper band first
        (10, 4, set(range(4, 10)), set(range(4))),  # then the lower
        (10, 4, set(range(10)) - {2}, {2}),
        (10, 0, set(range(9)), {9}),
    ],
)
def test_pick_free(size: int, offset: int, taken: set[int], allowed: set[int]) -> None:
    for seed in range(20):
        assert pick_free(size, offset, taken, random.Random(seed)) in allowed


def test_pick_free_in_a_full_range() -> None:
    with pytest.raises(RangeFull, match="range is full"):
        pick_free(5, 0, set(range(5)), random.Random(0))


# ------------------------------------------------------------------ what each Service takes


@pytest.mark.parametrize(
    ("spec", "ips", "node_ports", "health_check"),
    [
        ({}, 1, 0, False),
        ({"clusterIP": "10.96.0.10"}, 1, 0, False),
        ({"clusterIP": "None"}, 0, 0, False),
        ({"type": "ExternalName", "externalName": "db.example.com", "ports": []}, 0, 0, False),
        ({"type": "NodePort"}, 1, 1, False),
        (
            {
                "type": "NodePort",
                "ports": [{"name": "a", "port": 53}, {"name": "b", "port": 53, "protocol": "UDP"}],
            },
            1,
            1,
            False,
        ),
        (
            {"type": "NodePort", "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]},
            1,
            2,
            False,
        ),
        ({"type": "LoadBalancer"}, 1, 1, False),
        ({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False}, 1, 0, False),
        ({"type": "LoadBalancer", "externalTrafficPolicy": "Local"}, 1, 1, True),
    ],
)
async def test_what_a_service_takes(
    spec: dict[str, Any], ips: int, node_ports: int, health_check: bool
) -> None:
    etcd = FakeEtcd()
    svc = await services_store(etcd).create(service(**spec))
    held = claimed(etcd)
    assert len([c for c in held if not c.startswith("port:")]) == ips
    assert len(held) == ips + node_ports + (1 if health_check else 0)
    if ips:
        assert svc.spec.cluster_ip in held and list(svc.spec.cluster_ips) == [svc.spec.cluster_ip]
        if "clusterIP" not in spec:  # chosen above the band kept for requests
            assert (IPRange.parse("10.96.0.0/12").index(svc.spec.cluster_ip) or 0) >= 256
    for port in svc.spec.ports:
        assert (f"port:{port.node_port}" in held) == bool(node_ports)
        if port.node_port and len(svc.spec.ports) == 1:
            assert port.node_port >= 30000 + 86
    if len(svc.spec.ports) == 2 and svc.spec.ports[0].port == svc.spec.ports[1].port:
        assert svc.spec.ports[0].node_port == svc.spec.ports[1].node_port
    assert bool(svc.spec.health_check_node_port) == health_check
    for key in etcd.under(IP_PREFIX) + etcd.under(NODE_PORT_PREFIX):
        owner = json.loads(etcd.data[key].value)
        assert owner == {"namespace": "default", "name": "web", "uid": svc.metadata.uid}


# ------------------------------------------------------------------ concurrency


@pytest.mark.parametrize(
    ("rng", "count", "spec"),
    [
        (random.Random(3), 50, {"type": "NodePort"}),
        (Lowest(), 20, {"type": "NodePort"}),  # everyone picks the same value first
        (Lowest(), 14, {}),  # ... in a /28: the whole range
    ],
    ids=["random", "same-pick", "same-pick-whole-range"],
)
async def test_no_value_given_twice_under_concurrent_creates(
    rng: random.Random, count: int, spec: dict[str, Any]
) -> None:
    etcd = FakeEtcd()
    ip_range = "10.0.0.0/28" if count == 14 else "10.96.0.0/12"
    store = services_store(etcd, ip_range=ip_range, rng=rng)
    created = await asyncio.gather(*(store.create(service(f"s{i}", **spec)) for i in range(count)))
    ips = [s.spec.cluster_ip for s in created]
    ports = [p.node_port for s in created for p in s.spec.ports if p.node_port]
    assert len(set(ips)) == count and len(set(ports)) == len(ports)
    assert claimed(etcd) == set(ips) | {f"port:{p}" for p in ports}
    if count == 14:
        with pytest.raises(errors.APIError) as full:
            await store.create(service("one-more"))
        assert full.value.code == grpc.StatusCode.INTERNAL
        assert full.value.message == (
            "Internal error occurred: failed to allocate a serviceIP: range is full"
        )


async def test_concurrent_requests_for_one_ip_get_it_once() -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    results = await asyncio.gather(
        *(store.create(service(f"s{i}", clusterIP="10.96.5.5")) for i in range(10)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, service_pb2.Service) for r in results) == 1
    refusals = [r for r in results if isinstance(r, errors.APIError)]
    assert len(refusals) == 9
    assert {r.message.split(" is invalid: ")[1] for r in refusals} == {
        'spec.clusterIPs: Invalid value: []string{"10.96.5.5"}: failed to allocate IP '
        "10.96.5.5: provided IP is already allocated"
    }
    assert claimed(etcd) == {"10.96.5.5"}


# ------------------------------------------------------------------ failures leak nothing


@pytest.mark.parametrize(
    ("second", "reason", "message"),
    [
        (service("web", type="NodePort"), "AlreadyExists", 'services "web" already exists'),
        (
            service(
                "bad",
                type="NodePort",
                clusterIP="10.96.1.1",
                ports=[{"port": 0, "nodePort": 30500}],
            ),
            "Invalid",
            "spec.ports[0].port: Invalid value: 0",
        ),
        (
            service("far", clusterIP="10.200.0.1"),
            "Invalid",
            "failed to allocate IP 10.200.0.1: the provided IP (10.200.0.1) is not in the valid "
            "range. The range of valid IPs is 10.96.0.0/12",
        ),
        (
            service(
                "twice",
                type="NodePort",
                clusterIP="10.96.1.2",
                ports=[{"port": 80, "nodePort": 30400}],
            ),
            "Invalid",
            "spec.ports[0].nodePort: Invalid value: 30400: provided port is already allocated",
        ),
        (
            service("dual", ipFamilyPolicy="RequireDualStack"),
            "Invalid",
            'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not '
            "configured for dual-stack services",
        ),
    ],
)
async def test_a_failed_create_claims_nothing(
    second: service_pb2.Service, reason: str, message: str
) -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    await store.create(service("web", type="NodePort", ports=[{"port": 80, "nodePort": 30400}]))
    before = claimed(etcd)
    with pytest.raises(errors.APIError) as refused:
        await store.create(second)
    assert refused.value.reason == reason
    assert message in refused.value.message
    assert claimed(etcd) == before


async def test_a_dry_run_claims_nothing() -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    svc = await store.create(service(type="NodePort"), dry_run=True)
    assert svc.spec.cluster_ip and svc.spec.ports[0].node_port
    assert claimed(etcd) == set()


# ------------------------------------------------------------------ updates and deletes


async def test_changes_of_type_claim_and_release() -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    svc = await store.create(service())
    ip = svc.spec.cluster_ip
    steps: list[tuple[dict[str, Any], set[str]]] = [
        ({"type": "NodePort"}, {ip, "port:*"}),
        ({"type": "ClusterIP"}, {ip}),
        ({"type": "ExternalName", "externalName": "db.example.com"}, set()),
        ({"type": "ClusterIP", "externalName": ""}, {"ip:*"}),
    ]
    for change, expected in steps:
        request = service_pb2.Service()
        request.CopyFrom(svc)
        for field, value in change.items():
            setattr(request.spec, {"externalName": "external_name"}.get(field, field), value)
        svc = await store.update(request)
        held = claimed(etcd)
        ports = {c for c in held if c.startswith("port:")}
        ips = held - ports
        assert len(ports) == sum(1 for e in expected if e.startswith("port:"))
        assert len(ips) == len(expected) - len(ports)
        assert {e for e in expected if not e.endswith("*")} <= held
    await store.delete("default", "web")
    assert claimed(etcd) == set()


async def test_a_finalizer_holds_the_values_until_removal() -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    held = service(type="NodePort")
    held.metadata.finalizers.append("example.com/hold")
    svc = await store.create(held)
    await store.delete("default", "web")
    assert len(claimed(etcd)) == 2  # marked for deletion, still holding
    svc = await store.get("default", "web")
    del svc.metadata.finalizers[:]
    await store.update(svc)
    assert claimed(etcd) == set()


# ------------------------------------------------------------------ repair


async def test_repair_mends_what_was_edited_behind_the_apiserver() -> None:
    etcd = FakeEtcd()
    store = services_store(etcd)
    a = await store.create(service("a", type="NodePort"))
    b = await store.create(service("b"))
    fake: Any = etcd
    allocator = ServiceAllocator(fake)
    del etcd.data[IP_PREFIX + a.spec.cluster_ip.encode()]  # lost
    orphan = IP_PREFIX + b"10.96.200.1"  # a copy of b's claim, under another address
    copied = etcd.data[IP_PREFIX + b.spec.cluster_ip.encode()]
    etcd.data[orphan] = KeyValue(orphan, copied.value, copied.mod_revision, copied.create_revision)
    report = await repair(fake, allocator)
    assert report.claimed == [IP_PREFIX + a.spec.cluster_ip.encode()]
    assert report.released == [orphan]
    assert report.problems == []
    assert claimed(etcd) == {
        a.spec.cluster_ip,
        b.spec.cluster_ip,
        f"port:{a.spec.ports[0].node_port}",
    }
    # A smaller range after a restart: what Services hold outside it is reported, not claimed.
    del etcd.data[IP_PREFIX + b.spec.cluster_ip.encode()]
    report = await repair(fake, ServiceAllocator(fake, "10.250.0.0/16"))
    assert report.problems == [
        f"cluster IP {b.spec.cluster_ip} of service default/b is not in the configured range"
    ]
