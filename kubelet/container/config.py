"""A Kubernetes Container -> the runtime's ContainerConfig (kuberuntime_container.go's
generateContainerConfig): command and args, environment, resources, security context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from kubelet.container.env import (
    ConfigObjectGetter,
    ContainerConfigError,
    PodContext,
    container_env,
    expand,
    fetch_pod_objects,
)
from kubelet.container.security_context import NodeCapabilities, security_config
from kubelet.container.security_profiles import (
    NodeSecurity,
    ProfileError,
    apparmor_profile,
    seccomp_profile,
    selinux_options,
    unmasked_proc,
)
from kubelet.container.service_env import ServiceLister, pod_service_env
from kubelet.runtime.types import ContainerConfig, Mount, PodRef
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

# The CPU shares of a container that requests no CPU (Kubernetes' MinShares).
MIN_CPU_SHARES = 2


def command_and_args(
    container: core_pb2.Container, env: Mapping[str, str]
) -> tuple[list[str] | None, list[str] | None]:
    """(entrypoint, cmd) for the runtime: `command` replaces the image's ENTRYPOINT (and then the
    image's CMD is not used either), `args` replace its CMD; None keeps the image's own."""
    command = [expand(c, env) for c in container.command]
    args = [expand(a, env) for a in container.args]
    if command:
        return command, args
    if args:
        return None, args
    return None, None


def resource_limits(container: core_pb2.Container) -> tuple[int | None, int | None, int]:
    """(memory limit in bytes, CPU limit in nano CPUs, CPU shares)."""
    limits, requests = container.resources.limits, container.resources.requests
    try:
        memory = quantity.bytes_of(limits["memory"]) if "memory" in limits else None
        nano_cpus = quantity.milli_cpu(limits["cpu"]) * 1_000_000 if "cpu" in limits else None
        cpu_request = requests.get("cpu") or limits.get("cpu")
        shares = (
            max(quantity.milli_cpu(cpu_request) * 1024 // 1000, MIN_CPU_SHARES)
            if cpu_request
            else MIN_CPU_SHARES
        )
    except quantity.QuantityError as e:
        raise ContainerConfigError(f"resources: {e}") from e
    return memory, nano_cpus or None, shares


def grace_period(pod: core_pb2.Pod) -> int:
    spec = pod.spec
    return (
        int(spec.termination_grace_period_seconds)
        if spec.HasField("termination_grace_period_seconds")
        else 30
    )


def build_container_config(
    pod: core_pb2.Pod,
    container: core_pb2.Container,
    restart_count: int,
    mounts: Sequence[Mount],
    ctx: PodContext,
    node: NodeCapabilities | None = None,
    env: Sequence[tuple[str, str]] | None = None,
    profiles: NodeSecurity | None = None,
) -> ContainerConfig:
    """The runtime config; ctx.objects must hold the ConfigMaps and Secrets the container's env
    names (with_pod_objects), unless the caller has computed `env` (container_env) already."""
    env = list(env) if env is not None else container_env(pod, container, ctx)
    entrypoint, cmd = command_and_args(container, dict(env))
    memory, nano_cpus, shares = resource_limits(container)
    security = security_config(pod, container, node)
    profiles = profiles or NodeSecurity()
    try:
        seccomp = seccomp_profile(pod, container, profiles.root_dir, profiles.seccomp_default)
    except ProfileError as e:
        raise ContainerConfigError(str(e)) from e
    return ContainerConfig(
        pod=PodRef(uid=pod.metadata.uid, name=pod.metadata.name, namespace=pod.metadata.namespace),
        name=container.name,
        image=container.image,
        restart_count=restart_count,
        entrypoint=entrypoint,
        cmd=cmd,
        env=env,
        working_dir=container.working_dir,
        mounts=tuple(mounts),
        memory_limit=memory,
        nano_cpus=nano_cpus,
        cpu_shares=shares,
        tty=container.tty,
        stdin=container.stdin,
        stdin_once=container.stdin_once,
        user=security.user,
        privileged=security.privileged,
        cap_add=security.cap_add,
        cap_drop=security.cap_drop,
        read_only_rootfs=security.read_only_rootfs,
        security_opt=security.security_opt,
        seccomp=seccomp,
        apparmor=apparmor_profile(pod, container),
        selinux=selinux_options(pod, container),
        unmasked_proc=unmasked_proc(container) or security.unmasked_proc,
        device_cgroup_rules=security.device_cgroup_rules,
        share_process_namespace=pod.spec.share_process_namespace,
        termination_grace_seconds=grace_period(pod),
    )


async def with_pod_objects(
    ctx: PodContext,
    getter: ConfigObjectGetter | None,
    pod: core_pb2.Pod,
    services: ServiceLister | None = None,
) -> PodContext:
    """ctx with the ConfigMaps and Secrets the pod names, read afresh through getter, and the
    Services' variables as `services` has them now (ContainerConfigError until it has read them
    once)."""
    return replace(
        ctx,
        objects=await fetch_pod_objects(getter, pod),
        service_env=pod_service_env(pod, services),
    )
