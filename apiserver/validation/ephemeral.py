"""The rules only ephemeral containers follow (kubernetes pkg/apis/core/validation:
validateEphemeralContainers and ValidatePodEphemeralContainersUpdate): they are for debugging, so
nothing that makes a container part of the workload (ports, probes, resources, lifecycle hooks,
subPath mounts) is allowed; their names are unique among every container of the pod; a target must
be one of the pod's own containers; once added, they are never changed nor removed."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2

PATH = "spec.ephemeralContainers"
# The Container fields an ephemeral container may not set, with their JSON names, in the Go
# struct's order (the order of Kubernetes' errors).
FORBIDDEN_FIELDS = (
    ("ports", "ports"),
    ("resources", "resources"),
    ("restart_policy", "restartPolicy"),
    ("liveness_probe", "livenessProbe"),
    ("readiness_probe", "readinessProbe"),
    ("startup_probe", "startupProbe"),
    ("lifecycle", "lifecycle"),
)
_NOT_ALLOWED = "cannot be set for an Ephemeral Container"


def _is_set(container: core_pb2.EphemeralContainer, name: str) -> bool:
    value = getattr(container, name)
    if name in ("ports",):
        return bool(value)
    if name == "resources":
        return bool(value.limits or value.requests)
    return bool(container.HasField(name))


def ephemeral_rules(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    """What sets ephemeral containers apart; the checks common to every container (name, image,
    env, volume mounts) are pod_spec's."""
    errs: list[FieldError] = []
    others = {c.name for c in (*spec.containers, *spec.init_containers)}
    seen = set(others)
    for i, ec in enumerate(spec.ephemeral_containers):
        p = f"{path}.ephemeralContainers[{i}]"
        if ec.name and ec.name in seen:
            errs.append(fields.duplicate(f"{p}.name", ec.name))
        seen.add(ec.name)
        if ec.target_container_name and ec.target_container_name not in others:
            errs.append(
                fields.FieldError(f"{p}.targetContainerName", "Not found", ec.target_container_name)
            )
        for name, json_name in FORBIDDEN_FIELDS:
            if _is_set(ec, name):
                errs.append(fields.forbidden(f"{p}.{json_name}", _NOT_ALLOWED))
        for j, mount in enumerate(ec.volume_mounts):
            if mount.sub_path:
                errs.append(fields.forbidden(f"{p}.volumeMounts[{j}].subPath", _NOT_ALLOWED))
            if mount.sub_path_expr:
                errs.append(fields.forbidden(f"{p}.volumeMounts[{j}].subPathExpr", _NOT_ALLOWED))
    return errs


def not_on_create(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    if spec.ephemeral_containers:
        return [fields.forbidden(f"{path}.ephemeralContainers", "cannot be set on create")]
    return []


def not_in_template(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    if spec.ephemeral_containers:
        return [
            fields.forbidden(
                f"{path}.ephemeralContainers", "ephemeral containers not allowed in pod template"
            )
        ]
    return []


def only_added(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """Existing ephemeral containers stay exactly as they are; new ones may be added."""
    errs: list[FieldError] = []
    by_name = {c.name: c for c in new.spec.ephemeral_containers}
    for existing in old.spec.ephemeral_containers:
        now = by_name.get(existing.name)
        if now is None:
            errs.append(
                fields.forbidden(
                    PATH, f'existing ephemeral containers "{existing.name}" may not be removed'
                )
            )
        elif now != existing:
            errs.append(
                fields.forbidden(
                    PATH, f'existing ephemeral containers "{existing.name}" may not be changed'
                )
            )
    return errs


def unchanged_by_pod_update(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """A pod Update may not touch them: they grow only through the subresource."""
    if list(new.spec.ephemeral_containers) != list(old.spec.ephemeral_containers):
        return [
            fields.forbidden(
                PATH,
                "may only be changed through the pods/ephemeralcontainers "
                "subresource (podctl debug)",
            )
        ]
    return []
