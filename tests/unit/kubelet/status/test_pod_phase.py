"""A pod's phase follows the kubelet's getPhase exactly: table-driven over restart policies, init
containers and container states."""

from __future__ import annotations

import pytest

from kubelet.status.phase import get_phase
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import pod, running, terminated, waiting

CASES = [
    # (description, restart policy, init containers, init statuses, containers, statuses, phase)
    ("nothing reported yet", "Always", (), [], ("a",), [], "Pending"),
    ("being created", "Always", (), [], ("a",), [waiting("a")], "Pending"),
    ("all running", "Always", (), [], ("a", "b"), [running("a"), running("b")], "Running"),
    ("one running, one unknown", "Always", (), [], ("a", "b"), [running("a")], "Pending"),
    (
        "one running, one still waiting",
        "Always",
        (),
        [],
        ("a", "b"),
        [running("a"), waiting("b")],
        "Pending",
    ),
    (
        "Never: all exited 0",
        "Never",
        (),
        [],
        ("a", "b"),
        [terminated("a", 0), terminated("b", 0)],
        "Succeeded",
    ),
    (
        "Never: one failed",
        "Never",
        (),
        [],
        ("a", "b"),
        [terminated("a", 0), terminated("b", 1)],
        "Failed",
    ),
    (
        "Never: one failed, one running",
        "Never",
        (),
        [],
        ("a", "b"),
        [terminated("a", 1), running("b")],
        "Running",
    ),
    ("OnFailure: all exited 0", "OnFailure", (), [], ("a",), [terminated("a", 0)], "Succeeded"),
    ("OnFailure: failed, restarting", "OnFailure", (), [], ("a",), [terminated("a", 2)], "Running"),
    (
        "OnFailure: back-off after a failure",
        "OnFailure",
        (),
        [],
        ("a",),
        [waiting("a", "CrashLoopBackOff", last_exit=1)],
        "Running",
    ),
    ("Always: exited 0 is restarted", "Always", (), [], ("a",), [terminated("a", 0)], "Running"),
    (
        "Always: crash loop",
        "Always",
        (),
        [],
        ("a",),
        [waiting("a", "CrashLoopBackOff", last_exit=1)],
        "Running",
    ),
    (
        "init running",
        "Always",
        ("i",),
        [running("i")],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
    ("init not started", "Always", ("i",), [], ("a",), [], "Pending"),
    (
        "init done, app being created",
        "Always",
        ("i",),
        [terminated("i", 0)],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
    (
        "init done, app running",
        "Always",
        ("i", "j"),
        [terminated("i", 0), terminated("j", 0)],
        ("a",),
        [running("a")],
        "Running",
    ),
    (
        "second init pending",
        "Always",
        ("i", "j"),
        [terminated("i", 0), waiting("j")],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
    (
        "Never: init failed",
        "Never",
        ("i",),
        [terminated("i", 1)],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Failed",
    ),
    (
        "Always: init failed, being retried",
        "Always",
        ("i",),
        [waiting("i", "CrashLoopBackOff", last_exit=1)],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
    (
        "OnFailure: init failed",
        "OnFailure",
        ("i",),
        [terminated("i", 1)],
        ("a",),
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
]


@pytest.mark.parametrize(
    ("policy", "inits", "init_statuses", "apps", "statuses", "phase"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_phase(
    policy: str,
    inits: tuple[str, ...],
    init_statuses: list[core_pb2.ContainerStatus],
    apps: tuple[str, ...],
    statuses: list[core_pb2.ContainerStatus],
    phase: str,
) -> None:
    spec = pod(*apps, init=inits, restart_policy=policy).spec
    assert get_phase(spec, init_statuses, statuses) == phase


def test_terminal_pod_reports_success_or_failure_whatever_the_policy() -> None:
    spec = pod("a", restart_policy="Always").spec
    assert get_phase(spec, [], [terminated("a", 0)], pod_is_terminal=True) == "Succeeded"
    assert get_phase(spec, [], [terminated("a", 3)], pod_is_terminal=True) == "Failed"
