"""A pod's phase from its containers' statuses, exactly as the kubelet's getPhase decides it
(kubelet_pods.go), sidecars included: a sidecar that runs counts as a running container (until it
has started, initialization is pending), and one that stopped does not count at all, so a Job's
pod succeeds once its app containers have, whatever becomes of its sidecars."""

from __future__ import annotations

from collections.abc import Sequence

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
# A pod in one of these never runs again.
TERMINAL_PHASES = (SUCCEEDED, FAILED)


def _by_name(statuses: Sequence[core_pb2.ContainerStatus]) -> dict[str, core_pb2.ContainerStatus]:
    return {s.name: s for s in statuses}


def get_phase(
    spec: core_pb2.PodSpec,
    init_statuses: Sequence[core_pb2.ContainerStatus],
    statuses: Sequence[core_pb2.ContainerStatus],
    pod_is_terminal: bool = False,
) -> str:
    policy = spec.restart_policy or "Always"
    pending_init = failed_init = 0
    unknown = running = waiting = stopped = succeeded = 0
    inits = _by_name(init_statuses)
    for container in spec.init_containers:
        s = inits.get(container.name)
        if is_sidecar(container):
            if s is None:
                unknown += 1
            elif s.state.HasField("running"):
                if not s.started:
                    pending_init += 1
                running += 1
            elif s.state.HasField("terminated"):
                pass  # a sidecar that stopped does not count
            elif s.state.HasField("waiting"):
                if not s.last_state.HasField("terminated"):
                    pending_init += 1
                    waiting += 1
            else:
                pending_init += 1
                unknown += 1
        elif s is None:
            pending_init += 1
        elif s.state.HasField("running"):
            pending_init += 1
        elif s.state.HasField("terminated"):
            if s.state.terminated.exit_code != 0:
                failed_init += 1
        elif s.state.HasField("waiting"):
            if s.last_state.HasField("terminated"):
                if s.last_state.terminated.exit_code != 0:
                    failed_init += 1
            else:
                pending_init += 1
        else:
            pending_init += 1

    apps = _by_name(statuses)
    for container in spec.containers:
        s = apps.get(container.name)
        if s is None:
            unknown += 1
        elif s.state.HasField("running"):
            running += 1
        elif s.state.HasField("terminated"):
            stopped += 1
            if s.state.terminated.exit_code == 0:
                succeeded += 1
        elif s.state.HasField("waiting"):
            if s.last_state.HasField("terminated"):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1

    if failed_init > 0 and policy == "Never":
        return FAILED
    any_started = any(
        s.state.HasField("running") or s.state.HasField("terminated") for s in apps.values()
    )
    if (pending_init > 0 and not any_started) or waiting > 0:
        return PENDING
    if running > 0 and unknown == 0:
        return RUNNING
    if running == 0 and stopped > 0 and unknown == 0:
        if pod_is_terminal:
            return SUCCEEDED if stopped == succeeded else FAILED
        if policy == "Always":
            return RUNNING  # every container is about to be restarted
        if stopped == succeeded:
            return SUCCEEDED
        if policy == "Never":
            return FAILED
        return RUNNING  # OnFailure: the failed ones are being restarted
    return PENDING
