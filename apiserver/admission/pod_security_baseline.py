"""The baseline Pod Security Standard's checks (k8s.io/pod-security-admission/policy, the
baseline check_*.go files), in the order Kubernetes runs them (its files' order) and with its
words: each failed check is `reason (detail)`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from apiserver.objects import Container, pod_containers
from podplane.api.core.v1 import core_pb2

Check = Callable[[core_pb2.Pod], str | None]

# The capabilities a container may add at baseline (policy/check_capabilities_baseline.go).
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
# The safe sysctls of the latest policy (1.0's, 1.27's ip_local_reserved_ports, 1.29's keepalives).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)


def plural(singular: str, many: str, n: int) -> str:
    return singular if n == 1 else many


def quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def containers_named(names: list[str]) -> str:
    """`container "a"` or `containers "a", "b"`."""
    return f"{plural('container', 'containers', len(names))} {quoted(names)}"


def setters(pod_bad: bool, containers: list[str]) -> str:
    """Who set a bad value: `pod`, `container "a"`, or `pod and containers "a", "b"`."""
    parts = (["pod"] if pod_bad else []) + ([containers_named(containers)] if containers else [])
    return " and ".join(parts)


def _app_armor_profile(pod: core_pb2.Pod) -> str | None:
    """check_appArmorProfile: no Unconfined profile, by field or annotation."""
    bad_values: set[str] = set()
    pod_bad = False
    sc = pod.spec.security_context
    if sc.HasField("app_armor_profile") and sc.app_armor_profile.type not in (
        "RuntimeDefault",
        "Localhost",
    ):
        pod_bad = True
        bad_values.add(sc.app_armor_profile.type)
    bad: list[str] = []
    for c in pod_containers(pod.spec):
        profile = c.security_context.app_armor_profile
        if c.security_context.HasField("app_armor_profile") and profile.type not in (
            "RuntimeDefault",
            "Localhost",
        ):
            bad.append(c.name)
            bad_values.add(profile.type)
    annotations = sorted(
        f'{key}="{value}"'
        for key, value in pod.metadata.annotations.items()
        if key.startswith(APPARMOR_PREFIX)
        and value
        and value != "runtime/default"
        and not value.startswith("localhost/")
    )
    who = setters(pod_bad, bad)
    if annotations:
        who = " and ".join(
            p for p in (who, plural("annotation", "annotations", len(annotations))) if p
        )
    values = sorted(bad_values) + annotations
    if not who:
        return None
    return (
        f"{plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', len(values))} "
        f"({who} must not set securityContext.appArmorProfile.type to {quoted(values)})"
    )


def _capabilities(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    caps: list[str] = []
    for c in pod_containers(pod.spec):
        extra = [a for a in c.security_context.capabilities.add if a not in BASELINE_CAPABILITIES]
        if extra:
            bad.append(c.name)
            caps += [a for a in extra if a not in caps]
    if not bad:
        return None
    return (
        f"non-default capabilities ({containers_named(bad)} must not include "
        f"{quoted(sorted(caps))} in securityContext.capabilities.add)"
    )


def _host_namespaces(pod: core_pb2.Pod) -> str | None:
    used = [
        f"{f}=true"
        for f, on in (
            ("hostNetwork", pod.spec.host_network),
            ("hostPID", pod.spec.host_pid),
            ("hostIPC", pod.spec.host_ipc),
        )
        if on
    ]
    return f"host namespaces ({', '.join(used)})" if used else None


def _host_path_volumes(pod: core_pb2.Pod) -> str | None:
    bad = [v.name for v in pod.spec.volumes if v.HasField("host_path")]
    if not bad:
        return None
    return f"hostPath volumes ({plural('volume', 'volumes', len(bad))} {quoted(bad)})"


def _host_ports(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    ports: list[int] = []
    for c in pod_containers(pod.spec):
        used = [p.host_port for p in c.ports if p.host_port]
        if used:
            bad.append(c.name)
            ports += [p for p in used if p not in ports]
    if not bad:
        return None
    n = len(bad)
    return (
        f"hostPort ({containers_named(bad)} {plural('uses', 'use', n)} "
        f"{plural('hostPort', 'hostPorts', len(ports))} "
        f"{', '.join(str(p) for p in sorted(ports))})"
    )


def _privileged(pod: core_pb2.Pod) -> str | None:
    bad = [c.name for c in pod_containers(pod.spec) if c.security_context.privileged]
    if not bad:
        return None
    return f"privileged ({containers_named(bad)} must not set securityContext.privileged=true)"


def _proc_mount(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    values: set[str] = set()
    for c in pod_containers(pod.spec):
        sc = c.security_context
        if sc.HasField("proc_mount") and sc.proc_mount != "Default":
            bad.append(c.name)
            values.add(sc.proc_mount)
    if not bad:
        return None
    return (
        f"procMount ({containers_named(bad)} must not set securityContext.procMount to "
        f"{quoted(sorted(values))})"
    )


def _se_linux_options(pod: core_pb2.Pod) -> str | None:
    bad_types: set[str] = set()
    user = role = False

    def valid(options: core_pb2.SELinuxOptions) -> bool:
        nonlocal user, role
        ok = True
        if options.type not in SELINUX_TYPES:
            ok = False
            bad_types.add(options.type)
        if options.user:
            ok, user = False, True
        if options.role:
            ok, role = False, True
        return ok

    sc = pod.spec.security_context
    pod_bad = sc.HasField("se_linux_options") and not valid(sc.se_linux_options)
    bad = [
        c.name
        for c in pod_containers(pod.spec)
        if c.security_context.HasField("se_linux_options")
        and not valid(c.security_context.se_linux_options)
    ]
    if not pod_bad and not bad:
        return None
    data: list[str] = []
    if bad_types:
        data.append(f"{plural('type', 'types', len(bad_types))} {quoted(sorted(bad_types))}")
        if user:
            data.append("user may not be set")
        if role:
            data.append("role may not be set")
    return (
        f"seLinuxOptions ({setters(pod_bad, bad)} set forbidden securityContext.seLinuxOptions: "
        f"{'; '.join(data)})"
    )


def _seccomp_profile(pod: core_pb2.Pod) -> str | None:
    """check_seccompProfile_baseline: no Unconfined (nor any unknown) profile."""
    values: set[str] = set()
    sc = pod.spec.security_context
    pod_bad = sc.HasField("seccomp_profile") and sc.seccomp_profile.type not in (
        "RuntimeDefault",
        "Localhost",
    )
    if pod_bad:
        values.add(sc.seccomp_profile.type)
    bad: list[str] = []
    for c in pod_containers(pod.spec):
        profile = c.security_context.seccomp_profile
        if c.security_context.HasField("seccomp_profile") and profile.type not in (
            "RuntimeDefault",
            "Localhost",
        ):
            bad.append(c.name)
            values.add(profile.type)
    if not pod_bad and not bad:
        return None
    return (
        f"seccompProfile ({setters(pod_bad, bad)} must not set securityContext.seccompProfile.type "
        f"to {quoted(sorted(values))})"
    )


def _sysctls(pod: core_pb2.Pod) -> str | None:
    bad = [s.name for s in pod.spec.security_context.sysctls if s.name not in SAFE_SYSCTLS]
    return f"forbidden sysctls ({', '.join(bad)})" if bad else None


def _host_process(c: Container) -> bool:
    options = c.security_context.windows_options
    return options.HasField("host_process") and options.host_process


def _windows_host_process(pod: core_pb2.Pod) -> str | None:
    options = pod.spec.security_context.windows_options
    pod_bad = options.HasField("host_process") and options.host_process
    bad = [c.name for c in pod_containers(pod.spec) if _host_process(c)]
    if not pod_bad and not bad:
        return None
    return (
        f"hostProcess ({setters(pod_bad, bad)} must not set "
        "securityContext.windowsOptions.hostProcess=true)"
    )


# The checks that run at baseline and restricted alike, in Kubernetes' order.
CHECKS: tuple[Check, ...] = (
    _app_armor_profile,
    _capabilities,
    _host_namespaces,
    _host_path_volumes,
    _host_ports,
    _privileged,
    _proc_mount,
    _se_linux_options,
    _sysctls,
    _windows_host_process,
)
# Run at baseline only: restricted's own seccomp check says more.
OVERLAPPING_CHECKS: tuple[Check, ...] = (_seccomp_profile,)
