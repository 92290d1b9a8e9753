"""Node IPAM: nodes without a podCIDR get the next free /24 of 10.244.0.0/16; a subnet any node
holds (given here or brought by the node) is never handed out twice; a deleted node's subnet is
free again; a bad cluster CIDR or mask size is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest

from controller.__main__ import parse_args
from controller.nodeipam.cidrset import CidrAllocator, CidrsExhausted
from controller.nodeipam.controller import NodeIpamController
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.client.informer_factory import SharedInformerFactory


def test_subnets_are_handed_out_in_order_skipping_held_ones() -> None:
    cidrs = CidrAllocator("10.244.0.0/16", 24)
    assert cidrs.size == 256
    cidrs.hold("node-1", ["10.244.1.0/24"])
    cidrs.hold("node-3", ["10.244.3.0/24"])
    assert [cidrs.allocate(f"new-{i}") for i in range(3)] == [
        "10.244.0.0/24",
        "10.244.2.0/24",
        "10.244.4.0/24",
    ]
    assert cidrs.held("new-1") == ["10.244.2.0/24"]
    assert cidrs.free == 256 - 5


def test_a_deleted_node_frees_its_subnet_and_a_changed_one_its_old_one() -> None:
    cidrs = CidrAllocator("10.0.0.0/30", 31)  # two subnets
    assert cidrs.allocate("a") == "10.0.0.0/31"
    assert cidrs.allocate("b") == "10.0.0.2/31"
    with pytest.raises(
        CidrsExhausted, match=re.escape("no remaining CIDRs of size /31 in 10.0.0.0/30")
    ):
        cidrs.allocate("c")
    cidrs.release("a")
    assert cidrs.allocate("c") == "10.0.0.0/31"
    cidrs.hold("b", ["192.168.0.0/24"])  # b now holds one outside the range: its old one is free
    assert cidrs.allocate("d") == "10.0.0.2/31"


def test_a_subnet_two_nodes_claim_stays_taken_until_both_let_go() -> None:
    cidrs = CidrAllocator("10.0.0.0/30", 31)
    cidrs.hold("a", ["10.0.0.0/31"])
    cidrs.hold("b", ["10.0.0.0/31"])
    cidrs.hold("c", ["10.0.0.2/31"])
    cidrs.release("a")
    with pytest.raises(CidrsExhausted):
        cidrs.allocate("d")
    cidrs.release("b")
    assert cidrs.allocate("d") == "10.0.0.0/31"


@pytest.mark.parametrize(
    "held, taken",
    [
        (["10.244.0.0/23"], 2),  # larger than a node subnet: every subnet it covers
        (["10.244.5.128/25"], 1),  # smaller: the subnet it lies in
        (["10.0.0.0/8"], 256),  # covers the whole cluster range
        (["192.168.1.0/24", "fd00::/64", "not-a-cidr"], 0),  # outside, other family, invalid
    ],
)
def test_held_cidrs_of_any_size_take_the_subnets_they_overlap(held: list[str], taken: int) -> None:
    cidrs = CidrAllocator("10.244.0.0/16", 24)
    cidrs.hold("n", held)
    assert cidrs.free == 256 - taken


@pytest.mark.parametrize(
    "cidr, mask, error",
    [
        ("10.244.0.1/16", 24, "invalid cluster CIDR"),
        ("nonsense", 24, "invalid cluster CIDR"),
        ("10.244.0.0/16", 8, "must be between"),
        ("10.244.0.0/16", 33, "must be between"),
        ("10.0.0.0/8", 25, "more than 2\\^16 subnets"),
    ],
)
def test_bad_settings_are_refused(cidr: str, mask: int, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        CidrAllocator(cidr, mask)


def test_ipv6() -> None:
    cidrs = CidrAllocator("fd00:10:244::/56", 64)
    assert cidrs.allocate("a") == "fd00:10:244::/64"
    assert cidrs.allocate("b") == "fd00:10:244:1::/64"


class FakeNodes:
    resource = resources.NODE

    def __init__(self) -> None:
        self.updates: list[core_pb2.Node] = []

    async def update(self, node: core_pb2.Node) -> core_pb2.Node:
        self.updates.append(node)
        return node


class FakeClient:
    def __init__(self) -> None:
        self.nodes = FakeNodes()
        self.events = None

    def for_resource(self, resource: Resource[Any]) -> FakeNodes:
        assert resource is resources.NODE, resource
        return self.nodes


def node(name: str, cidr: str = "") -> core_pb2.Node:
    n = core_pb2.Node()
    n.metadata.name = name
    n.metadata.resource_version = "7"
    if cidr:
        n.spec.pod_cidr = cidr
        n.spec.pod_cidrs.append(cidr)
    return n


async def test_the_controller_gives_a_new_node_a_subnet_no_registered_node_holds() -> None:
    client = FakeClient()
    controller = NodeIpamController(client, SharedInformerFactory(client))  # type: ignore[arg-type]
    # The informer's initial list: two nodes registered with their own subnets, one without.
    for n in [node("hollow"), node("node-1", "10.244.0.0/24"), node("node-2", "10.244.1.0/24")]:
        controller.nodes._store(n)
    assert await controller.reconcile("hollow") is None
    (update,) = client.nodes.updates
    assert (update.metadata.name, update.metadata.resource_version) == ("hollow", "7")
    assert (update.spec.pod_cidr, list(update.spec.pod_cidrs)) == (
        "10.244.2.0/24",
        ["10.244.2.0/24"],
    )
    # Nodes that have one are left alone.
    assert await controller.reconcile("node-1") is None
    assert len(client.nodes.updates) == 1
    # Once the node is gone, its subnet is free again.
    controller.nodes._store(update)
    assert controller.allocator.free == 256 - 3
    controller.nodes._remove("hollow")
    assert controller.allocator.free == 256 - 2


def test_the_controller_manager_refuses_a_bad_cluster_cidr_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(
            [
                "--server",
                "apiserver:6443",
                "--cluster-cidr",
                "10.244.0.0/16",
                "--node-cidr-mask-size",
                "12",
            ]
        )
    assert exit_info.value.code == 2
    assert (
        "--cluster-cidr/--node-cidr-mask-size: node CIDR mask size 12 must be between"
        in capsys.readouterr().err
    )
    args = parse_args(
        [
            "--server",
            "apiserver:6443",
            "--cluster-cidr",
            "10.100.0.0/16",
            "--node-monitor-grace-period",
            "40s",
            "--leader-elect=false",
        ]
    )
    assert (args.options.cluster_cidr, args.options.node_monitor_grace_period) == (
        "10.100.0.0/16",
        40.0,
    )
    assert args.leader_election is None
    assert (
        parse_args(["--server", "apiserver:6443"]).leader_election.name == "kube-controller-manager"
    )
