"""A pod's status as the kubelet reports it, from the desired Pod, what the runtime reports and why
containers are waiting (kubelet_pods.go generateAPIPodStatus), and the probes' verdicts on
started and ready (of the app containers and sidecars): the runtime's container instances
become containerStatuses, initContainerStatuses and ephemeralContainerStatuses
(convertToAPIContainerStatuses), and those give the phase and the conditions. A pure function of
its inputs: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from kubelet.container.restart import should_restart
from kubelet.runtime.types import ContainerState, ContainerStatus, RuntimePod
from kubelet.status.conditions import kubelet_conditions, merge_conditions
from kubelet.status.phase import TERMINAL_PHASES, get_phase
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar, sidecar_names

# Why a container is not running although it should: (reason, message) by (pod uid, container).
Reasons = Mapping[tuple[str, str], tuple[str, str]]
# Sets started and ready of the running app containers from the probe results.
ProbeVerdicts = Callable[[core_pb2.Pod, Sequence[core_pb2.ContainerStatus]], None]


def generate_pod_status(
    pod: core_pb2.Pod,
    rp: RuntimePod,
    reasons: Reasons,
    host_ip: str,
    now: str,
    probes: ProbeVerdicts | None = None,
) -> core_pb2.PodStatus:
    old = pod.status
    spec = pod.spec
    init_statuses = container_statuses(
        pod, spec.init_containers, rp, old.init_container_statuses, reasons, is_init=True
    )
    statuses = container_statuses(
        pod, spec.containers, rp, old.container_statuses, reasons, is_init=False
    )
    if probes is not None:
        # Sidecars are probed as app containers are; init containers that run to completion
        # are not.
        sidecar_statuses = [s for s in init_statuses if s.name in sidecar_names(spec)]
        probes(pod, sidecar_statuses + statuses)
    phase = get_phase(spec, init_statuses, statuses)
    if old.phase in TERMINAL_PHASES:
        phase = old.phase  # a finished pod never runs again
    sandbox = rp.latest_sandbox()
    sandbox_ready = sandbox is not None and sandbox.ready

    status = core_pb2.PodStatus(
        phase=phase,
        message=old.message,
        reason=old.reason,
        nominated_node_name=old.nominated_node_name,
        qos_class=old.qos_class,
        start_time=old.start_time or now,
        host_ip=host_ip,
    )
    status.host_ips.add(ip=host_ip)
    pod_ip = (host_ip if spec.host_network else sandbox.ip) if sandbox_ready and sandbox else ""
    if pod_ip:
        status.pod_ip = pod_ip
        status.pod_ips.add(ip=pod_ip)
    else:  # the sandbox is gone (e.g. a finished pod): the pod keeps the IP it had
        status.pod_ip = old.pod_ip
        status.pod_ips.extend(old.pod_ips)
    status.init_container_statuses.extend(init_statuses)
    status.container_statuses.extend(statuses)
    status.ephemeral_container_statuses.extend(ephemeral_statuses(pod, rp, reasons))
    conditions = kubelet_conditions(
        spec, sandbox_ready, init_statuses, statuses, phase, old.conditions
    )
    status.conditions.extend(merge_conditions(old.conditions, conditions, now))
    return status


def container_statuses(
    pod: core_pb2.Pod,
    containers: Sequence[core_pb2.Container],
    rp: RuntimePod,
    old: Sequence[core_pb2.ContainerStatus],
    reasons: Reasons,
    is_init: bool,
) -> list[core_pb2.ContainerStatus]:
    old_by_name = {s.name: s for s in old}
    default_reason = (
        "PodInitializing" if pod.spec.init_containers and not is_init else "ContainerCreating"
    )
    result = []
    for container in containers:
        runs_to_completion = is_init and not is_sidecar(container)
        instances = rp.instances(container.name)
        latest = instances[0] if instances else None
        status = core_pb2.ContainerStatus(name=container.name, image=container.image)
        if latest is None:
            previous = old_by_name.get(container.name)
            if previous is not None and previous.state.HasField("terminated"):
                status.CopyFrom(previous)  # its instance is gone; what it did stays reported
            else:
                status.state.CopyFrom(_waiting(default_reason))
                status.started = False
                if previous is not None:
                    status.restart_count = previous.restart_count
                    if previous.last_state.ListFields():
                        status.last_state.CopyFrom(previous.last_state)
        else:
            status.state.CopyFrom(api_state(latest))
            status.container_id = latest.container_uri
            status.image_id = latest.image_uri
            status.restart_count = latest.restart_count
            if len(instances) > 1 and instances[1].state == ContainerState.EXITED:
                status.last_state.CopyFrom(api_state(instances[1]))
            status.volume_mounts.extend(volume_mount_statuses(container.volume_mounts, latest))
            running = latest.state == ContainerState.RUNNING
            status.started = running
            status.ready = (
                (latest.state == ContainerState.EXITED and latest.exit_code == 0)
                if runs_to_completion
                else running
            )

        init_done = (
            runs_to_completion
            and latest is not None
            and latest.state == ContainerState.EXITED
            and latest.exit_code == 0
        )
        reason = reasons.get((pod.metadata.uid, container.name))
        if reason is not None and not init_done and should_restart(pod, latest, container):
            if status.state.HasField("terminated"):
                status.last_state.CopyFrom(status.state)
            status.state.CopyFrom(_waiting(*reason))
            status.ready = False
            status.started = False
        result.append(status)
    return result


def volume_mount_statuses(
    mounts: Sequence[core_pb2.VolumeMount], instance: ContainerStatus
) -> list[core_pb2.VolumeMountStatus]:
    """containerStatuses[].volumeMounts (RecursiveReadOnlyMounts, beta in 1.31): each mount, and
    for a read-only one whether the runtime made it recursively read-only."""
    statuses = []
    for vm in mounts:
        status = core_pb2.VolumeMountStatus(
            name=vm.name, mount_path=vm.mount_path, read_only=vm.read_only
        )
        if vm.read_only:
            recursive = vm.mount_path in instance.recursive_read_only_paths
            status.recursive_read_only = "Enabled" if recursive else "Disabled"
        statuses.append(status)
    return statuses


def ephemeral_statuses(
    pod: core_pb2.Pod, rp: RuntimePod, reasons: Reasons
) -> list[core_pb2.ContainerStatus]:
    """status.ephemeralContainerStatuses: Waiting until started, then Running, then Terminated for
    good. Never ready: nothing depends on an ephemeral container."""
    old = {s.name: s for s in pod.status.ephemeral_container_statuses}
    result = []
    for ec in pod.spec.ephemeral_containers:
        status = core_pb2.ContainerStatus(name=ec.name, image=ec.image, ready=False)
        latest = rp.latest(ec.name)
        previous = old.get(ec.name)
        reason = reasons.get((pod.metadata.uid, ec.name))
        if latest is not None and latest.state != ContainerState.CREATED:
            status.state.CopyFrom(api_state(latest))
            status.container_id = latest.container_uri
            status.volume_mounts.extend(volume_mount_statuses(ec.volume_mounts, latest))
            status.image_id = latest.image_uri
            status.started = latest.state == ContainerState.RUNNING
        elif previous is not None and ever_ran(previous):
            status.CopyFrom(previous)  # its instance is gone; what it did stays reported
        else:
            status.state.waiting.reason, status.state.waiting.message = reason or (
                "ContainerCreating",
                "",
            )
            status.started = False
        result.append(status)
    return result


def ever_ran(status: core_pb2.ContainerStatus | None) -> bool:
    """Whether the API already reports an instance: a container the kubelet's garbage collection
    removed since must not come back."""
    return status is not None and (
        bool(status.container_id)
        or status.state.HasField("running")
        or status.state.HasField("terminated")
    )


def api_state(c: ContainerStatus) -> core_pb2.ContainerState:
    if c.state == ContainerState.RUNNING:
        return core_pb2.ContainerState(
            running=core_pb2.ContainerStateRunning(started_at=c.started_at)
        )
    if c.state == ContainerState.EXITED:
        reason = c.reason or ("Completed" if c.exit_code == 0 else "Error")
        return core_pb2.ContainerState(
            terminated=core_pb2.ContainerStateTerminated(
                exit_code=c.exit_code,
                reason=reason,
                message=c.message,
                started_at=c.started_at,
                finished_at=c.finished_at,
                container_id=c.container_uri,
            )
        )
    if c.state == ContainerState.CREATED:
        return core_pb2.ContainerState(
            waiting=core_pb2.ContainerStateWaiting(reason="ContainerCreating")
        )
    return core_pb2.ContainerState(
        waiting=core_pb2.ContainerStateWaiting(
            reason="ContainerStatusUnknown", message="The container state could not be read"
        )
    )


def _waiting(reason: str, message: str = "") -> core_pb2.ContainerState:
    return core_pb2.ContainerState(
        waiting=core_pb2.ContainerStateWaiting(reason=reason, message=message)
    )
