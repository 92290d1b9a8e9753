"""kube-proxy's load balancer side: which node announces an address (Ready nodes, Local policy's
nodes with endpoints, the exclusion label, another class's Services), the health check node
port's answers byte for byte, the rtnetlink messages, and the agent adding and deleting
addresses through a fake rtnetlink."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from proxy.loadbalancer import election
from proxy.loadbalancer.agent import LoadBalancerAgent, LoadBalancerOptions
from proxy.loadbalancer.netlink import (
    RTM_NEWADDR,
    Address,
    address_message,
    label_for,
    messages,
    parse_address,
)
from proxy.loadbalancer.service_health import ServiceHealthServer, health_body
from proxy.state.service_port import ServiceName
from tests.unit.proxy.objects import endpoint_slice, service

NODES = ("node-1", "node-2", "node-3")


def node(name: str, ready: bool = True, labels: dict[str, str] | None = None) -> core_pb2.Node:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels or {}},
            "status": {"conditions": [{"type": "Ready", "status": str(ready)}]},
        },
        core_pb2.Node,
    )


def load_balancer(ip: str = "172.18.255.200", **spec: Any) -> Any:
    return service(
        {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", **spec},
        {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}},
    )


def announcers(svc: Any, nodes: list[core_pb2.Node], slices: list[Any] | None = None) -> list[str]:
    return [
        n.metadata.name
        for n in nodes
        if election.announced_by(n.metadata.name, [svc], lambda _: slices or [], nodes)
    ]


def test_one_ready_node_announces_each_address_and_addresses_spread() -> None:
    nodes = [node(n) for n in NODES]
    chosen = {ip: announcers(load_balancer(ip), nodes) for ip in (f"10.0.0.{i}" for i in range(9))}
    assert all(len(v) == 1 for v in chosen.values())
    assert len({v[0] for v in chosen.values()}) > 1  # not all on one node
    # The same answer whatever the order the nodes are listed in.
    assert announcers(load_balancer("10.0.0.1"), nodes[::-1]) == chosen["10.0.0.1"]


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([node("node-1", ready=False), node("node-2", ready=False)], []),
        (
            [
                node("node-1", labels={election.EXCLUDE_LABEL: ""}),
                node("node-2", ready=False),
                node("node-3"),
            ],
            ["node-3"],
        ),
    ],
    ids=["no ready node", "excluded and not ready nodes left out"],
)
def test_nodes_that_may_announce(nodes: list[core_pb2.Node], expected: list[str]) -> None:
    assert announcers(load_balancer(), nodes) == expected


def test_local_policy_is_announced_by_a_node_with_a_ready_endpoint() -> None:
    nodes = [node(n) for n in NODES]
    slices = [
        endpoint_slice(
            endpoints=[
                {"addresses": ["10.244.2.5"], "nodeName": "node-2", "conditions": {"ready": True}},
                {"addresses": ["10.244.3.5"], "nodeName": "node-3", "conditions": {"ready": False}},
            ]
        )
    ]
    svc = load_balancer(externalTrafficPolicy="Local", healthCheckNodePort=32000)
    assert announcers(svc, nodes, slices) == ["node-2"]
    assert announcers(svc, nodes, []) == []


def test_other_classes_and_unassigned_services_are_not_announced() -> None:
    nodes = [node("node-1")]
    assert announcers(load_balancer(loadBalancerClass="example.com/lb"), nodes) == []
    pending = service({"type": "LoadBalancer", "externalTrafficPolicy": "Cluster"})
    assert announcers(pending, nodes) == []
    assert announcers(load_balancer("fd00::1"), nodes) == []  # IPv4 only


def test_the_health_check_body_is_kube_proxys() -> None:
    assert health_body(ServiceName("shop", "web"), 2, True) == (
        '{\n\t"service": {\n\t\t"namespace": "shop",\n\t\t"name": "web"\n\t},\n'
        '\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}'
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_health_check_node_port_answers_200_with_local_endpoints_else_503() -> None:
    counts = {ServiceName("ns", "web"): 1}
    server = ServiceHealthServer(lambda s: counts.get(s, 0), lambda: True, "127.0.0.1")
    port = free_port()
    await server.sync({ServiceName("ns", "web"): port})
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/anything") as r:
                assert r.status == 200
                assert r.headers["Content-Type"] == "application/json"
                assert r.headers["X-Load-Balancing-Endpoint-Weight"] == "1"
                assert '"localEndpoints": 1' in await r.text()
            counts.clear()
            async with http.get(f"http://127.0.0.1:{port}/") as r:
                assert r.status == 503
                assert '"localEndpoints": 0' in await r.text()
        await server.sync({})
        assert server.ports == {}
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as http:
                await http.get(f"http://127.0.0.1:{port}/")
    finally:
        await server.stop()


def test_address_messages_round_trip() -> None:
    request = address_message(RTM_NEWADDR, 0x605, 7, 3, "172.18.255.200", "eth0:lb")
    [(type_, seq, body)] = messages(request)
    assert (type_, seq) == (RTM_NEWADDR, 7)
    assert parse_address(body) == Address(3, "172.18.255.200", 32, "eth0:lb")
    assert label_for("eth0") == "eth0:lb"
    assert len(label_for("a-very-long-interface")) == 15


class FakeNetlink:
    def __init__(self, addresses: list[Address]) -> None:
        self.state = addresses
        self.closed = False

    def addresses(self) -> list[Address]:
        return list(self.state)

    def add(self, index: int, ip: str, label: str) -> None:
        self.state.append(Address(index, ip, 32, label))

    def delete(self, index: int, ip: str) -> None:
        self.state = [a for a in self.state if (a.index, a.ip) != (index, ip)]

    def close(self) -> None:
        self.closed = True


def test_the_agent_adds_what_it_announces_and_deletes_the_rest_of_its_own() -> None:
    lo = socket.if_nametoindex("lo")
    netlink = FakeNetlink(
        [
            Address(lo, "127.0.0.1", 8, "lo"),
            Address(lo, "10.0.0.9", 32, "lo:lb"),  # announced before, no longer
            Address(lo, "10.0.0.10", 32, "lo"),  # not kube-proxy's
        ]
    )
    arps: list[tuple[str, str]] = []
    agent = LoadBalancerAgent(
        "node-1",
        LoadBalancerOptions(announce=True, node_ip="127.0.0.1"),
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,
        None,  # type: ignore[arg-type]
        netlink=lambda: netlink,  # type: ignore[arg-type,return-value]
        arp=lambda interface, ip: arps.append((interface, ip)),
    )
    agent._apply({"10.0.0.200"})
    assert sorted(a.ip for a in netlink.state) == ["10.0.0.10", "10.0.0.200", "127.0.0.1"]
    assert arps == [("lo", "10.0.0.200")]
    assert netlink.closed
    agent.options = LoadBalancerOptions(announce=True, node_ip="192.0.2.99")
    with pytest.raises(OSError, match="no interface holds the node's address"):
        agent._apply(set())


def test_only_node_changes_that_matter_wake_the_agent() -> None:
    agent = LoadBalancerAgent(
        "node-1",
        LoadBalancerOptions(),
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,
        None,  # type: ignore[arg-type]
    )
    heartbeat = node("node-2")
    heartbeat.metadata.resource_version = "2"
    agent.node_updated(node("node-2"), heartbeat)
    assert not agent._changed.is_set()
    agent.node_updated(node("node-2"), node("node-2", ready=False))
    assert agent._changed.is_set()
