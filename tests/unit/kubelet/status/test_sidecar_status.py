"""A pod's phase and conditions with sidecars, as getPhase and status/generate.go decide them: a
running sidecar counts as running (initialization pends until it has started); a stopped one does
not count, so a Job's pod succeeds on its app containers alone; Initialized waits for sidecars to
start, ContainersReady for them to be ready."""

from __future__ import annotations

import pytest

from kubelet.status.conditions import containers_ready, initialized
from kubelet.status.phase import get_phase
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod, running, terminated, waiting


def sidecar(name: str = "s") -> core_pb2.Container:
    c = container(name)
    c.restart_policy = "Always"
    return c


def started(status: core_pb2.ContainerStatus, ready: bool = False) -> core_pb2.ContainerStatus:
    status.started = True
    status.ready = ready
    return status


def crash_looping(name: str) -> core_pb2.ContainerStatus:
    return waiting(name, "CrashLoopBackOff", last_exit=1)


PHASES = [
    # (description, restart policy, init containers, their statuses, app statuses, phase)
    ("sidecar not reported", "Always", (sidecar(),), [], [waiting("a")], "Pending"),
    ("sidecar starting", "Always", (sidecar(),), [running("s")], [waiting("a")], "Pending"),
    (
        "sidecar started, app starting",
        "Always",
        (sidecar(),),
        [started(running("s"))],
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
    ("both running", "Always", (sidecar(),), [started(running("s"))], [running("a")], "Running"),
    (
        "sidecar restarting after the app started",
        "Never",
        (sidecar(),),
        [running("s")],
        [running("a")],
        "Running",
    ),
    (
        "sidecar crash looping",
        "Never",
        (sidecar(),),
        [crash_looping("s")],
        [running("a")],
        "Running",
    ),
    (
        "job: app done, sidecar still running",
        "Never",
        (sidecar(),),
        [started(running("s"))],
        [terminated("a", 0)],
        "Running",
    ),
    (
        "job: app done, sidecar stopped",
        "Never",
        (sidecar(),),
        [terminated("s", 137)],
        [terminated("a", 0)],
        "Succeeded",
    ),
    (
        "job: app failed, sidecar stopped",
        "Never",
        (sidecar(),),
        [terminated("s", 143)],
        [terminated("a", 1)],
        "Failed",
    ),
    (
        "on failure: app done, sidecar stopped",
        "OnFailure",
        (sidecar(),),
        [terminated("s", 137)],
        [terminated("a", 0)],
        "Succeeded",
    ),
    (
        "always: app done, sidecar stopped",
        "Always",
        (sidecar(),),
        [terminated("s", 137)],
        [terminated("a", 0)],
        "Running",
    ),
    (
        "init after the sidecar failed under never",
        "Never",
        (sidecar(), container("i")),
        [started(running("s")), terminated("i", 1)],
        [waiting("a", "PodInitializing")],
        "Failed",
    ),
    (
        "init after the sidecar running",
        "Never",
        (sidecar(), container("i")),
        [started(running("s")), running("i")],
        [waiting("a", "PodInitializing")],
        "Pending",
    ),
]


@pytest.mark.parametrize(
    ("policy", "inits", "init_statuses", "statuses", "phase"),
    [c[1:] for c in PHASES],
    ids=[c[0] for c in PHASES],
)
def test_phase(
    policy: str,
    inits: tuple[core_pb2.Container, ...],
    init_statuses: list[core_pb2.ContainerStatus],
    statuses: list[core_pb2.ContainerStatus],
    phase: str,
) -> None:
    spec = pod("a", init=inits, restart_policy=policy).spec
    assert get_phase(spec, init_statuses, statuses) == phase


def test_initialized_waits_for_sidecars_to_start_not_to_complete() -> None:
    spec = pod("a", init=(container("i"), sidecar("s"))).spec
    done = terminated("i", 0)
    done.ready = True
    c = initialized(spec, [done, running("s")], [waiting("a", "PodInitializing")], "Pending")
    assert (c.status, c.reason) == ("False", "ContainersNotInitialized")
    assert c.message == "containers with incomplete status: [s]"
    c = initialized(spec, [done, started(running("s"))], [waiting("a")], "Pending")
    assert (c.status, c.reason) == ("True", "")


def test_a_restarting_sidecar_leaves_the_pod_initialized() -> None:
    spec = pod("a", init=(sidecar("s"),)).spec
    assert initialized(spec, [crash_looping("s")], [running("a")], "Running").status == "True"


def test_containers_ready_counts_sidecars_first() -> None:
    spec = pod("a", init=(container("i"), sidecar("s"))).spec
    app = running("a")
    app.ready = True
    c = containers_ready(spec, [app], "Running", [terminated("i", 0), started(running("s"))])
    assert (c.status, c.message) == ("False", "containers with unready status: [s]")
    c = containers_ready(spec, [waiting("a")], "Pending", [terminated("i", 0)])
    assert c.message == ("containers with unknown status: [s], containers with unready status: [a]")
    c = containers_ready(spec, [app], "Running", [started(running("s"), ready=True)])
    assert c.status == "True"


def test_a_completed_job_pod_is_not_ready_with_its_sidecar_stopped() -> None:
    spec = pod("a", init=(sidecar("s"),), restart_policy="Never").spec
    c = containers_ready(spec, [terminated("a", 0)], "Succeeded", [terminated("s", 137)])
    assert (c.status, c.reason) == ("False", "PodCompleted")
