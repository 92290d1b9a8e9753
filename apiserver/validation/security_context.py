"""The pod's and the containers' security contexts (kubernetes pkg/apis/core/validation:
validatePodSpecSecurityContext, ValidateSecurityContext and what they call): user and group IDs,
seccomp and AppArmor profiles, sysctl names, procMount, Windows options and the Windows HostProcess
rules. Which sysctls a node allows is the kubelet's business: the API only checks their names."""

from __future__ import annotations

import re

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown
from apiserver.validation.paths import local_descending_path
from podplane.api.core.v1 import core_pb2

PROFILE_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
PROC_MOUNT_TYPES = ("Default", "Unmasked")
FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")
SUPPLEMENTAL_GROUPS_POLICIES = ("Merge", "Strict")
MAX_ID = 2147483647
ID_RANGE = f"must be between 0 and {MAX_ID}, inclusive"
SYSCTL_MAX_LENGTH = 253
_SYSCTL_SEGMENT = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
SYSCTL_PATTERN = f"^({_SYSCTL_SEGMENT}[\\./])*{_SYSCTL_SEGMENT}$"
_SYSCTL = re.compile(SYSCTL_PATTERN)
# The namespaces of namespaced sysctls (component-helpers' sysctl.GetNamespace).
_IPC_SYSCTLS = frozenset(
    {
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
    }
)
MAX_APPARMOR_PROFILE = 4095  # PATH_MAX - 1
MAX_GMSA_SPEC_KIB = 64
MAX_RUN_AS_USER_NAME_DOMAIN = 256
MAX_RUN_AS_USER_NAME_USER = 104
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NETBIOS = re.compile(r'^[^\\/:*?"<>|.][^\\/:*?"<>|]{0,14}$')
_DNS_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_WINDOWS_DOMAIN = re.compile(f"^{_DNS_LABEL}(?:\\.{_DNS_LABEL})*$")
_BAD_USER_CHARS = re.compile(r'["/\\:;|=,+*?<>@\[\]]')
_DOTS_SPACES = re.compile(r"^[. ]+$")


