"""The restricted Pod Security Standard's own checks (k8s.io/pod-security-admission/policy, the
restricted check_*.go files), run after the baseline ones, in Kubernetes' order and words: no
privilege escalation, every capability dropped but NET_BIND_SERVICE, only volumes that hold no
node's data, non-root users, and a RuntimeDefault or Localhost seccomp profile for every
container."""

from __future__ import annotations

from apiserver.admission.pod_security_baseline import (
    Check,
    containers_named,
    plural,
    quoted,
    setters,
)
from apiserver.objects import pod_containers
from podplane.api.core.v1 import core_pb2

# The volume sources restricted pods may use.
ALLOWED_VOLUMES = (
    "config_map",
    "csi",
    "downward_api",
    "empty_dir",
    "ephemeral",
    "persistent_volume_claim",
    "projected",
    "secret",
)
_VOLUME_JSON_NAMES = {f.name: f.json_name for f in core_pb2.Volume.DESCRIPTOR.fields}


def _windows(pod: core_pb2.Pod) -> bool:
    return pod.spec.HasField("os") and pod.spec.os.name == "windows"


def _allow_privilege_escalation(pod: core_pb2.Pod) -> str | None:
    if _windows(pod):  # 1.25+: not a Windows setting
        return None
    bad = [
        c.name
        for c in pod_containers(pod.spec)
        if not c.security_context.HasField("allow_privilege_escalation")
        or c.security_context.allow_privilege_escalation
    ]
    if not bad:
        return None
    return (
        f"allowPrivilegeEscalation != false ({containers_named(bad)} must set "
        "securityContext.allowPrivilegeEscalation=false)"
    )


def _capabilities(pod: core_pb2.Pod) -> str | None:
    if _windows(pod):
        return None
    missing_drop: list[str] = []
    adding: list[str] = []
    forbidden: set[str] = set()
    for c in pod_containers(pod.spec):
        caps = c.security_context.capabilities
        if "ALL" not in caps.drop:
            missing_drop.append(c.name)
        extra = [a for a in caps.add if a != "NET_BIND_SERVICE"]
        if extra:
            adding.append(c.name)
            forbidden.update(extra)
    details: list[str] = []
    if missing_drop:
        details.append(
            f'{containers_named(missing_drop)} must set securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{containers_named(adding)} must not include {quoted(sorted(forbidden))} in "
            "securityContext.capabilities.add"
        )
    return f"unrestricted capabilities ({'; '.join(details)})" if details else None


def _restricted_volumes(pod: core_pb2.Pod) -> str | None:
    bad: list[str] = []
    kinds: set[str] = set()
    for v in pod.spec.volumes:
        if any(v.HasField(name) for name in ALLOWED_VOLUMES):
            continue
        bad.append(v.name)
        kinds.update(
            _VOLUME_JSON_NAMES[d.name] for d, _ in v.ListFields() if d.message_type is not None
        )
    if not bad:
        return None
    n = len(bad)
    return (
        f"restricted volume types ({plural('volume', 'volumes', n)} {quoted(bad)} "
        f"{plural('uses', 'use', n)} "
        f"{plural('restricted volume type', 'restricted volume types', len(kinds))} "
        f"{quoted(sorted(kinds))})"
    )


def _run_as_non_root(pod: core_pb2.Pod) -> str | None:
    sc = pod.spec.security_context
    pod_bad = sc.HasField("run_as_non_root") and not sc.run_as_non_root
    pod_ok = sc.HasField("run_as_non_root") and sc.run_as_non_root
    explicit: list[str] = []
    implicit: list[str] = []
    for c in pod_containers(pod.spec):
        if c.security_context.HasField("run_as_non_root"):
            if not c.security_context.run_as_non_root:
                explicit.append(c.name)
        elif not pod_ok:
            implicit.append(c.name)
    if pod_bad or explicit:
        return (
            f"runAsNonRoot != true ({setters(pod_bad, explicit)} must not set "
            "securityContext.runAsNonRoot=false)"
        )
    if implicit:
        return (
            f"runAsNonRoot != true (pod or {containers_named(implicit)} must set "
            "securityContext.runAsNonRoot=true)"
        )
    return None


def _run_as_user(pod: core_pb2.Pod) -> str | None:
    sc = pod.spec.security_context
    pod_bad = sc.HasField("run_as_user") and sc.run_as_user == 0
    bad = [
        c.name
        for c in pod_containers(pod.spec)
        if c.security_context.HasField("run_as_user") and c.security_context.run_as_user == 0
    ]
    if not pod_bad and not bad:
        return None
    return f"runAsUser=0 ({setters(pod_bad, bad)} must not set runAsUser=0)"


def _valid_seccomp(profile: core_pb2.SeccompProfile) -> bool:
    return profile.type in ("RuntimeDefault", "Localhost")


def _seccomp_profile(pod: core_pb2.Pod) -> str | None:
    """check_seccompProfile_restricted: a RuntimeDefault or Localhost profile, the pod's or each
    container's own."""
    if _windows(pod):
        return None
    values: set[str] = set()
    sc = pod.spec.security_context
    pod_bad = sc.HasField("seccomp_profile") and not _valid_seccomp(sc.seccomp_profile)
    pod_set = sc.HasField("seccomp_profile") and not pod_bad
    if pod_bad:
        values.add(sc.seccomp_profile.type)
    explicit: list[str] = []
    implicit: list[str] = []
    for c in pod_containers(pod.spec):
        if c.security_context.HasField("seccomp_profile"):
            if not _valid_seccomp(c.security_context.seccomp_profile):
                explicit.append(c.name)
                values.add(c.security_context.seccomp_profile.type)
        elif not pod_set:
            implicit.append(c.name)
    if pod_bad or explicit:
        return (
            f"seccompProfile ({setters(pod_bad, explicit)} must not set "
            f"securityContext.seccompProfile.type to {quoted(sorted(values))})"
        )
    if implicit:
        return (
            f"seccompProfile (pod or {containers_named(implicit)} must set "
            'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
        )
    return None


CHECKS: tuple[Check, ...] = (
    _allow_privilege_escalation,
    _capabilities,
    _restricted_volumes,
    _run_as_non_root,
    _run_as_user,
    _seccomp_profile,
)
