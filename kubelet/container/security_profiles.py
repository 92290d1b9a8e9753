"""A container's seccomp and AppArmor profiles, SELinux label and procMount, from its own
securityContext or else the pod's (kuberuntime's getSeccompProfile, getAppArmorProfile and
determineEffectiveSecurityContext).

seccomp: a container that sets no profile, in a pod that sets none, runs Unconfined, as the
kubelet's --seccomp-default (default false) leaves it in Kubernetes 1.31; with the flag it runs
the runtime's default profile. A Localhost profile is the file `<root-dir>/seccomp/<name>`.

AppArmor: the container's field, else its deprecated
`container.apparmor.security.beta.kubernetes.io/<container>` annotation, else the pod's field;
none at all leaves the runtime's default (docker-default where the host has AppArmor)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kubelet.runtime.types import (
    LOCALHOST,
    RUNTIME_DEFAULT,
    UNCONFINED,
    SecurityProfile,
    SELinuxOptions,
)
from podplane.api.core.v1 import core_pb2

# The kubelet's seccomp profile directory, under its --root-dir.
SECCOMP_DIR = "seccomp"
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
PROC_MOUNT_UNMASKED = "Unmasked"


@dataclass(frozen=True)
class NodeSecurity:
    """The node's side of the profiles: the kubelet's --root-dir (Localhost seccomp profiles
    are under its seccomp/) and --seccomp-default."""

    root_dir: str = "/var/lib/kubelet"
    seccomp_default: bool = False


class ProfileError(Exception):
    """A profile that cannot be used as written (a Localhost profile without its name)."""


def _seccomp_of(field: core_pb2.SeccompProfile, root_dir: str) -> SecurityProfile:
    if field.type == LOCALHOST:
        if not field.localhost_profile:
            raise ProfileError("localhostProfile must be set if seccompProfile type is Localhost.")
        path = os.path.join(root_dir, SECCOMP_DIR, field.localhost_profile)
        return SecurityProfile(LOCALHOST, path)
    if field.type == UNCONFINED:
        return SecurityProfile(UNCONFINED)
    return SecurityProfile(RUNTIME_DEFAULT)


def seccomp_profile(
    pod: core_pb2.Pod, container: core_pb2.Container, root_dir: str, runtime_default: bool = False
) -> SecurityProfile:
    """The container's field wins over the pod's; neither: Unconfined, or the runtime's default
    with --seccomp-default."""
    sc, psc = container.security_context, pod.spec.security_context
    if sc.HasField("seccomp_profile"):
        return _seccomp_of(sc.seccomp_profile, root_dir)
    if psc.HasField("seccomp_profile"):
        return _seccomp_of(psc.seccomp_profile, root_dir)
    return SecurityProfile(RUNTIME_DEFAULT if runtime_default else UNCONFINED)


def _apparmor_of(field: core_pb2.AppArmorProfile) -> SecurityProfile:
    if field.type == LOCALHOST:
        return SecurityProfile(LOCALHOST, field.localhost_profile.strip())
    return SecurityProfile(UNCONFINED if field.type == UNCONFINED else RUNTIME_DEFAULT)


def _apparmor_annotation(value: str) -> SecurityProfile:
    if value == "unconfined":
        return SecurityProfile(UNCONFINED)
    if value.startswith("localhost/"):
        return SecurityProfile(LOCALHOST, value.removeprefix("localhost/"))
    return SecurityProfile(RUNTIME_DEFAULT)


def apparmor_profile(pod: core_pb2.Pod, container: core_pb2.Container) -> SecurityProfile | None:
    """apparmor.GetProfile: the container's field, its annotation, the pod's field; None."""
    sc, psc = container.security_context, pod.spec.security_context
    if sc.HasField("app_armor_profile"):
        return _apparmor_of(sc.app_armor_profile)
    annotation = pod.metadata.annotations.get(APPARMOR_ANNOTATION_PREFIX + container.name)
    if annotation:
        return _apparmor_annotation(annotation)
    if psc.HasField("app_armor_profile"):
        return _apparmor_of(psc.app_armor_profile)
    return None


def uses_apparmor(pod: core_pb2.Pod) -> bool:
    """Whether any profile other than Unconfined is asked for (apparmor's isRequired)."""
    spec = pod.spec
    contexts = (
        [spec.security_context.app_armor_profile]
        if spec.security_context.HasField("app_armor_profile")
        else []
    )
    container_contexts = [c.security_context for c in (*spec.init_containers, *spec.containers)]
    container_contexts += [e.security_context for e in spec.ephemeral_containers]
    for sc in container_contexts:
        if sc.HasField("app_armor_profile"):
            contexts.append(sc.app_armor_profile)
    if any(profile.type != UNCONFINED for profile in contexts):
        return True
    return any(
        key.startswith(APPARMOR_ANNOTATION_PREFIX) and value != "unconfined"
        for key, value in pod.metadata.annotations.items()
    )


def selinux_options(pod: core_pb2.Pod, container: core_pb2.Container) -> SELinuxOptions | None:
    """The container's seLinuxOptions, whole, else the pod's."""
    sc, psc = container.security_context, pod.spec.security_context
    options = (
        sc.se_linux_options
        if sc.HasField("se_linux_options")
        else psc.se_linux_options
        if psc.HasField("se_linux_options")
        else None
    )
    if options is None:
        return None
    return SELinuxOptions(
        user=options.user, role=options.role, type=options.type, level=options.level
    )


def unmasked_proc(container: core_pb2.Container) -> bool:
    return container.security_context.proc_mount == PROC_MOUNT_UNMASKED