def ids(path: str, sc: core_pb2.SecurityContext | core_pb2.PodSecurityContext) -> list[FieldError]:
    """runAsUser and runAsGroup in range (IsValidUserID, IsValidGroupID)."""
    errs: list[FieldError] = []
    for name, json_name in (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup")):
        if sc.HasField(name) and not 0 <= getattr(sc, name) <= MAX_ID:
            errs.append(fields.invalid(f"{path}.{json_name}", getattr(sc, name), ID_RANGE))
    return errs


def seccomp_profile(
    path: str, sc: core_pb2.SecurityContext | core_pb2.PodSecurityContext
) -> list[FieldError]:
    """validateSeccompProfileField: a known type; localhostProfile with Localhost only."""
    if not sc.HasField("seccomp_profile"):
        return []
    profile = sc.seccomp_profile
    errs: list[FieldError] = []
    if not profile.type:
        errs.append(fields.required(f"{path}.type", "type is required when seccompProfile is set"))
    elif profile.type not in PROFILE_TYPES:
        errs.append(fields.unsupported(f"{path}.type", profile.type, PROFILE_TYPES))
    if profile.type == "Localhost":
        if not profile.HasField("localhost_profile"):
            errs.append(
                fields.required(
                    f"{path}.localhostProfile", "must be set when seccomp type is Localhost"
                )
            )
        else:
            errs += local_descending_path(f"{path}.localhostProfile", profile.localhost_profile)
    elif profile.HasField("localhost_profile"):
        errs.append(
            fields.invalid(
                f"{path}.localhostProfile",
                shown(profile),
                "can only be set when seccomp type is Localhost",
            )
        )
    return errs


def app_armor_profile(
    path: str, sc: core_pb2.SecurityContext | core_pb2.PodSecurityContext
) -> list[FieldError]:
    """ValidateAppArmorProfileField."""
    if not sc.HasField("app_armor_profile"):
        return []
    profile = sc.app_armor_profile
    local_path = f"{path}.localhostProfile"
    if profile.type == "Localhost":
        if not profile.HasField("localhost_profile"):
            return [fields.required(local_path, "must be set when AppArmor type is Localhost")]
        name = profile.localhost_profile
        errs: list[FieldError] = []
        if name.strip() != name:
            errs.append(fields.invalid(local_path, name, "must not be padded with whitespace"))
        elif not name:
            errs.append(fields.required(local_path, "must be set when AppArmor type is Localhost"))
        if len(name.encode()) > MAX_APPARMOR_PROFILE:
            errs.append(
                fields.FieldError(
                    local_path, "Too long", None, f"may not be longer than {MAX_APPARMOR_PROFILE}"
                )
            )
        return errs
    if profile.type in ("RuntimeDefault", "Unconfined"):
        if profile.HasField("localhost_profile"):
            return [
                fields.invalid(
                    local_path,
                    profile.localhost_profile,
                    "can only be set when AppArmor type is Localhost",
                )
            ]
        return []
    if not profile.type:
        return [fields.required(f"{path}.type", "type is required when appArmorProfile is set")]
    return [fields.unsupported(f"{path}.type", profile.type, PROFILE_TYPES)]


def sysctl_namespace(name: str) -> str | None:
    """The namespace a sysctl belongs to: ipc, net, or None for a node-level one."""
    dotted = name.replace("/", ".")
    if dotted in _IPC_SYSCTLS or dotted.startswith("fs.mqueue."):
        return "ipc"
    if dotted.startswith("net."):
        return "net"
    return None


def sysctls(path: str, spec: core_pb2.PodSpec) -> list[FieldError]:
    """validateSysctls: names well formed and unique; none of a namespace the pod shares with
    the host. Whether a sysctl is safe is the kubelet's to judge (--allowed-unsafe-sysctls)."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, sysctl in enumerate(spec.security_context.sysctls):
        p = f"{path}[{i}].name"
        name = sysctl.name
        if not name:
            errs.append(fields.required(p))
        elif len(name) > SYSCTL_MAX_LENGTH or not _SYSCTL.match(name):
            errs.append(
                fields.invalid(
                    p,
                    name,
                    f"must have at most {SYSCTL_MAX_LENGTH} characters and match regex "
                    f"{SYSCTL_PATTERN}",
                )
            )
        elif name in seen:
            errs.append(fields.duplicate(p, name))
        namespace = sysctl_namespace(name)
        if spec.host_network and namespace == "net":
            errs.append(fields.invalid(p, name, "may not be specified when 'hostNetwork' is true"))
        elif spec.host_ipc and namespace == "ipc":
            errs.append(fields.invalid(p, name, "may not be specified when 'hostIPC' is true"))
        seen.add(name)
    return errs


def windows_options(
    path: str, sc: core_pb2.SecurityContext | core_pb2.PodSecurityContext
) -> list[FieldError]:
    """validateWindowsSecurityContextOptions."""
    if not sc.HasField("windows_options"):
        return []
    options = sc.windows_options
    errs: list[FieldError] = []
    if options.HasField("gmsa_credential_spec_name"):
        name = options.gmsa_credential_spec_name
        errs += fields.dns1123_subdomain(f"{path}.gmsaCredentialSpecName", name)
    if options.HasField("gmsa_credential_spec"):
        spec_path = f"{path}.gmsaCredentialSpec"
        spec = options.gmsa_credential_spec
        if not spec:
            errs.append(
                fields.invalid(spec_path, spec, "gmsaCredentialSpec cannot be an empty string")
            )
        elif len(spec.encode()) > MAX_GMSA_SPEC_KIB * 1024:
            errs.append(
                fields.invalid(
                    spec_path,
                    spec,
                    f"gmsaCredentialSpec size must be under {MAX_GMSA_SPEC_KIB} KiB",
                )
            )
    if options.HasField("run_as_user_name"):
        errs += [
            fields.invalid(f"{path}.runAsUserName", options.run_as_user_name, detail)
            for detail in _run_as_user_name(options.run_as_user_name)
        ]
    return errs


def _run_as_user_name(name: str) -> list[str]:
    if not name:
        return ["runAsUserName cannot be an empty string"]
    if _CONTROL.search(name):
        return ["runAsUserName cannot contain control characters"]
    parts = name.split("\\")
    if len(parts) > 2:
        return ["runAsUserName cannot contain more than one backslash"]
    domain, user = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    problems: list[str] = []
    if len(domain) >= MAX_RUN_AS_USER_NAME_DOMAIN:
        problems.append(
            f"runAsUserName's Domain length must be under {MAX_RUN_AS_USER_NAME_DOMAIN} characters"
        )
    if len(parts) == 2 and not (_NETBIOS.match(domain) or _WINDOWS_DOMAIN.match(domain)):
        problems.append("runAsUserName's Domain doesn't match the NetBios nor the DNS format")
    if not user:
        problems.append("runAsUserName's User cannot be empty")
    elif len(user) > MAX_RUN_AS_USER_NAME_USER:
        problems.append(
            "runAsUserName's User length must not be longer than "
            f"{MAX_RUN_AS_USER_NAME_USER} characters"
        )
    if _DOTS_SPACES.match(user):
        problems.append("runAsUserName's User cannot contain only periods or spaces")
    if _BAD_USER_CHARS.search(user):
        problems.append(
            "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]"
        )
    return problems


def pod_security_context(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    """validatePodSpecSecurityContext: `path` is the pod spec's securityContext."""
    sc = spec.security_context
    errs: list[FieldError] = []
    if sc.HasField("fs_group") and not 0 <= sc.fs_group <= MAX_ID:
        errs.append(fields.invalid(f"{path}.fsGroup", sc.fs_group, ID_RANGE))
    errs += ids(path, sc)
    for i, gid in enumerate(sc.supplemental_groups):
        if not 0 <= gid <= MAX_ID:
            errs.append(fields.invalid(f"{path}.supplementalGroups[{i}]", gid, ID_RANGE))
    if spec.share_process_namespace and spec.host_pid:
        errs.append(
            fields.invalid(
                f"{path}.shareProcessNamespace",
                True,
                "ShareProcessNamespace and HostPID cannot both be enabled",
            )
        )
    errs += sysctls(f"{path}.sysctls", spec)
    if sc.HasField("fs_group_change_policy"):
        policy = sc.fs_group_change_policy
        if policy not in FS_GROUP_CHANGE_POLICIES:
            errs.append(
                fields.unsupported(f"{path}.fsGroupChangePolicy", policy, FS_GROUP_CHANGE_POLICIES)
            )
    errs += seccomp_profile(f"{path}.seccompProfile", sc)
    errs += windows_options(f"{path}.windowsOptions", sc)
    errs += app_armor_profile(f"{path}.appArmorProfile", sc)
    if sc.HasField("supplemental_groups_policy"):
        policy = sc.supplemental_groups_policy
        if policy not in SUPPLEMENTAL_GROUPS_POLICIES:
            errs.append(
                fields.unsupported(
                    f"{path}.supplementalGroupsPolicy", policy, SUPPLEMENTAL_GROUPS_POLICIES
                )
            )
    return errs


def container_security_context(
    path: str, sc: core_pb2.SecurityContext, host_users: bool
) -> list[FieldError]:
    """ValidateSecurityContext: `path` is the container's securityContext. Privileged containers
    are allowed (the cluster's policy, --allow-privileged, is on)."""
    errs = ids(path, sc)
    if sc.HasField("proc_mount"):
        if sc.proc_mount not in PROC_MOUNT_TYPES:
            errs.append(fields.unsupported(f"{path}.procMount", sc.proc_mount, PROC_MOUNT_TYPES))
        if host_users and sc.proc_mount == "Unmasked":
            errs.append(
                fields.invalid(
                    f"{path}.procMount",
                    sc.proc_mount,
                    "`hostUsers` must be false to use `Unmasked`",
                )
            )
    errs += seccomp_profile(f"{path}.seccompProfile", sc)
    if sc.HasField("allow_privilege_escalation") and not sc.allow_privilege_escalation:
        if sc.privileged:
            errs.append(
                fields.invalid(
                    path,
                    shown(sc),
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                )
            )
        if "CAP_SYS_ADMIN" in sc.capabilities.add:
            errs.append(
                fields.invalid(
                    path,
                    shown(sc),
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                    "CAP_SYS_ADMIN",
                )
            )
    errs += windows_options(f"{path}.windowsOptions", sc)
    errs += app_armor_profile(f"{path}.appArmorProfile", sc)
    return errs
