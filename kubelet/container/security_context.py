"""A container's effective security context (the container's fields win over the pod's) -> the
runtime's user, capabilities, privilege and read-only root (kuberuntime's
security_context.go and determineEffectiveSecurityContext).

`privileged: true` means "the node's capabilities". Docker's own --privileged asks for every
capability the kernel has; where the node's bounding set lacks some (a Docker-in-Docker node that is
itself not privileged, e.g. without CAP_SYS_RESOURCE) runc refuses it ("unable to apply caps").
There the container gets every capability of the node's bounding set instead, with what else
privileged gives: no seccomp or AppArmor profile, every device, and /proc unmasked (/proc/sys
writable: kube-proxy sets its sysctls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kubelet.container.env import ContainerConfigError
from podplane.api.core.v1 import core_pb2

# Capability numbers -> names (linux/capability.h), up to CAP_AUDIT_READ: the ones every Docker
# engine in use knows (20.10 refuses the newer PERFMON, BPF and CHECKPOINT_RESTORE by name).
CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
)


@dataclass(frozen=True)
class NodeCapabilities:
    """The node's capability bounding set and the highest capability its kernel knows."""

    bounding: int
    last_cap: int

    @property
    def complete(self) -> bool:
        """Whether the node holds every capability (then the engine's privileged mode works)."""
        full = (1 << (self.last_cap + 1)) - 1
        return self.bounding & full == full

    def names(self) -> list[str]:
        return [name for i, name in enumerate(CAPABILITIES) if self.bounding >> i & 1]


def parse_cap_bnd(proc_status: str) -> int:
    for line in proc_status.splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split(":", 1)[1].strip(), 16)
    raise ValueError("no CapBnd line in /proc/self/status")


@lru_cache(maxsize=1)
def node_capabilities() -> NodeCapabilities:
    """Read once: the kubelet runs in the node, next to its container engine."""
    try:
        bounding = parse_cap_bnd(Path("/proc/self/status").read_text())
        last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return NodeCapabilities(
            bounding=(1 << len(CAPABILITIES)) - 1, last_cap=len(CAPABILITIES) - 1
        )
    return NodeCapabilities(bounding=bounding, last_cap=last_cap)


# What Docker's privileged mode gives besides capabilities, for the capability-based stand-in.
# (The CLI's systempaths=unconfined is not a security option of the engine's API.)
PRIVILEGED_SECURITY_OPT = ("seccomp=unconfined", "apparmor=unconfined")
PRIVILEGED_DEVICE_CGROUP_RULES = ("a *:* rwm",)


@dataclass(frozen=True)
class SecurityConfig:
    user: str | None = None
    privileged: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    read_only_rootfs: bool = False
    # The privileged stand-in's unconfined profiles and device access, and no-new-privileges
    # (allowPrivilegeEscalation: false).
    security_opt: Sequence[str] = ()
    device_cgroup_rules: Sequence[str] = ()
    # The privileged stand-in's /proc: no masked or read-only paths, as privileged has it.
    unmasked_proc: bool = False


def _pick(
    sc: core_pb2.SecurityContext, psc: core_pb2.PodSecurityContext, name: str
) -> int | bool | None:
    if sc.HasField(name):
        value: int | bool = getattr(sc, name)
        return value
    if psc.HasField(name):
        pod_value: int | bool = getattr(psc, name)
        return pod_value
    return None


def _strip(cap: str) -> str:
    return cap.upper().removeprefix("CAP_")


def security_config(
    pod: core_pb2.Pod, container: core_pb2.Container, node: NodeCapabilities | None = None
) -> SecurityConfig:
    sc, psc = container.security_context, pod.spec.security_context
    uid = _pick(sc, psc, "run_as_user")
    gid = _pick(sc, psc, "run_as_group")
    if _pick(sc, psc, "run_as_non_root") and uid == 0:
        raise ContainerConfigError(
            f"container's runAsUser breaks non-root policy (pod: \"{pod.metadata.name}_"
            f'{pod.metadata.namespace}({pod.metadata.uid})", container: {container.name})'
        )
    if uid is None:
        user = None if gid is None else f"0:{gid}"
    else:
        user = str(uid) if gid is None else f"{uid}:{gid}"
    cap_add = [_strip(c) for c in sc.capabilities.add]
    cap_drop = [_strip(c) for c in sc.capabilities.drop]
    privileged = sc.privileged
    security_opt: tuple[str, ...] = ()
    device_rules: tuple[str, ...] = ()
    unmasked = False
    if privileged:
        node = node or node_capabilities()
        if not node.complete:
            # The node's capabilities instead of the engine's privileged mode; a privileged
            # container gets everything, so the spec's own add/drop lists do not apply.
            privileged, cap_add, cap_drop = False, node.names(), []
            security_opt, device_rules = PRIVILEGED_SECURITY_OPT, PRIVILEGED_DEVICE_CGROUP_RULES
            unmasked = True
    if (
        sc.HasField("allow_privilege_escalation")
        and not sc.allow_privilege_escalation
        and not sc.privileged
    ):
        security_opt += ("no-new-privileges",)
    return SecurityConfig(
        user=user,
        privileged=privileged,
        cap_add=tuple(cap_add),
        cap_drop=tuple(cap_drop),
        read_only_rootfs=sc.read_only_root_filesystem,
        security_opt=security_opt,
        device_cgroup_rules=device_rules,
        unmasked_proc=unmasked,
    )
