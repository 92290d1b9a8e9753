"""The pod's sysctls against the kubelet's allowlist (pkg/kubelet/sysctl): the safe sysctls of
Kubernetes 1.31, which are namespaced and isolated from other pods, and those the node's admin
allows with --allowed-unsafe-sysctls (names or prefixes ending in *, each known to be in the
network or IPC namespace). A pod asking for another, or for a network sysctl beside the host's
network (an IPC one beside the host's IPC), is rejected: SysctlForbidden, `forbidden sysctl:
"x" not allowlisted`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubelet.admission.rejection import Rejection
from podplane.api.core.v1 import core_pb2

FORBIDDEN_REASON = "SysctlForbidden"
IPC = "ipc"
NET = "net"
MAX_LENGTH = 253
# policy validation's SysctlContainSlashPatternFmt: segments, the last of which may end in *.
_PATTERN_TEXT = r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"
_PATTERN = re.compile(f"^{_PATTERN_TEXT}$")


@dataclass(frozen=True)
class SafeSysctl:
    name: str
    # The kernel that introduced it; older kernels leave it out of the allowlist.
    since_kernel: tuple[int, int] = (0, 0)


# pkg/kubelet/sysctl/safe_sysctls.go, Kubernetes 1.31.
SAFE_SYSCTLS = (
    SafeSysctl("kernel.shm_rmid_forced"),
    SafeSysctl("net.ipv4.ip_local_port_range"),
    SafeSysctl("net.ipv4.tcp_syncookies"),
    SafeSysctl("net.ipv4.ping_group_range"),
    SafeSysctl("net.ipv4.ip_unprivileged_port_start"),
    SafeSysctl("net.ipv4.ip_local_reserved_ports", (3, 16)),
    SafeSysctl("net.ipv4.tcp_keepalive_time", (4, 5)),
    SafeSysctl("net.ipv4.tcp_fin_timeout", (4, 6)),
    SafeSysctl("net.ipv4.tcp_keepalive_intvl", (4, 5)),
    SafeSysctl("net.ipv4.tcp_keepalive_probes", (4, 5)),
)
# component-helpers' sysctl namespaces: the sysctls known to be namespaced, and how.
_NAMESPACES = {"kernel.sem": IPC}
_PREFIX_NAMESPACES = {"kernel.shm": IPC, "kernel.msg": IPC, "fs.mqueue.": IPC, "net.": NET}


def kernel_version(release: str) -> tuple[int, int]:
    """(major, minor) of a kernel release such as 6.1.0-18-amd64; (0, 0) if unreadable."""
    match = re.match(r"(\d+)\.(\d+)", release)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def safe_sysctls(kernel: tuple[int, int]) -> list[str]:
    return [s.name for s in SAFE_SYSCTLS if kernel >= s.since_kernel]


def dotted(name: str) -> str:
    """A sysctl written with slashes (net/ipv4/ip_local_port_range) in its dotted form; a dot
    inside a slash-separated name is a slash of the dotted one (ConvertSysctlVariableToDots)."""
    first = next((c for c in name if c in "./"), ".")
    if first == ".":
        return name
    return name.translate(str.maketrans("./", "/."))


def namespace_of(name: str) -> str:
    if name in _NAMESPACES:
        return _NAMESPACES[name]
    return next((ns for p, ns in _PREFIX_NAMESPACES.items() if name.startswith(p)), "")


class SysctlAllowlist:
    """The sysctls pods may set on this node; ValueError for an allowlist entry Kubernetes
    refuses (the kubelet exits at start)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.sysctls: dict[str, str] = {}
        self.prefixes: dict[str, str] = {}
        for pattern in patterns:
            if len(pattern) > MAX_LENGTH or not _PATTERN.match(pattern):
                raise ValueError(
                    f'sysctl "{pattern}" must have at most {MAX_LENGTH} characters and match '
                    f"regex {_PATTERN_TEXT}"
                )
            name = dotted(pattern)
            if name.endswith("*"):
                namespace = namespace_of(name[:-1])
                if not namespace:
                    raise ValueError(f'the sysctls "{name}" are not known to be namespaced')
                self.prefixes[name[:-1]] = namespace
            else:
                namespace = namespace_of(name)
                if not namespace:
                    raise ValueError(f'the sysctl "{name}" are not known to be namespaced')
                self.sysctls[name] = namespace

    def _check(self, name: str, host_network: bool, host_ipc: bool) -> str | None:
        name = dotted(name)
        namespace = self.sysctls.get(name)
        if namespace is None:
            namespace = next((ns for p, ns in self.prefixes.items() if name.startswith(p)), None)
        if namespace is None:
            return f'"{name}" not allowlisted'
        if (namespace == IPC and host_ipc) or (namespace == NET and host_network):
            return f'"{name}" not allowed with host {namespace} enabled'
        return None

    def admit(self, pod: core_pb2.Pod) -> Rejection | None:
        for sysctl in pod.spec.security_context.sysctls:
            problem = self._check(sysctl.name, pod.spec.host_network, pod.spec.host_ipc)
            if problem is not None:
                return Rejection(FORBIDDEN_REASON, f"forbidden sysctl: {problem}")
        return None


def pod_sysctls(pod: core_pb2.Pod) -> Mapping[str, str]:
    """The sysctls the pod's sandbox is given, by dotted name."""
    return {dotted(s.name): s.value for s in pod.spec.security_context.sysctls}
