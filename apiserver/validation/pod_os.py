"""The pod's operating system and what it rules out (kubernetes pkg/apis/core/validation:
validateOS, validateLinux, validateWindows, validateHostUsers, validateWindowsHostProcessPod): a
linux pod has no Windows options; a windows pod none of the Linux-only security settings; a pod in
its own user namespace shares no namespace with the host; HostProcess containers are all or
nothing."""

from __future__ import annotations

from collections.abc import Iterator

from apiserver.objects import Container
from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2

OS_NAMES = ("linux", "windows")
NOT_FOR_WINDOWS = "cannot be set for a windows pod"
NOT_FOR_LINUX = "windows options cannot be set for a linux pod"
# The container security context fields a windows pod may not set, in Kubernetes' order.
_WINDOWS_FORBIDDEN_IN_CONTAINERS = (
    ("app_armor_profile", "appArmorProfile"),
    ("se_linux_options", "seLinuxOptions"),
    ("seccomp_profile", "seccompProfile"),
    ("capabilities", "capabilities"),
    ("read_only_root_filesystem", "readOnlyRootFilesystem"),
    ("privileged", "privileged"),
    ("allow_privilege_escalation", "allowPrivilegeEscalation"),
    ("proc_mount", "procMount"),
    ("run_as_user", "runAsUser"),
    ("run_as_group", "runAsGroup"),
)


def containers_with_paths(spec: core_pb2.PodSpec, path: str) -> Iterator[tuple[Container, str]]:
    """Every container with its path, init first (podshelper.VisitContainersWithPath)."""
    for i, c in enumerate(spec.init_containers):
        yield c, f"{path}.initContainers[{i}]"
    for i, c in enumerate(spec.containers):
        yield c, f"{path}.containers[{i}]"
    for i, ec in enumerate(spec.ephemeral_containers):
        yield ec, f"{path}.ephemeralContainers[{i}]"


def os_rules(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    """spec.os: a known name, then the fields that name rules out."""
    if not spec.HasField("os"):
        return []
    name = spec.os.name
    if not name:
        return [fields.required(f"{path}.os.name", "cannot be empty")]
    if name not in OS_NAMES:
        return [fields.unsupported(f"{path}.os", name, OS_NAMES)]
    return _linux(spec, path) if name == "linux" else _windows(spec, path)


def _linux(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.security_context.HasField("windows_options"):
        errs.append(fields.forbidden(f"{path}.securityContext.windowsOptions", NOT_FOR_LINUX))
    for c, c_path in containers_with_paths(spec, path):
        if c.security_context.HasField("windows_options"):
            errs.append(fields.forbidden(f"{c_path}.securityContext.windowsOptions", NOT_FOR_LINUX))
    return errs


def _windows(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    sc = spec.security_context
    sc_path = f"{path}.securityContext"
    pod_level = (
        (sc.HasField("app_armor_profile"), f"{sc_path}.appArmorProfile"),
        (sc.HasField("se_linux_options"), f"{sc_path}.seLinuxOptions"),
        (spec.HasField("host_users"), f"{path}.hostUsers"),
        (spec.host_pid, f"{path}.hostPID"),
        (spec.host_ipc, f"{path}.hostIPC"),
        (sc.HasField("seccomp_profile"), f"{sc_path}.seccompProfile"),
        (sc.HasField("fs_group"), f"{sc_path}.fsGroup"),
        (sc.HasField("fs_group_change_policy"), f"{sc_path}.fsGroupChangePolicy"),
        (bool(sc.sysctls), f"{sc_path}.sysctls"),
        (spec.HasField("share_process_namespace"), f"{path}.shareProcessNamespace"),
        (sc.HasField("run_as_user"), f"{sc_path}.runAsUser"),
        (sc.HasField("run_as_group"), f"{sc_path}.runAsGroup"),
        (bool(sc.supplemental_groups), f"{sc_path}.supplementalGroups"),
        (sc.HasField("supplemental_groups_policy"), f"{sc_path}.supplementalGroupsPolicy"),
    )
    errs = [fields.forbidden(p, NOT_FOR_WINDOWS) for is_set, p in pod_level if is_set]
    for c, c_path in containers_with_paths(spec, path):
        if not c.HasField("security_context"):
            continue
        csc = c.security_context
        errs += [
            fields.forbidden(f"{c_path}.securityContext.{json_name}", NOT_FOR_WINDOWS)
            for name, json_name in _WINDOWS_FORBIDDEN_IN_CONTAINERS
            if csc.HasField(name)
        ]
    return errs


def host_users(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    """With hostUsers false the pod has a user namespace of its own: no host namespaces."""
    if not spec.HasField("host_users") or spec.host_users:
        return []
    detail = "when `pod.Spec.HostUsers` is false"
    # Kubernetes names two of them in Go's capitals.
    return [
        fields.forbidden(f"{path}.{name}", detail)
        for on, name in (
            (spec.host_network, "hostNetwork"),
            (spec.host_pid, "HostPID"),
            (spec.host_ipc, "HostIPC"),
        )
        if on
    ]


def windows_host_process(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    """HostProcess containers: every container is one, or none; they need hostNetwork."""
    pod_options = spec.security_context.windows_options
    pod_value = pod_options.host_process if pod_options.HasField("host_process") else None
    errs: list[FieldError] = []
    count = host_process_count = 0
    for c, c_path in containers_with_paths(spec, path):
        count += 1
        options = c.security_context.windows_options
        value = options.host_process if options.HasField("host_process") else None
        if pod_value is not None and value is not None and pod_value != value:
            errs.append(
                fields.invalid(
                    f"{c_path}.securityContext.windowsOptions.hostProcess",
                    value,
                    "pod hostProcess value must be identical if both are specified, was "
                    f"{str(pod_value).lower()}",
                )
            )
        if value or (value is None and pod_value):
            host_process_count += 1
    if host_process_count:
        if host_process_count != count:
            errs.append(
                fields.invalid(
                    path,
                    "",
                    "If pod contains any hostProcess containers then all containers must be "
                    "HostProcess containers",
                )
            )
        if not spec.host_network:
            errs.append(
                fields.invalid(
                    f"{path}.hostNetwork",
                    False,
                    "hostNetwork must be true if pod contains any hostProcess containers",
                )
            )
    return errs
