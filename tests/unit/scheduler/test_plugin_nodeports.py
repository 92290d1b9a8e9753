"""NodePorts: a pod asking for host ports fits only where they are free, by port, protocol and host
IP (0.0.0.0 conflicting with every IP); pods without host ports skip the plugin."""

from __future__ import annotations

import pytest

from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState
from scheduler.plugins import default_profile, in_tree_registry, nodeports
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler.schedtest import node, node_info

Port = tuple[int, str, str]
REASON = "node(s) didn't have free ports for the requested pod ports"


@pytest.mark.parametrize(
    "used, wanted, fits",
    [
        ([], [(80, "TCP", "")], True),
        ([(80, "TCP", "")], [(80, "TCP", "")], False),
        ([(80, "", "")], [(80, "TCP", "0.0.0.0")], False),  # TCP and 0.0.0.0 are the defaults
        ([(80, "UDP", "")], [(80, "TCP", "")], True),
        ([(8080, "TCP", "")], [(80, "TCP", "")], True),
        ([(80, "TCP", "10.0.0.1")], [(80, "TCP", "10.0.0.2")], True),
        ([(80, "TCP", "10.0.0.1")], [(80, "TCP", "10.0.0.1")], False),
        ([(80, "TCP", "")], [(80, "TCP", "10.0.0.1")], False),
        ([(80, "TCP", "10.0.0.1")], [(80, "TCP", "")], False),
        ([(53, "UDP", ""), (80, "TCP", "")], [(53, "TCP", ""), (80, "TCP", "")], False),
    ],
    ids=[
        "free",
        "same-port",
        "defaults",
        "other-protocol",
        "other-port",
        "other-ip",
        "same-ip",
        "node-binds-all",
        "pod-binds-all",
        "one-of-two",
    ],
)
def test_host_port_conflicts(used: list[Port], wanted: list[Port], fits: bool) -> None:
    existing = pt.with_host_ports(pt.pod("existing"), *used)
    info = node_info(node("n1"), existing)
    plugin = nodeports.new({})
    state = CycleState()
    incoming = pt.with_host_ports(pt.pod("incoming"), *wanted)
    assert plugin.pre_filter(state, incoming).is_success
    status = plugin.filter(state, incoming, info)
    assert status.is_success == fits
    if not fits:
        assert status.reasons == (REASON,) and status.code is Code.UNSCHEDULABLE


def test_container_ports_without_host_ports_take_nothing_from_the_node() -> None:
    existing = pt.pod("existing")
    existing.spec.containers[0].ports.add(container_port=80)
    incoming = pt.with_host_ports(pt.pod("incoming"), (80, "TCP", ""))
    statuses = pt.filter_all(nodeports.new({}), incoming, [node_info(node("n1"), existing)])
    assert statuses["n1"].is_success


def test_a_pod_without_host_ports_skips_the_plugin() -> None:
    plain = pt.pod("plain")
    plain.spec.containers[0].ports.add(container_port=8080)
    assert nodeports.new({}).pre_filter(CycleState(), plain).is_skip


def test_the_scheduler_says_which_nodes_lack_ports_and_which_break_the_spread() -> None:
    """Kubernetes' message, each reason counted over the nodes that gave it."""
    holder = pt.with_host_ports(pt.pod("holder"), (80, "TCP", ""))
    nodes = pt.cluster(
        (pt.zone_node("n1", "a"), [holder]),
        (pt.zone_node("n2", "b"), [pt.pod("w1", {"app": "web"})]),
        (pt.zone_node("n3", "c"), [pt.pod("w2", {"app": "web"})]),
    )
    incoming = pt.with_spread(
        pt.with_host_ports(pt.pod("web", {"app": "web"}), (80, "TCP", "")), match={"app": "web"}
    )
    fw = Framework(in_tree_registry(), default_profile())
    result = pt.algorithm(fw).schedule(incoming, nodes)
    assert result.status.message == (
        "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "
        "2 node(s) didn't match pod topology spread constraints."
    )
    assert result.diagnosis.unschedulable_plugins == {"NodePorts", "PodTopologySpread"}
