"""The host-gw routes (podplane/podroutes.py): one route per other node with a pod CIDR and an
InternalIP, through that address; changed when a node moves, removed when it goes."""

from __future__ import annotations

from pathlib import Path

import pytest

import podplane.podroutes as podroutes
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client
from podplane.podroutes import PodRoutes, node_route


def node(name: str, cidr: str, address: str) -> core_pb2.Node:
    n = core_pb2.Node(metadata=meta_pb2.ObjectMeta(name=name, resource_version="1"))
    n.spec.pod_cidr = cidr
    if address:
        n.status.addresses.add(type="InternalIP", address=address)
    n.status.addresses.add(type="Hostname", address=name)
    return n


def test_a_route_per_other_node_with_a_cidr_and_an_address() -> None:
    nodes = [
        node("cp-1", "10.244.201.0/24", "10.250.0.11"),
        node("worker-1", "10.244.1.0/24", "10.250.0.2"),
        node("no-cidr", "", "10.250.0.3"),
        node("no-address", "10.244.4.0/24", ""),
        node("v6", "fd00:10:244::/64", "10.250.0.5"),
    ]
    routes = {n.metadata.name: node_route(n, "cp-1") for n in nodes}
    assert {name: r for name, r in routes.items() if r} == {
        "worker-1": ("10.244.1.0/24", "10.250.0.2")
    }


def test_a_machine_that_is_no_node_routes_to_every_node() -> None:
    """The compose apiserver's route keeper (no --node): every node's pods, its own included."""
    calls: list[list[str]] = []
    routes = PodRoutes(Client("localhost:1"), "", route=calls.append)
    routes.nodes._store(node("node-1", "10.244.1.0/24", "172.18.0.4"))
    routes.nodes._store(node("node-2", "10.244.2.0/24", "172.18.0.5"))
    routes.sync()
    assert sorted(calls) == [
        ["replace", "10.244.1.0/24", "via", "172.18.0.4"],
        ["replace", "10.244.2.0/24", "via", "172.18.0.5"],
    ]


def test_routes_follow_the_nodes() -> None:
    calls: list[list[str]] = []
    routes = PodRoutes(Client("localhost:1"), "cp-1", route=calls.append)
    informer = routes.nodes  # the Node events, as the watch delivers them
    informer._store(node("worker-1", "10.244.1.0/24", "10.250.0.2"))
    informer._store(node("worker-2", "10.244.2.0/24", "10.250.0.3"))
    routes.sync()
    assert sorted(calls) == [
        ["replace", "10.244.1.0/24", "via", "10.250.0.2"],
        ["replace", "10.244.2.0/24", "via", "10.250.0.3"],
    ]
    calls.clear()
    routes.sync()
    assert calls == []  # nothing changed, nothing done
    informer._store(node("worker-1", "10.244.1.0/24", "10.250.0.9"))
    informer._remove("worker-2")
    routes.sync()
    assert sorted(calls) == [
        ["del", "10.244.2.0/24"],
        ["replace", "10.244.1.0/24", "via", "10.250.0.9"],
    ]


def test_a_node_event_works_out_that_nodes_route_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thousand nodes registered (a load test's hollow ones, no address: no route) cost one
    route each, not the whole list again at every event."""
    worked_out: list[str] = []
    real = podroutes.node_route

    def counting(n: core_pb2.Node, own: str) -> tuple[str, str] | None:
        worked_out.append(n.metadata.name)
        return real(n, own)

    monkeypatch.setattr(podroutes, "node_route", counting)
    calls: list[list[str]] = []
    routes = PodRoutes(Client("localhost:1"), "cp-1", route=calls.append)
    routes.nodes._store(node("worker-1", "10.244.1.0/24", "10.250.0.2"))
    for i in range(1000):
        routes.nodes._store(node(f"hollow-{i}", f"10.{100 + i // 256}.{i % 256}.0/24", ""))
        routes.sync()
    assert len(worked_out) == 1001
    assert calls == [["replace", "10.244.1.0/24", "via", "10.250.0.2"]]


ROUTE_TABLE = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010014AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t0001F40A\t090014AC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "eth0\t0002F40A\t0B0014AC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "eth0\t000014AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
)


def test_the_routes_through_a_gateway_as_the_kernel_lists_them(tmp_path: Path) -> None:
    """/proc/net/route of the compose apiserver's container (its `ip route`: default via
    172.20.0.1, 10.244.1.0/24 via 172.20.0.9, 10.244.2.0/24 via 172.20.0.11, 172.20.0.0/16 on
    the link)."""
    table = tmp_path / "route"
    table.write_text(ROUTE_TABLE)
    assert podroutes.routes_via(table) == {
        "0.0.0.0/0": "172.20.0.1",
        "10.244.1.0/24": "172.20.0.9",
        "10.244.2.0/24": "172.20.0.11",
    }
    assert podroutes.routes_via(tmp_path / "absent") == {}


def test_a_route_removed_from_the_machine_is_made_again_and_only_it() -> None:
    calls: list[list[str]] = []
    present: dict[str, str] = {}
    routes = PodRoutes(Client("localhost:1"), "", route=calls.append, present=lambda: present)
    routes.nodes._store(node("node-1", "10.244.1.0/24", "172.20.0.9"))
    routes.nodes._store(node("node-2", "10.244.2.0/24", "172.20.0.11"))
    routes.sync()
    present.update({"10.244.1.0/24": "172.20.0.9", "10.244.2.0/24": "172.20.0.11"})
    calls.clear()
    routes.forget_missing()
    routes.sync()
    assert calls == []  # the machine has them: nothing run
    present["10.244.2.0/24"] = "172.20.0.99"  # changed by hand
    del present["10.244.1.0/24"]  # removed by hand
    routes.forget_missing()
    routes.sync()
    assert sorted(calls) == [
        ["replace", "10.244.1.0/24", "via", "172.20.0.9"],
        ["replace", "10.244.2.0/24", "via", "172.20.0.11"],
    ]
