"""The READY, STATUS and RESTARTS cells of the pods table, for the states a pod goes through, with
and without sidecars (printPod)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.printers.pods import readiness_gates, summarize_pod
from tests.unit.machinery.printers.samples import obj

NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)
ONE = {"containers": [{"name": "app", "image": "busybox"}]}
TWO = {"containers": [{"name": "app", "image": "busybox"}, {"name": "side", "image": "busybox"}]}
INIT2 = {
    "initContainers": [{"name": "i1", "image": "busybox"}, {"name": "i2", "image": "busybox"}],
    **ONE,
}
RUNNING: dict[str, Any] = {"running": {"startedAt": "2026-11-21T15:00:00Z"}}
READY_TRUE = [{"type": "Ready", "status": "True"}]


def cs(
    name: str = "app",
    ready: bool = False,
    restarts: int = 0,
    last: dict[str, Any] | None = None,
    **state: Any,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": state,
    }
    if last:
        status["lastState"] = last
    return status


def pod(spec: dict[str, Any], status: dict[str, Any], deleting: bool = False) -> Any:
    meta: dict[str, Any] = {"name": "p", "creationTimestamp": "2026-11-21T15:00:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-21T15:09:00Z"
    return obj(core_pb2.Pod, {"metadata": meta, "spec": spec, "status": status})


CASES = [
    ("pending, no statuses", pod(ONE, {"phase": "Pending"}), "0/1", "Pending", "0"),
    (
        "container creating",
        pod(
            ONE,
            {
                "phase": "Pending",
                "containerStatuses": [cs(waiting={"reason": "ContainerCreating"})],
            },
        ),
        "0/1",
        "ContainerCreating",
        "0",
    ),
    (
        "running and ready",
        pod(
            ONE,
            {
                "phase": "Running",
                "conditions": READY_TRUE,
                "containerStatuses": [cs(ready=True, **RUNNING)],
            },
        ),
        "1/1",
        "Running",
        "0",
    ),
    (
        "running, not ready yet",
        pod(ONE, {"phase": "Running", "containerStatuses": [cs(**RUNNING)]}),
        "0/1",
        "Running",
        "0",
    ),
    (
        "one of two ready",
        pod(
            TWO,
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(ready=True, **RUNNING),
                    cs("side", waiting={"reason": "ImagePullBackOff"}),
                ],
            },
        ),
        "1/2",
        "ImagePullBackOff",
        "0",
    ),
    (
        "completed",
        pod(
            ONE,
            {
                "phase": "Succeeded",
                "containerStatuses": [cs(terminated={"exitCode": 0, "reason": "Completed"})],
            },
        ),
        "0/1",
        "Completed",
        "0",
    ),
    (
        "error",
        pod(
            ONE,
            {
                "phase": "Failed",
                "containerStatuses": [cs(terminated={"exitCode": 1, "reason": "Error"})],
            },
        ),
        "0/1",
        "Error",
        "0",
    ),
    (
        "killed by a signal, no reason",
        pod(
            ONE,
            {
                "phase": "Failed",
                "containerStatuses": [cs(terminated={"exitCode": 137, "signal": 9})],
            },
        ),
        "0/1",
        "Signal:9",
        "0",
    ),
    (
        "exit code, no reason",
        pod(ONE, {"phase": "Failed", "containerStatuses": [cs(terminated={"exitCode": 3})]}),
        "0/1",
        "ExitCode:3",
        "0",
    ),
    (
        "crash loop",
        pod(
            ONE,
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(
                        restarts=2,
                        waiting={"reason": "CrashLoopBackOff"},
                        last={
                            "terminated": {
                                "exitCode": 1,
                                "reason": "Error",
                                "finishedAt": "2026-11-21T15:09:55Z",
                            }
                        },
                    )
                ],
            },
        ),
        "0/1",
        "CrashLoopBackOff",
        "2 (5s ago)",
    ),
    (
        "one container done, one still running",
        pod(
            TWO,
            {
                "phase": "Running",
                "conditions": READY_TRUE,
                "containerStatuses": [
                    cs(terminated={"exitCode": 0, "reason": "Completed"}),
                    cs("side", ready=True, **RUNNING),
                ],
            },
        ),
        "1/2",
        "Running",
        "0",
    ),
    (
        "one done, one running, pod not ready",
        pod(
            TWO,
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(terminated={"exitCode": 0, "reason": "Completed"}),
                    cs("side", ready=True, **RUNNING),
                ],
            },
        ),
        "1/2",
        "NotReady",
        "0",
    ),
    (
        "init 0/2",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs("i1", **RUNNING),
                    cs("i2", waiting={"reason": "PodInitializing"}),
                ],
                "containerStatuses": [cs(waiting={"reason": "PodInitializing"})],
            },
        ),
        "0/1",
        "Init:0/2",
        "0",
    ),
    (
        "init 1/2",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs("i1", terminated={"exitCode": 0, "reason": "Completed"}),
                    cs("i2", **RUNNING),
                ],
            },
        ),
        "0/1",
        "Init:1/2",
        "0",
    ),
    (
        "init crash loop",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs("i1", restarts=3, waiting={"reason": "CrashLoopBackOff"})
                ],
            },
        ),
        "0/1",
        "Init:CrashLoopBackOff",
        "3",
    ),
    (
        "init failed",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [cs("i1", terminated={"exitCode": 1, "reason": "Error"})],
            },
        ),
        "0/1",
        "Init:Error",
        "0",
    ),
    (
        "init killed",
        pod(
            INIT2,
            {"phase": "Pending", "initContainerStatuses": [cs("i1", terminated={"exitCode": 2})]},
        ),
        "0/1",
        "Init:ExitCode:2",
        "0",
    ),
    (
        "init killed by a signal",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [cs("i1", terminated={"exitCode": 137, "signal": 9})],
            },
        ),
        "0/1",
        "Init:Signal:9",
        "0",
    ),
    (
        "init restarted, then done: only the app's restarts count",
        pod(
            INIT2,
            {
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, *READY_TRUE],
                "initContainerStatuses": [
                    cs(
                        "i1",
                        restarts=1,
                        terminated={"exitCode": 0, "reason": "Completed"},
                        last={"terminated": {"exitCode": 1, "finishedAt": "2026-11-21T15:01:00Z"}},
                    ),
                    cs("i2", terminated={"exitCode": 0, "reason": "Completed"}),
                ],
                "containerStatuses": [cs(ready=True, **RUNNING)],
            },
        ),
        "1/1",
        "Running",
        "0",
    ),
    (
        "init crash loop, restarted an hour ago",
        pod(
            INIT2,
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs(
                        "i1",
                        restarts=4,
                        waiting={"reason": "CrashLoopBackOff"},
                        last={"terminated": {"exitCode": 1, "finishedAt": "2026-11-21T14:10:00Z"}},
                    )
                ],
            },
        ),
        "0/1",
        "Init:CrashLoopBackOff",
        "4 (60m ago)",
    ),
    (
        "a waiting container without a reason keeps the phase",
        pod(ONE, {"phase": "Pending", "containerStatuses": [cs(waiting={})]}),
        "0/1",
        "Pending",
        "0",
    ),
    (
        "terminating",
        pod(
            ONE,
            {"phase": "Running", "containerStatuses": [cs(ready=True, **RUNNING)]},
            deleting=True,
        ),
        "1/1",
        "Terminating",
        "0",
    ),
    (
        "deleted after it finished",
        pod(
            ONE,
            {
                "phase": "Succeeded",
                "containerStatuses": [cs(terminated={"exitCode": 0, "reason": "Completed"})],
            },
            deleting=True,
        ),
        "0/1",
        "Completed",
        "0",
    ),
    (
        "node lost",
        pod(ONE, {"phase": "Running", "reason": "NodeLost"}, deleting=True),
        "0/1",
        "Unknown",
        "0",
    ),
    ("evicted", pod(ONE, {"phase": "Failed", "reason": "Evicted"}), "0/1", "Evicted", "0"),
    (
        "scheduling gated",
        pod(
            ONE,
            {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            },
        ),
        "0/1",
        "SchedulingGated",
        "0",
    ),
]

# A log shipper sidecar before the app (an init container with restartPolicy Always).
SIDECAR = {
    "initContainers": [{"name": "shipper", "image": "busybox", "restartPolicy": "Always"}],
    **ONE,
}
INITIALIZED = [{"type": "Initialized", "status": "True"}]
TERMINATED_AT = "2026-11-21T15:05:00Z"


def sidecar_status(started: bool, **fields: Any) -> dict[str, Any]:
    return {**cs("shipper", **fields), "started": started}


CASES += [
    (
        "sidecar starting",
        pod(
            SIDECAR,
            {
                "phase": "Pending",
                "initContainerStatuses": [sidecar_status(False, **RUNNING)],
                "containerStatuses": [cs(waiting={"reason": "PodInitializing"})],
            },
        ),
        "0/2",
        "Init:0/1",
        "0",
    ),
    (
        "sidecar and app ready",
        pod(
            SIDECAR,
            {
                "phase": "Running",
                "conditions": INITIALIZED + READY_TRUE,
                "initContainerStatuses": [sidecar_status(True, ready=True, **RUNNING)],
                "containerStatuses": [cs(ready=True, **RUNNING)],
            },
        ),
        "2/2",
        "Running",
        "0",
    ),
    (
        "sidecar started but not ready",
        pod(
            SIDECAR,
            {
                "phase": "Running",
                "conditions": INITIALIZED,
                "initContainerStatuses": [sidecar_status(True, **RUNNING)],
                "containerStatuses": [cs(ready=True, **RUNNING)],
            },
        ),
        "1/2",
        "Running",
        "0",
    ),
    (
        "sidecar restarted while the app runs",
        pod(
            SIDECAR,
            {
                "phase": "Running",
                "conditions": INITIALIZED + READY_TRUE,
                "initContainerStatuses": [
                    sidecar_status(
                        True,
                        ready=True,
                        restarts=3,
                        last={"terminated": {"exitCode": 1, "finishedAt": TERMINATED_AT}},
                        **RUNNING,
                    )
                ],
                "containerStatuses": [cs(ready=True, restarts=1, **RUNNING)],
            },
        ),
        "2/2",
        "Running",
        "4 (5m ago)",
    ),
    (
        "sidecar crash looping",
        pod(
            SIDECAR,
            {
                "phase": "Running",
                "conditions": INITIALIZED,
                "initContainerStatuses": [
                    sidecar_status(
                        False,
                        restarts=2,
                        last={"terminated": {"exitCode": 1, "finishedAt": TERMINATED_AT}},
                        waiting={"reason": "CrashLoopBackOff"},
                    )
                ],
                "containerStatuses": [cs(ready=True, **RUNNING)],
            },
        ),
        # As kubectl shows it: the sidecar's wait is an Init: status even after initialization.
        "1/2",
        "Init:CrashLoopBackOff",
        "2 (5m ago)",
    ),
    (
        "job done, sidecar stopped",
        pod(
            {**SIDECAR, "restartPolicy": "Never"},
            {
                "phase": "Succeeded",
                "conditions": [{"type": "Initialized", "status": "True", "reason": "PodCompleted"}],
                "initContainerStatuses": [
                    sidecar_status(False, terminated={"exitCode": 137, "reason": "Error"})
                ],
                "containerStatuses": [cs(terminated={"exitCode": 0, "reason": "Completed"})],
            },
        ),
        "0/2",
        "Completed",
        "0",
    ),
]


@pytest.mark.parametrize(
    ("case", "p", "ready", "status", "restarts"), CASES, ids=[c[0] for c in CASES]
)
def test_pod_columns(case: str, p: Any, ready: str, status: str, restarts: str) -> None:
    summary = summarize_pod(p, NOW)
    assert (summary.ready, summary.status, summary.restarts) == (ready, status, restarts)


@pytest.mark.parametrize(
    ("gates", "conditions", "cell"),
    [
        ([], [], "<none>"),
        (["example.com/lb"], [], "0/1"),
        (
            ["example.com/lb", "example.com/dns"],
            [
                {"type": "example.com/lb", "status": "True"},
                {"type": "example.com/dns", "status": "False"},
            ],
            "1/2",
        ),
    ],
)
def test_readiness_gates_column(gates: list[str], conditions: list[Any], cell: str) -> None:
    spec = {**ONE, "readinessGates": [{"conditionType": g} for g in gates]}
    pod = obj(core_pb2.Pod, {"spec": spec, "status": {"conditions": conditions}})
    assert readiness_gates(pod) == cell
