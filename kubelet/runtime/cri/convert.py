"""The kubelet's runtime types <-> the CRI's messages (runtime.v1), as kuberuntime fills them:
a sandbox's PodSandboxConfig, a container's ContainerConfig with its Linux resources and security
context, and the statuses the runtime reports back."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from kubelet.runtime import labels as L
from kubelet.runtime.types import (
    LOCALHOST,
    UNCONFINED,
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    ImageInfo,
    SandboxConfig,
    SandboxStatus,
    SecurityProfile,
)
from podplane.api.cri import api_pb2 as cri

# Annotations the kubelet reads back (kuberuntime's labels.go keeps these as annotations): whether
# a sandbox is privileged, whether a container has a terminal (an attach asks with the same).
PRIVILEGED = "io.podplane.sandbox.privileged"
# The pod's cgroup, kept where a restarted kubelet finds it (its containers are created in it).
CGROUP_PARENT = "io.podplane.sandbox.cgroup-parent"
TTY = "io.podplane.container.tty"
STDIN_ONCE = "io.podplane.container.stdinOnce"
# The CFS period kuberuntime sets with a CPU limit (quota = limit x period).
CPU_PERIOD = 100_000
# The state of a container that the privileged stand-in (kubelet/container/security_context.py)
# describes: every device, no profiles. The CRI says it as `privileged`, which gives the
# capabilities the runtime itself holds (containerd's oci.WithPrivileged).
PRIVILEGED_DEVICES = "a *:* rwm"
# What containerd reports for an ordinary exit; the kubelet's own reasons come from the exit code.
_PLAIN_EXIT_REASONS = frozenset({"Completed", "Error"})


def cri_time(nanoseconds: int) -> str:
    """A CRI time (nanoseconds since the epoch) -> Kubernetes' second precision; "" for none."""
    if nanoseconds <= 0:
        return ""
    moment = datetime.datetime.fromtimestamp(nanoseconds / 1e9, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_log_directory(root: str, pod_namespace: str, pod_name: str, pod_uid: str) -> str:
    """/var/log/pods/<namespace>_<name>_<uid> (kuberuntime's BuildPodLogsDirectory)."""
    return f"{root.rstrip('/')}/{pod_namespace}_{pod_name}_{pod_uid}"


def container_log_path(container: str, restart_count: int) -> str:
    """<container>/<restart count>.log, under the pod's log directory."""
    return f"{container}/{restart_count}.log"


def _profile(profile: SecurityProfile | None) -> cri.SecurityProfile | None:
    if profile is None:
        return None
    kinds = {
        UNCONFINED: cri.SecurityProfile.Unconfined,
        LOCALHOST: cri.SecurityProfile.Localhost,
    }
    kind = kinds.get(profile.kind, cri.SecurityProfile.RuntimeDefault)
    return cri.SecurityProfile(profile_type=kind, localhost_ref=profile.localhost_ref)


def sandbox_config(
    config: SandboxConfig, log_root: str, node_labels: Mapping[str, str]
) -> cri.PodSandboxConfig:
    pod = config.pod
    pid = cri.POD if config.share_process_namespace else cri.CONTAINER
    namespaces = cri.NamespaceOption(
        network=cri.NODE if config.host_network else cri.POD, pid=pid, ipc=cri.POD
    )
    dns = config.dns
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(
            name=pod.name, uid=pod.uid, namespace=pod.namespace, attempt=config.attempt
        ),
        # On the node's network the node's own name stays (kuberuntime leaves it empty).
        hostname="" if config.host_network else config.hostname,
        log_directory=pod_log_directory(log_root, pod.namespace, pod.name, pod.uid),
        dns_config=(
            cri.DNSConfig(servers=dns.servers, searches=dns.searches, options=dns.options)
            if dns is not None
            else None
        ),
        labels={**config.labels, **node_labels, **L.pod_labels(pod)},
        annotations={
            L.GRACE_PERIOD: str(config.termination_grace_seconds),
            PRIVILEGED: "true" if config.privileged else "false",
            CGROUP_PARENT: config.cgroup_parent,
        },
        linux=cri.LinuxPodSandboxConfig(
            cgroup_parent=config.cgroup_parent,
            sysctls=dict(config.sysctls),
            security_context=cri.LinuxSandboxSecurityContext(
                namespace_options=namespaces, privileged=config.privileged
            ),
        ),
    )


def _user(user: str | None) -> tuple[int | None, int | None, str]:
    """Docker's "uid[:gid]" -> (uid, gid, user name)."""
    if not user:
        return None, None, ""
    name, _, group = user.partition(":")
    gid = int(group) if group.isdigit() else None
    if name.isdigit():
        return int(name), gid, ""
    return None, gid, name


