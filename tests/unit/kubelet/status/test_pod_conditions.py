"""The conditions the kubelet owns, with Kubernetes' reasons and messages, and transition times that
only move when a condition's status changes."""

from __future__ import annotations

from kubelet.status.conditions import (
    containers_ready,
    initialized,
    kubelet_conditions,
    merge_conditions,
)
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod, running, terminated, waiting


def ready(status: core_pb2.ContainerStatus) -> core_pb2.ContainerStatus:
    status.ready = True
    return status


def test_all_running_containers_are_ready() -> None:
    c = containers_ready(pod("a", "b").spec, [ready(running("a")), ready(running("b"))], "Running")
    assert (c.type, c.status, c.reason) == ("ContainersReady", "True", "")


def test_unready_and_unknown_containers_are_named() -> None:
    c = containers_ready(pod("a", "b", "c").spec, [waiting("a"), ready(running("b"))], "Pending")
    assert (c.status, c.reason) == ("False", "ContainersNotReady")
    assert c.message == "containers with unknown status: [c], containers with unready status: [a]"


def test_completed_and_failed_pods_are_not_ready() -> None:
    spec = pod("a").spec
    assert containers_ready(spec, [terminated("a", 0)], "Succeeded").reason == "PodCompleted"
    assert containers_ready(spec, [terminated("a", 1)], "Failed").reason == "PodFailed"


def test_initialized_waits_for_every_init_container() -> None:
    spec = pod("a", init=("i", "j")).spec
    done = ready(terminated("i", 0))
    c = initialized(spec, [done, waiting("j")], [waiting("a", "PodInitializing")], "Pending")
    assert (c.status, c.reason) == ("False", "ContainersNotInitialized")
    assert c.message == "containers with incomplete status: [j]"
    c = initialized(spec, [done, ready(terminated("j", 0))], [waiting("a")], "Pending")
    assert c.status == "True"


def test_pod_without_init_containers_is_initialized() -> None:
    assert initialized(pod("a").spec, [], [], "Pending").status == "True"


def test_kubelet_conditions_in_order_with_ready_mirroring_containers_ready() -> None:
    conditions = kubelet_conditions(pod("a").spec, True, [], [waiting("a")], "Pending")
    assert [(c.type, c.status) for c in conditions] == [
        ("PodReadyToStartContainers", "True"),
        ("Initialized", "True"),
        ("Ready", "False"),
        ("ContainersReady", "False"),
    ]
    assert conditions[2].reason == conditions[3].reason == "ContainersNotReady"


def test_transition_time_kept_while_status_unchanged_and_others_kept() -> None:
    old = [
        core_pb2.PodCondition(type="PodScheduled", status="True", last_transition_time="t0"),
        core_pb2.PodCondition(type="Ready", status="False", last_transition_time="t1"),
    ]
    merged = merge_conditions(old, [core_pb2.PodCondition(type="Ready", status="False")], "t2")
    assert [(c.type, c.last_transition_time) for c in merged] == [
        ("Ready", "t1"),
        ("PodScheduled", "t0"),
    ]
    merged = merge_conditions(old, [core_pb2.PodCondition(type="Ready", status="True")], "t2")
    assert merged[0].last_transition_time == "t2"
