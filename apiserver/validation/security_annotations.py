"""The deprecated seccomp and AppArmor annotations of a pod and how they agree with the fields
that replaced them (kubernetes pkg/apis/core/validation: ValidateSeccompPodAnnotations,
ValidateAppArmorPodAnnotations, validateSeccompAnnotationsAndFields,
validateAppArmorAnnotationsAndFieldsMatchOnCreate, ValidatePodSpecificAnnotationUpdates). Where a
pod has both an annotation and a field, they must say the same; the AppArmor annotations, which
the server writes from the fields on create, are then fixed for the pod's life."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.paths import local_descending_path
from apiserver.validation.pod_os import containers_with_paths
from podplane.api.core.v1 import core_pb2

SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
SECCOMP_RUNTIME_DEFAULT = "runtime/default"
SECCOMP_DOCKER_DEFAULT = "docker/default"
SECCOMP_UNCONFINED = "unconfined"
SECCOMP_LOCALHOST_PREFIX = "localhost/"
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
APPARMOR_RUNTIME_DEFAULT = "runtime/default"
APPARMOR_UNCONFINED = "unconfined"
APPARMOR_LOCALHOST_PREFIX = "localhost/"
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
_ANNOTATIONS = "metadata.annotations"


def _seccomp_annotation(path: str, value: str) -> list[FieldError]:
    """ValidateSeccompProfile of an annotation's value."""
    if value in (SECCOMP_RUNTIME_DEFAULT, SECCOMP_DOCKER_DEFAULT, SECCOMP_UNCONFINED):
        return []
    if value.startswith(SECCOMP_LOCALHOST_PREFIX):
        return local_descending_path(path, value.removeprefix(SECCOMP_LOCALHOST_PREFIX))
    return [fields.invalid(path, value, "must be a valid seccomp profile")]


def _deletion_cost(path: str, annotations: Mapping[str, str]) -> list[FieldError]:
    value = annotations.get(DELETION_COST_ANNOTATION)
    if value is None:
        return []
    try:
        valid = -(2**31) <= int(value, 10) < 2**31 and value.strip() == value
    except ValueError:
        valid = False
    if valid:
        return []
    return [fields.invalid(f"{path}[{DELETION_COST_ANNOTATION}]", value, "must be a 32bit integer")]


def pod_annotations(
    annotations: Mapping[str, str], spec: core_pb2.PodSpec, path: str = _ANNOTATIONS
) -> list[FieldError]:
    """ValidatePodSpecificAnnotations' seccomp, AppArmor and deletion-cost rules (a seccomp
    annotation's error is named `annotations.<key>`, as Kubernetes names it)."""
    if not annotations:  # most pods: nothing to check
        return []
    errs = _deletion_cost(path, annotations)
    names = {c.name for c, _ in containers_with_paths(spec, "spec")}
    for key in sorted(annotations):
        value = annotations[key]
        if key == SECCOMP_POD_ANNOTATION or key.startswith(SECCOMP_CONTAINER_PREFIX):
            errs += _seccomp_annotation(f"{path}.{key}", value)
        if key.startswith(APPARMOR_PREFIX):
            container = key.removeprefix(APPARMOR_PREFIX)
            if container not in names:
                errs.append(fields.invalid(f"{path}[{key}]", container, "container not found"))
            if value not in ("", APPARMOR_RUNTIME_DEFAULT, APPARMOR_UNCONFINED) and not (
                value.startswith(APPARMOR_LOCALHOST_PREFIX)
            ):
                errs.append(
                    fields.invalid(
                        f"{path}[{key}]", value, f'invalid AppArmor profile name: "{value}"'
                    )
                )
    return errs