def _security_context(config: ContainerConfig) -> cri.LinuxContainerSecurityContext:
    options = set(config.security_opt)
    privileged = config.privileged or PRIVILEGED_DEVICES in config.device_cgroup_rules
    uid, gid, username = _user(config.user)
    seccomp, apparmor = config.seccomp, config.apparmor
    if "seccomp=unconfined" in options:
        seccomp = SecurityProfile(UNCONFINED)
    if "apparmor=unconfined" in options:
        apparmor = SecurityProfile(UNCONFINED)
    pid = cri.CONTAINER
    if config.pid_namespace_of:
        pid = cri.TARGET
    elif config.share_process_namespace:
        pid = cri.POD
    context = cri.LinuxContainerSecurityContext(
        capabilities=cri.Capability(
            add_capabilities=[] if privileged else list(config.cap_add),
            drop_capabilities=[] if privileged else list(config.cap_drop),
        ),
        privileged=privileged,
        namespace_options=cri.NamespaceOption(
            network=cri.POD, pid=pid, ipc=cri.POD, target_id=config.pid_namespace_of
        ),
        run_as_username=username,
        readonly_rootfs=config.read_only_rootfs,
        no_new_privs="no-new-privileges" in options,
        seccomp=None if privileged else _profile(seccomp),
        apparmor=None if privileged else _profile(apparmor),
    )
    if uid is not None:
        context.run_as_user.value = uid
    if gid is not None:
        context.run_as_group.value = gid
    if config.selinux is not None:
        context.selinux_options.CopyFrom(
            cri.SELinuxOption(
                user=config.selinux.user,
                role=config.selinux.role,
                type=config.selinux.type,
                level=config.selinux.level,
            )
        )
    return context


def _resources(config: ContainerConfig) -> cri.LinuxContainerResources:
    resources = cri.LinuxContainerResources(cpu_shares=config.cpu_shares or 0)
    if config.nano_cpus:
        resources.cpu_period = CPU_PERIOD
        resources.cpu_quota = config.nano_cpus * CPU_PERIOD // 1_000_000_000
    if config.memory_limit:
        resources.memory_limit_in_bytes = config.memory_limit
        # No swap beyond the limit, as kuberuntime's NoSwap.
        resources.memory_swap_limit_in_bytes = config.memory_limit
    return resources


def container_config(
    config: ContainerConfig, node_labels: Mapping[str, str]
) -> cri.ContainerConfig:
    return cri.ContainerConfig(
        metadata=cri.ContainerMetadata(name=config.name, attempt=config.restart_count),
        image=cri.ImageSpec(image=config.image),
        # The CRI's command replaces the image's ENTRYPOINT and args its CMD, as Docker's.
        command=list(config.entrypoint or ()),
        args=list(config.cmd or ()),
        working_dir=config.working_dir,
        envs=[cri.KeyValue(key=k, value=v) for k, v in config.env],
        mounts=[
            cri.Mount(
                container_path=m.container_path,
                host_path=m.host_path,
                readonly=m.read_only,
                recursive_read_only=m.recursive_read_only,
            )
            for m in config.mounts
        ],
        labels={
            **config.labels,
            **node_labels,
            **L.pod_labels(config.pod),
            L.CONTAINER_NAME: config.name,
        },
        annotations={
            L.RESTART_COUNT: str(config.restart_count),
            L.GRACE_PERIOD: str(config.termination_grace_seconds),
            TTY: "true" if config.tty else "false",
            STDIN_ONCE: "true" if config.stdin_once else "false",
        },
        log_path=container_log_path(config.name, config.restart_count),
        stdin=config.stdin,
        stdin_once=config.stdin_once,
        tty=config.tty,
        linux=cri.LinuxContainerConfig(
            resources=_resources(config), security_context=_security_context(config)
        ),
    )


def sandbox_status(sandbox: cri.PodSandbox, ip: str) -> SandboxStatus:
    return SandboxStatus(
        id=sandbox.id,
        pod=L.pod_ref(sandbox.labels),
        attempt=sandbox.metadata.attempt,
        ready=sandbox.state == cri.SANDBOX_READY,
        ip=ip,
        created_at=cri_time(sandbox.created_at),
    )


_STATES = {
    cri.CONTAINER_CREATED: ContainerState.CREATED,
    cri.CONTAINER_RUNNING: ContainerState.RUNNING,
    cri.CONTAINER_EXITED: ContainerState.EXITED,
}


def container_status(
    container: cri.Container, status: cri.ContainerStatus, runtime_type: str = "containerd"
) -> ContainerStatus:
    """A container of the list, with what its status adds (times, exit code, reason);
    `runtime_type` is the runtime's name, the scheme of the container's ID in the pod's status."""
    reason = "" if status.reason in _PLAIN_EXIT_REASONS else status.reason
    state = _STATES.get(status.state, ContainerState.UNKNOWN)
    return ContainerStatus(
        id=container.id,
        pod=L.pod_ref(container.labels),
        name=container.metadata.name,
        sandbox_id=container.pod_sandbox_id,
        restart_count=L.int_label(
            container.annotations, L.RESTART_COUNT, container.metadata.attempt
        ),
        state=state,
        created_at=cri_time(status.created_at or container.created_at),
        started_at=cri_time(status.started_at),
        finished_at=cri_time(status.finished_at),
        exit_code=status.exit_code if state == ContainerState.EXITED else 0,
        reason=reason if state == ContainerState.EXITED else "",
        message=status.message if state == ContainerState.EXITED else "",
        image=status.image.image or container.image.image,
        image_ref=status.image_ref or container.image_ref,
        termination_grace_seconds=L.int_label(container.annotations, L.GRACE_PERIOD, 30),
        recursive_read_only_paths=frozenset(
            m.container_path for m in status.mounts if m.recursive_read_only
        ),
        runtime_type=runtime_type,
        # kuberuntime shows the CRI's image ref as it is (docker.io/library/busybox@sha256:...).
        image_id=status.image_ref or container.image_ref,
    )


def image_info(image: cri.Image) -> ImageInfo:
    return ImageInfo(
        id=image.id,
        repo_digests=tuple(image.repo_digests),
        size=image.size,
        repo_tags=tuple(image.repo_tags),
    )
