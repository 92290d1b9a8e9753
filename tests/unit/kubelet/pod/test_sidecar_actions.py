"""What the kubelet does with a pod's init containers and sidecars, as a table over what the
runtime reports (computePodActions and computeInitContainerActions): which init containers start,
whether the pod is initialized, whether it is killed."""

from __future__ import annotations

import pytest

from kubelet.pod.actions import compute_pod_actions
from kubelet.runtime.types import ContainerState, ContainerStatus, PodRef, RuntimePod, SandboxStatus
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod

REF = PodRef("uid-1", "web", "default")
SANDBOX = SandboxStatus("sb", REF, 0, True, "10.244.0.5", "2026-01-01T00:00:00Z")
RUNNING, EXITED = ContainerState.RUNNING, ContainerState.EXITED


def sidecar(name: str) -> core_pb2.Container:
    c = container(name)
    c.restart_policy = "Always"
    return c


def runtime(*containers: tuple[str, ContainerState, int]) -> RuntimePod:
    return RuntimePod(
        sandboxes=[SANDBOX],
        containers=[
            ContainerStatus(f"id-{name}", REF, name, "sb", 0, state, "t", exit_code=code)
            for name, state, code in containers
        ],
    )


INITS = (container("setup"), sidecar("proxy"), container("migrate"), sidecar("shipper"))
CASES = [
    # (description, pod restart policy, what runs, init containers to start, app to start, kill)
    ("nothing ran yet", "Always", [], ["setup"], [], False),
    ("setup runs", "Always", [("setup", RUNNING, 0)], [], [], False),
    ("setup done", "Always", [("setup", EXITED, 0)], ["proxy"], [], False),
    (
        "proxy started: migrate runs beside it",
        "Always",
        [("setup", EXITED, 0), ("proxy", RUNNING, 0)],
        ["migrate"],
        [],
        False,
    ),
    (
        "migrate done",
        "Always",
        [("setup", EXITED, 0), ("proxy", RUNNING, 0), ("migrate", EXITED, 0)],
        ["shipper"],
        [],
        False,
    ),
    (
        "the last sidecar started: the app starts",
        "Always",
        [
            ("setup", EXITED, 0),
            ("proxy", RUNNING, 0),
            ("migrate", EXITED, 0),
            ("shipper", RUNNING, 0),
        ],
        [],
        ["app"],
        False,
    ),
    (
        "a sidecar exited during initialization: restarted, with the next step",
        "Never",
        [("setup", EXITED, 0), ("proxy", EXITED, 1), ("migrate", RUNNING, 0)],
        ["proxy"],
        [],
        False,
    ),
    (
        "migrate failed under Never: the pod has failed",
        "Never",
        [("setup", EXITED, 0), ("proxy", RUNNING, 0), ("migrate", EXITED, 1)],
        [],
        [],
        True,
    ),
    (
        "migrate failed under OnFailure: it runs again",
        "OnFailure",
        [("setup", EXITED, 0), ("proxy", RUNNING, 0), ("migrate", EXITED, 1)],
        ["migrate"],
        [],
        False,
    ),
    (
        "initialized: a crashed sidecar is restarted under Never, the app kept",
        "Never",
        [("proxy", EXITED, 2), ("shipper", RUNNING, 0), ("app", RUNNING, 0)],
        ["proxy"],
        [],
        False,
    ),
    (
        "initialized: a sidecar whose instance is gone runs again",
        "Never",
        [("shipper", RUNNING, 0), ("app", RUNNING, 0)],
        ["proxy"],
        [],
        False,
    ),
    (
        "the app is done under Never: the pod is killed, no sidecar restarted",
        "Never",
        [("proxy", EXITED, 137), ("shipper", RUNNING, 0), ("app", EXITED, 0)],
        [],
        [],
        True,
    ),
    (
        "the app failed under OnFailure: it runs again, sidecars kept",
        "OnFailure",
        [("proxy", RUNNING, 0), ("shipper", RUNNING, 0), ("app", EXITED, 1)],
        [],
        ["app"],
        False,
    ),
]


@pytest.mark.parametrize(
    ("policy", "ran", "inits", "apps", "kill"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_actions(
    policy: str,
    ran: list[tuple[str, ContainerState, int]],
    inits: list[str],
    apps: list[str],
    kill: bool,
) -> None:
    actions = compute_pod_actions(pod("app", init=INITS, restart_policy=policy), runtime(*ran))
    assert [c.name for c in actions.init_containers_to_start] == inits
    assert [c.name for c in actions.containers_to_start] == apps
    assert (actions.kill_pod, actions.create_sandbox) == (kill, False)


def test_a_sidecar_not_started_yet_holds_the_next_init_container() -> None:
    ran = runtime(("setup", EXITED, 0), ("proxy", RUNNING, 0))
    p = pod("app", init=INITS)
    held = compute_pod_actions(p, ran, started=lambda c: False)
    assert held.init_containers_to_start == [] and not held.kill_pod
    failed = compute_pod_actions(
        p, ran, unhealthy=lambda c: ("Startup", "x"), started=lambda c: False
    )
    assert [c.name for c in failed.init_containers_to_start] == ["proxy"]
    assert [(k.container.name, k.message) for k in failed.containers_to_kill] == [
        ("proxy", "Init container proxy failed startup probe")
    ]