def _seccomp_matches(
    path: str, annotation: str, profile: core_pb2.SeccompProfile
) -> list[FieldError]:
    """validateSeccompAnnotationsAndFieldsMatch."""
    kind = profile.type
    if kind == "Unconfined" and annotation != SECCOMP_UNCONFINED:
        return [fields.forbidden(f"{path}.type", "seccomp type in annotation and field must match")]
    if kind == "RuntimeDefault" and annotation not in (
        SECCOMP_RUNTIME_DEFAULT,
        SECCOMP_DOCKER_DEFAULT,
    ):
        return [fields.forbidden(f"{path}.type", "seccomp type in annotation and field must match")]
    if kind == "Localhost":
        if not annotation.startswith(SECCOMP_LOCALHOST_PREFIX):
            return [
                fields.forbidden(f"{path}.type", "seccomp type in annotation and field must match")
            ]
        if not profile.HasField("localhost_profile") or (
            annotation.removeprefix(SECCOMP_LOCALHOST_PREFIX) != profile.localhost_profile
        ):
            return [
                fields.forbidden(
                    f"{path}.localhostProfile", "seccomp profile in annotation and field must match"
                )
            ]
    return []


def seccomp_annotations_match_fields(
    annotations: Mapping[str, str], spec: core_pb2.PodSpec, path: str = "spec"
) -> list[FieldError]:
    """Where a seccomp annotation and field are both set, they agree."""
    if not annotations:
        return []
    errs: list[FieldError] = []
    sc = spec.security_context
    if sc.HasField("seccomp_profile") and SECCOMP_POD_ANNOTATION in annotations:
        errs += _seccomp_matches(
            f"{path}.securityContext.seccompProfile",
            annotations[SECCOMP_POD_ANNOTATION],
            sc.seccomp_profile,
        )
    for c, c_path in containers_with_paths(spec, path):
        key = SECCOMP_CONTAINER_PREFIX + c.name
        if c.security_context.HasField("seccomp_profile") and key in annotations:
            errs += _seccomp_matches(
                f"{c_path}.securityContext.seccompProfile",
                annotations[key],
                c.security_context.seccomp_profile,
            )
    return errs


def app_armor_annotations_match_fields(
    annotations: Mapping[str, str], spec: core_pb2.PodSpec, path: str = "spec"
) -> list[FieldError]:
    """Where an AppArmor annotation and the container's effective profile are both set, they
    agree (not checked for windows pods)."""
    if not annotations or (spec.HasField("os") and spec.os.name == "windows"):
        return []
    errs: list[FieldError] = []
    pod_profile = (
        spec.security_context.app_armor_profile
        if spec.security_context.HasField("app_armor_profile")
        else None
    )
    for c, c_path in containers_with_paths(spec, path):
        profile = (
            c.security_context.app_armor_profile
            if c.security_context.HasField("app_armor_profile")
            else pod_profile
        )
        annotation = annotations.get(APPARMOR_PREFIX + c.name)
        if profile is None or annotation is None:
            continue
        p = f"{c_path}.securityContext.appArmorProfile"
        type_mismatch = fields.forbidden(
            f"{p}.type", "apparmor type in annotation and field must match"
        )
        if profile.type == "Unconfined" and annotation != APPARMOR_UNCONFINED:
            errs.append(type_mismatch)
        elif profile.type == "RuntimeDefault" and annotation != APPARMOR_RUNTIME_DEFAULT:
            errs.append(type_mismatch)
        elif profile.type == "Localhost":
            if not annotation.startswith(APPARMOR_LOCALHOST_PREFIX):
                errs.append(type_mismatch)
            elif not profile.HasField("localhost_profile") or (
                annotation.removeprefix(APPARMOR_LOCALHOST_PREFIX) != profile.localhost_profile
            ):
                errs.append(
                    fields.forbidden(
                        f"{p}.localhostProfile",
                        "apparmor profile in annotation and field must match",
                    )
                )
    return errs


def app_armor_annotation_updates(
    new: Mapping[str, str], old: Mapping[str, str], path: str = _ANNOTATIONS
) -> list[FieldError]:
    """ValidatePodSpecificAnnotationUpdates' AppArmor rule: never added, changed nor removed."""
    errs: list[FieldError] = []
    for key in sorted(old):
        if key.startswith(APPARMOR_PREFIX) and new.get(key) != old[key]:
            errs.append(
                fields.forbidden(f"{path}[{key}]", "may not remove or update AppArmor annotations")
            )
    for key in sorted(new):
        if key.startswith(APPARMOR_PREFIX) and key not in old:
            errs.append(fields.forbidden(f"{path}[{key}]", "may not add AppArmor annotations"))
    return errs
