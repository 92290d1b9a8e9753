"""What to do to bring a pod's containers to its spec: a pure function of the desired Pod and
what the runtime reports and the probes say (kuberuntime_manager.go computePodActions and
kuberuntime_container.go computeInitContainerActions, with sidecars)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubelet.container.restart import restart_policy, should_restart
from kubelet.runtime.types import ContainerState, ContainerStatus, RuntimePod
from kubelet.status.phase import TERMINAL_PHASES
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar

# A running container's probe verdict: (probe type, message) when it must be killed, else None.
HealthCheck = Callable[[ContainerStatus], "tuple[str, str] | None"]
# Whether a running container has started: its startup probe, if it has one, has succeeded.
StartedCheck = Callable[[ContainerStatus], bool]


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
    # Init containers to start, in their order: the next one to run (they run one at a time,
    # but a sidecar does not hold up the next once it has started) and sidecars to restart.
    init_containers_to_start: list[core_pb2.Container] = field(default_factory=list)
    containers_to_start: list[core_pb2.Container] = field(default_factory=list)
    # Running containers a failed liveness or startup probe condemns; once they are stopped, the
    # actions are computed again (and restart them unless the policy is Never).
    containers_to_kill: list[ContainerToKill] = field(default_factory=list)


@dataclass
class _InitActions:
    initialized: bool = False
    # Init containers to start, the last one of the spec first (they are found backwards).
    to_start: list[core_pb2.Container] = field(default_factory=list)
    # A regular init container failed and the pod's restartPolicy is Never: the pod has failed.
    failed: bool = False


def _sidecar_kill(
    c: core_pb2.Container, status: ContainerStatus, unhealthy: HealthCheck | None
) -> ContainerToKill | None:
    """A sidecar whose liveness or startup probe failed: it is killed and restarted."""
    verdict = unhealthy(status) if unhealthy is not None else None
    if verdict is None:
        return None
    probe_type, _ = verdict
    message = f"Init container {c.name} failed {probe_type.lower()} probe"
    return ContainerToKill(status, c, probe_type, message)


def _init_actions(
    pod: core_pb2.Pod,
    rp: RuntimePod,
    sandbox_id: str,
    actions: PodActions,
    unhealthy: HealthCheck | None,
    started: StartedCheck | None,
) -> _InitActions:
    """Where initialization stands in the current sandbox, the init containers to start and the
    sidecars to kill. Walks the init containers backwards: the newest one that ran tells how far
    initialization got (the instances of earlier ones may have been removed since); the sidecars
    before it are kept running."""
    inits = list(pod.spec.init_containers)
    out = _InitActions()
    # An app container created in this sandbox means initialization finished before.
    out.initialized = any(rp.latest_in(c.name, sandbox_id) for c in pod.spec.containers)
    reached = out.initialized  # whether a later init container ran
    for i in range(len(inits) - 1, -1, -1):
        c = inits[i]
        sidecar = is_sidecar(c)
        status = rp.latest_in(c.name, sandbox_id)
        if status is None:
            if reached and sidecar:
                out.to_start.append(c)  # its instance is gone: a sidecar must run
            continue
        if reached and not sidecar:
            continue  # it completed before
        last = i == len(inits) - 1
        if status.state == ContainerState.CREATED:
            out.to_start.append(c)  # created but never started: start it afresh
        elif status.state == ContainerState.RUNNING:
            if sidecar:
                kill = _sidecar_kill(c, status, unhealthy)
                if started is not None and not started(status):
                    # Until its startup probe passes, the next init container waits.
                    if kill is not None:
                        actions.containers_to_kill.append(kill)
                        out.to_start.append(c)
                else:
                    if last:
                        out.initialized = True
                    elif not reached:
                        out.to_start.append(inits[i + 1])
                    if kill is not None:
                        actions.containers_to_kill.append(kill)
                        out.to_start.append(c)
            # A regular init container that runs: wait for it to finish.
        elif status.state == ContainerState.EXITED:
            if sidecar:
                out.to_start.append(c)
            elif status.exit_code != 0:
                if restart_policy(pod) == "Never":
                    out.failed = True
                    out.to_start = []
                    return out
                out.to_start.append(c)
            elif last:
                out.initialized = True
            else:
                out.to_start.append(inits[i + 1])
        else:  # unknown: kill whatever may still run, then start it again
            if not sidecar and restart_policy(pod) == "Never":
                out.failed = True
                out.to_start = []
                return out
            out.to_start.append(c)
        reached = True
    if not reached:
        out.to_start.append(inits[0])
    return out


def compute_pod_actions(
    pod: core_pb2.Pod,
    rp: RuntimePod,
    unhealthy: HealthCheck | None = None,
    started: StartedCheck | None = None,
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
            actions.init_containers_to_start = [pod.spec.init_containers[0]]
        else:
            actions.containers_to_start = [
                c
                for c in pod.spec.containers
                if not (policy == "OnFailure" and _succeeded(rp.latest(c.name)))
            ]
        return actions

    if pod.spec.init_containers:
        init = _init_actions(pod, rp, sandbox.id, actions, unhealthy, started)
        actions.init_containers_to_start = init.to_start[::-1]
        if init.failed:
            actions.kill_pod = True  # the pod has failed
            return actions
        if not init.initialized:
            return actions

    kept = 0  # app containers that run and stay
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
            continue
        if latest is None or latest.state != ContainerState.RUNNING:
            continue
        verdict = unhealthy(latest) if unhealthy is not None else None
        if verdict is None:
            kept += 1
            continue
        probe_type, message = verdict
        if policy != "Never":
            message += ", will be restarted"
        actions.containers_to_kill.append(ContainerToKill(latest, container, probe_type, message))
    if kept == 0 and not actions.containers_to_start and not actions.containers_to_kill:
        # Every app container is done and none will run again: the pod's work is over, so its
        # sidecars are stopped too (and not restarted), and the sandbox with them.
        actions.kill_pod = True
        actions.init_containers_to_start = []
    return actions


def _succeeded(status: ContainerStatus | None) -> bool:
    return status is not None and status.state == ContainerState.EXITED and status.exit_code == 0
