"""python -m adm wait-cluster's stages: when each holds over the objects its watch gives, and what
it says of them when it does not."""

from __future__ import annotations

from adm.waitcluster import cluster_stages, daemonset_ready, deployment_available, nodes_ready
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2


def node(name: str, ready: str) -> core_pb2.Node:
    return core_pb2.Node(
        metadata=meta_pb2.ObjectMeta(name=name),
        status=core_pb2.NodeStatus(conditions=[core_pb2.NodeCondition(type="Ready", status=ready)]),
    )


def test_nodes_hold_once_enough_are_ready() -> None:
    stage = nodes_ready(3)
    two = [node("node-1", "True"), node("node-2", "True"), node("node-3", "False")]
    assert not stage.holds(two)
    assert stage.shows(two) == "2/3 Ready (node-1, node-2)"
    assert stage.holds([*two[:2], node("node-3", "True")])


def daemonset(
    generation: int, observed: int, desired: int, ready: int, updated: int
) -> apps_pb2.DaemonSet:
    return apps_pb2.DaemonSet(
        metadata=meta_pb2.ObjectMeta(name="kube-proxy", generation=generation),
        status=apps_pb2.DaemonSetStatus(
            observed_generation=observed,
            desired_number_scheduled=desired,
            number_ready=ready,
            updated_number_scheduled=updated,
        ),
    )


def test_a_daemonset_holds_when_its_current_pods_are_ready_on_every_node() -> None:
    stage = daemonset_ready("kube-system", "kube-proxy", 3)
    assert stage.field_selector == "metadata.name=kube-proxy" and stage.namespace == "kube-system"
    assert not stage.holds([]) and stage.shows([]) == "not created yet"
    assert not stage.holds([daemonset(1, 1, 2, 2, 2)])  # a node has no pod yet
    assert not stage.holds([daemonset(1, 1, 3, 2, 3)])
    assert stage.shows([daemonset(1, 1, 3, 2, 3)]) == "2 ready of 3 desired"
    assert not stage.holds([daemonset(2, 1, 3, 3, 3)])  # status of the previous generation
    assert not stage.holds([daemonset(2, 2, 3, 3, 2)])  # a pod of the old template
    assert stage.holds([daemonset(2, 2, 3, 3, 3)])


def deployment(replicas: int, available: int, updated: int, total: int) -> apps_pb2.Deployment:
    return apps_pb2.Deployment(
        metadata=meta_pb2.ObjectMeta(name="coredns", generation=1),
        spec=apps_pb2.DeploymentSpec(replicas=replicas),
        status=apps_pb2.DeploymentStatus(
            observed_generation=1,
            available_replicas=available,
            updated_replicas=updated,
            replicas=total,
        ),
    )


def test_a_deployment_holds_when_every_replica_of_its_template_is_available() -> None:
    stage = deployment_available("kube-system", "coredns")
    assert not stage.holds([deployment(2, 1, 2, 2)])
    assert stage.shows([deployment(2, 1, 2, 2)]) == "1/2 available"
    assert not stage.holds([deployment(2, 2, 2, 3)])  # an old pod is still there
    assert stage.holds([deployment(2, 2, 2, 2)])


def test_make_up_waits_for_the_nodes_then_kube_proxy_then_the_dns() -> None:
    assert [s.what for s in cluster_stages(3)] == [
        "3 nodes Ready",
        "DaemonSet kube-system/kube-proxy ready on 3 nodes",
        "Deployment kube-system/coredns available",
    ]
