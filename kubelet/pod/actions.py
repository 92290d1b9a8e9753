"""What to do to bring a pod's containers to its spec: a pure function of the desired Pod and
what the runtime reports and the probes say (kuberuntime_manager.go computePodActions, without
sidecars)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubelet.container.restart import restart_policy, should_restart
from kubelet.runtime.types import ContainerState, ContainerStatus, RuntimePod
from kubelet.status.phase import TERMINAL_PHASES
from podplane.api.core.v1 import core_pb2

# A running container's probe verdict: (probe type, message) when it must be killed, else None.
HealthCheck = Callable[[ContainerStatus], "tuple[str, str] | None"]


@dataclass
class ContainerToKill:
    status: ContainerStatus
    container: core_pb2.Container
    # "Liveness" or "Startup": the probe that failed.
    probe_type: str
    # Shown in the Killing event: "Container web failed liveness probe, will be restarted".
    message: str


@dataclass
class PodActions:
    # Stop every running container and the sandbox (before a new sandbox, or for good).
    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_attempt: int = 0
    # The next init container to run (init containers run one at a time, in order).
    init_container: core_pb2.Container | None = None
    containers_to_start: list[core_pb2.Container] = field(default_factory=list)
    # Running containers a failed liveness or startup probe condemns; once they are stopped, the
    # actions are computed again (and restart them unless the policy is Never).
    containers_to_kill: list[ContainerToKill] = field(default_factory=list)


@dataclass
class InitProgress:
    done: bool = False
    running: bool = False
    failed: core_pb2.Container | None = None
    next: core_pb2.Container | None = None


def init_progress(pod: core_pb2.Pod, rp: RuntimePod, sandbox_id: str) -> InitProgress:
    """Where the init containers stand in the current sandbox (findNextInitContainerToRun)."""
    inits = list(pod.spec.init_containers)
    if not inits:
        return InitProgress(done=True)
    # An app container created in this sandbox means initialization finished before.
    if any(rp.latest_in(c.name, sandbox_id) for c in pod.spec.containers):
        return InitProgress(done=True)
    for i in range(len(inits) - 1, -1, -1):
        status = rp.latest_in(inits[i].name, sandbox_id)
        if status is None:
            continue
        if status.state == ContainerState.RUNNING:
            return InitProgress(running=True)
        if status.state != ContainerState.EXITED or status.exit_code != 0:
            return InitProgress(failed=inits[i])
        if i == len(inits) - 1:
            return InitProgress(done=True)
        return InitProgress(next=inits[i + 1])
    return InitProgress(next=inits[0])


def compute_pod_actions(
    pod: core_pb2.Pod, rp: RuntimePod, unhealthy: HealthCheck | None = None
) -> PodActions:
    actions = PodActions()
    if pod.status.phase in TERMINAL_PHASES or pod.metadata.deletion_timestamp:
        # A finished pod never runs again: only make sure nothing of it still runs.
        actions.kill_pod = bool(rp.running() or rp.ready_sandboxes())
        return actions

    policy = restart_policy(pod)
    sandbox = rp.latest_sandbox()
    ready = rp.ready_sandboxes()
    if sandbox is None or not sandbox.ready or len(ready) > 1:
        actions.kill_pod = sandbox is not None
        if sandbox is not None and policy == "Never" and rp.containers:
            # The sandbox died after containers ran; under Never nothing is started again.
            return actions
        actions.create_sandbox = True
        actions.sandbox_attempt = sandbox.attempt + 1 if sandbox else 0
        if pod.spec.init_containers:
            actions.init_container = pod.spec.init_containers[0]
        else:
            actions.containers_to_start = [
                c
                for c in pod.spec.containers
                if not (policy == "OnFailure" and _succeeded(rp.latest(c.name)))
            ]
        return actions

    progress = init_progress(pod, rp, sandbox.id)
    if not progress.done:
        if progress.failed is not None:
            if policy == "Never":
                actions.kill_pod = True  # the pod has failed
            else:
                actions.init_container = progress.failed
        elif progress.next is not None:
            actions.init_container = progress.next
        return actions

    for container in pod.spec.containers:
        latest = rp.latest(container.name)
        if (
            latest is not None
            and latest.sandbox_id != sandbox.id
            and latest.state == ContainerState.RUNNING
        ):
            latest = None  # a stray in an old sandbox: the kill of that sandbox handles it
        if should_restart(pod, latest):
            actions.containers_to_start.append(container)
        elif latest is not None and latest.state == ContainerState.RUNNING and unhealthy:
            verdict = unhealthy(latest)
            if verdict is not None:
                probe_type, message = verdict
                if policy != "Never":
                    message += ", will be restarted"
                actions.containers_to_kill.append(
                    ContainerToKill(latest, container, probe_type, message)
                )
    return actions


def _succeeded(status: ContainerStatus | None) -> bool:
    return status is not None and status.state == ContainerState.EXITED and status.exit_code == 0
