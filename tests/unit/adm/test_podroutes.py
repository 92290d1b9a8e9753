"""The host-gw routes (adm/podroutes.py): one route per other node with a pod CIDR and an
InternalIP, through that address; changed when a node moves, removed when it goes."""

from __future__ import annotations

from adm.podroutes import PodRoutes, desired_routes
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client


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
    assert desired_routes(nodes, "cp-1") == {"10.244.1.0/24": "10.250.0.2"}


def test_routes_follow_the_nodes() -> None:
    calls: list[list[str]] = []
    routes = PodRoutes(Client("localhost:1"), "cp-1", route=calls.append)
    cache = routes.nodes._cache  # what the informer would hold
    cache["worker-1"] = node("worker-1", "10.244.1.0/24", "10.250.0.2")
    cache["worker-2"] = node("worker-2", "10.244.2.0/24", "10.250.0.3")
    routes.sync()
    assert sorted(calls) == [
        ["replace", "10.244.1.0/24", "via", "10.250.0.2"],
        ["replace", "10.244.2.0/24", "via", "10.250.0.3"],
    ]
    calls.clear()
    routes.sync()
    assert calls == []  # nothing changed, nothing done
    cache["worker-1"] = node("worker-1", "10.244.1.0/24", "10.250.0.9")
    del cache["worker-2"]
    routes.sync()
    assert sorted(calls) == [
        ["del", "10.244.2.0/24"],
        ["replace", "10.244.1.0/24", "via", "10.250.0.9"],
    ]
