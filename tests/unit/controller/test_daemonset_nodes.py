"""Which nodes a DaemonSet runs on (NodeShouldRunDaemonPod) and the pods it makes for them: the
template's node selector, node affinity and nodeName choose nodes, taints keep it off unless
tolerated, a NoExecute taint also removes a pod already there, a cordoned node does not matter;
every daemon pod tolerates node problems and is steered to its node by a node affinity."""

from __future__ import annotations

from typing import Any

import pytest

from controller.daemon import nodes
from podplane.api.core.v1 import core_pb2
from tests.unit.controller.daemonset_objects import daemon_set, node

AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}
            ]
        }
    }
}


@pytest.mark.parametrize(
    ("template", "the_node", "expected"),
    [
        ({}, node("n1"), (True, True)),
        ({}, node("n1", unschedulable=True), (True, True)),
        ({"nodeSelector": {"disk": "ssd"}}, node("n1", labels={"disk": "ssd"}), (True, True)),
        ({"nodeSelector": {"disk": "ssd"}}, node("n1", labels={"disk": "hdd"}), (False, False)),
        ({"nodeName": "n2"}, node("n1"), (False, False)),
        ({"nodeName": "n1"}, node("n1"), (True, True)),
        ({"affinity": AFFINITY}, node("n1", labels={"zone": "b"}), (True, True)),
        ({"affinity": AFFINITY}, node("n1", labels={"zone": "c"}), (False, False)),
        (
            {},
            node("n1", taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]),
            (False, True),
        ),
        (
            {},
            node("n1", taints=[{"key": "gpu", "value": "yes", "effect": "NoExecute"}]),
            (False, False),
        ),
        (
            {},
            node("n1", taints=[{"key": "gpu", "value": "yes", "effect": "PreferNoSchedule"}]),
            (True, True),
        ),
        (
            {"tolerations": [{"key": "gpu", "operator": "Exists"}]},
            node("n1", taints=[{"key": "gpu", "value": "yes", "effect": "NoExecute"}]),
            (True, True),
        ),
        (
            {"tolerations": [{"key": "gpu", "operator": "Equal", "value": "no"}]},
            node("n1", taints=[{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]),
            (False, True),
        ),
        # The tolerations every daemon pod gets: node problems do not keep it off.
        (
            {},
            node(
                "n1",
                taints=[
                    {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
                    {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"},
                    {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"},
                    {"key": "node.kubernetes.io/pid-pressure", "effect": "NoSchedule"},
                    {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                ],
            ),
            (True, True),
        ),
        (
            {},
            node(
                "n1",
                taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}],
            ),
            (False, True),
        ),
        (
            {"hostNetwork": True},
            node(
                "n1",
                taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}],
            ),
            (True, True),
        ),
    ],
    ids=[
        "any-node",
        "cordoned",
        "selector-matches",
        "selector-does-not",
        "other-node-name",
        "its-node-name",
        "affinity-matches",
        "affinity-does-not",
        "noschedule-taint",
        "noexecute-taint",
        "prefer-no-schedule",
        "tolerated-noexecute",
        "wrong-value",
        "node-problems",
        "network-unavailable",
        "network-unavailable-host-network",
    ],
)
def test_should_run(
    template: dict[str, Any], the_node: core_pb2.Node, expected: tuple[bool, bool]
) -> None:
    assert nodes.should_run(the_node, daemon_set(template_spec=template)) == expected


def test_the_daemon_tolerations_replace_same_ones_and_keep_others() -> None:
    spec = core_pb2.PodSpec()
    spec.tolerations.add(
        key="node.kubernetes.io/not-ready",
        operator="Exists",
        effect="NoExecute",
        toleration_seconds=300,
    )
    spec.tolerations.add(key="gpu", operator="Exists")
    nodes.add_daemon_tolerations(spec)
    shown = [(t.key, t.effect, t.HasField("toleration_seconds")) for t in spec.tolerations]
    assert shown == [
        ("node.kubernetes.io/not-ready", "NoExecute", False),  # no longer evicted after 300 s
        ("gpu", "", False),
        ("node.kubernetes.io/unreachable", "NoExecute", False),
        ("node.kubernetes.io/disk-pressure", "NoSchedule", False),
        ("node.kubernetes.io/memory-pressure", "NoSchedule", False),
        ("node.kubernetes.io/pid-pressure", "NoSchedule", False),
        ("node.kubernetes.io/unschedulable", "NoSchedule", False),
    ]
    nodes.add_daemon_tolerations(spec)
    assert len(spec.tolerations) == 7


def test_a_daemon_pod_is_steered_to_its_node_and_found_there() -> None:
    ds = daemon_set(template_spec={"affinity": AFFINITY})
    pod = core_pb2.Pod()
    pod.spec.CopyFrom(ds.spec.template.spec)
    nodes.set_node_affinity(pod.spec, "n3")
    required = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    assert [
        [(r.key, r.operator, list(r.values)) for r in t.match_fields]
        for t in required.node_selector_terms
    ] == [[("metadata.name", "In", ["n3"])]]
    assert not required.node_selector_terms[0].match_expressions
    assert nodes.target_node(pod) == "n3"
    pod.spec.node_name = "n4"
    assert nodes.target_node(pod) == "n4"
    assert nodes.target_node(core_pb2.Pod()) is None


def test_heartbeats_do_not_matter_but_labels_and_conditions_do() -> None:
    old = node("n1")
    beat = core_pb2.Node()
    beat.CopyFrom(old)
    beat.metadata.resource_version = "9"
    beat.status.conditions[0].last_heartbeat_time = "2030-01-01T00:00:00Z"
    # The heartbeat restamps the kubelet's managed fields entry.
    beat.metadata.managed_fields.add(manager="kubelet", operation="Update", subresource="status")
    assert not nodes.node_change_matters(old, beat)
    relabelled = core_pb2.Node()
    relabelled.CopyFrom(old)
    relabelled.metadata.labels["disk"] = "ssd"
    assert nodes.node_change_matters(old, relabelled)
    pressured = core_pb2.Node()
    pressured.CopyFrom(old)
    pressured.status.conditions.add(type="DiskPressure", status="True")
    assert nodes.node_change_matters(old, pressured)
