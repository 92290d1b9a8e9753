"""A container's fields (kubernetes pkg/apis/core/validation: validateContainerCommon and the
container parts of validateContainers, validateInitContainers): name, image, ports, environment,
volume mounts and devices, resources and their claims, resize policy, security context, and the
probes and hooks of the containers that may have them."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Set
from decimal import Decimal

from apiserver.objects import Container
from apiserver.validation import fields, probes
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown_list
from apiserver.validation.paths import local_descending_path, no_backsteps
from apiserver.validation.security_context import container_security_context
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.sidecars import CONTAINER_RESTART_POLICY_ALWAYS, is_sidecar

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
RECURSIVE_READ_ONLY = ("Disabled", "Enabled", "IfPossible")
RESIZE_RESOURCES = ("cpu", "memory")
RESIZE_RESTART_POLICIES = ("NotRequired", "RestartContainer")
# What only a sidecar (an init container with restartPolicy Always) may set among init containers.
_SIDECAR_ONLY = (
    ("lifecycle", "lifecycle"),
    ("liveness_probe", "livenessProbe"),
    ("readiness_probe", "readinessProbe"),
    ("startup_probe", "startupProbe"),
)


# Every container's requests and limits are parsed, and they are a few values over and over
# ("100m", "128Mi"): each parsed once (a Decimal is immutable; a refusal is not kept).
_parse_quantity = functools.lru_cache(maxsize=1024)(quantity.parse)


def resources(
    path: str, res: core_pb2.ResourceRequirements, pod_claims: Set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    parsed: dict[str, dict[str, Decimal]] = {"limits": {}, "requests": {}}
    for kind in ("limits", "requests"):
        values = getattr(res, kind)
        if not values:
            continue
        for name, value in sorted(values.items()):
            try:
                q = _parse_quantity(value)
            except quantity.QuantityError as e:
                errs.append(fields.invalid(f"{path}.{kind}[{name}]", value, str(e)))
                continue
            if q < 0:
                errs.append(
                    fields.invalid(
                        f"{path}.{kind}[{name}]", value, "must be greater than or equal to 0"
                    )
                )
            parsed[kind][name] = q
    for name, req in parsed["requests"].items():
        lim = parsed["limits"].get(name)
        if lim is not None and req > lim:
            errs.append(
                fields.invalid(
                    f"{path}.requests[{name}]",
                    res.requests[name],
                    f"must be less than or equal to {name} limit of {res.limits[name]}",
                )
            )
    if res.claims:
        errs += resource_claims(f"{path}.claims", res.claims, pod_claims)
    return errs


def resource_claims(
    path: str, claims: Iterable[core_pb2.ResourceClaim], pod_claims: Set[str]
) -> list[FieldError]:
    """validateResourceClaimNames: each a claim of spec.resourceClaims, once (a whole claim, or
    each of its requests once)."""
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, claim in enumerate(claims):
        p = f"{path}[{i}]"
        name = claim.name
        if not name:
            errs.append(fields.required(p))
            continue
        if name in names:
            errs.append(fields.duplicate(p, name))
        else:
            key = name
            if claim.request:
                errs += fields.dns1123_label(f"{p}.request", claim.request)
                key += "/" + claim.request
            if key in names:
                errs.append(fields.duplicate(p, key))
            elif not claim.request:
                errs += [
                    fields.duplicate(p, name)
                    for other in sorted(names)
                    if "/" in other and other.split("/", 1)[0] == name
                ]
            names.add(key)
        if name not in pod_claims:
            listed = ", ".join(sorted(pod_claims)) if pod_claims else ""
            detail = "must be one of the names in pod.spec.resourceClaims" + (
                f": {listed}" if listed else " which is empty"
            )
            errs.append(fields.FieldError(p, "Not found", name, detail))
    return errs


def _ports(path: str, ports: Iterable[core_pb2.ContainerPort]) -> list[FieldError]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = f"{path}[{i}]"
        if not 1 <= port.container_port <= 65535:
            errs.append(
                fields.invalid(f"{p}.containerPort", port.container_port, probes.PORT_RANGE)
            )
        if port.host_port and not 1 <= port.host_port <= 65535:
            errs.append(fields.invalid(f"{p}.hostPort", port.host_port, probes.PORT_RANGE))
        if port.protocol and port.protocol not in PROTOCOLS:
            errs.append(fields.unsupported(f"{p}.protocol", port.protocol, PROTOCOLS))
        if port.name:
            if port.name in names:
                errs.append(fields.duplicate(f"{p}.name", port.name))
            names.add(port.name)
    return errs


def _env(path: str, c: Container) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, env in enumerate(c.env):
        if not env.name:
            errs.append(fields.required(f"{path}[{i}].name"))
        if env.value and env.HasField("value_from"):
            errs.append(
                fields.invalid(
                    f"{path}[{i}].valueFrom", "", "may not be specified when `value` is not empty"
                )
            )
    return errs


def volume_mounts(
    path: str, c: Container, volumes: Mapping[str, core_pb2.Volume]
) -> list[FieldError]:
    """ValidateVolumeMounts; Kubernetes reports a bad subPath, subPathExpr, mountPropagation or
    recursiveReadOnly under the list's path, not the mount's."""
    errs: list[FieldError] = []
    mount_paths: set[str] = set()
    device_names = {d.name for d in c.volume_devices}
    device_paths = {d.device_path for d in c.volume_devices}
    privileged = c.security_context.privileged
    for i, m in enumerate(c.volume_mounts):
        p = f"{path}[{i}]"
        if not m.name:
            errs.append(fields.required(f"{p}.name"))
        if m.name not in volumes:
            errs.append(fields.FieldError(f"{p}.name", "Not found", m.name))
        if not m.mount_path:
            errs.append(fields.required(f"{p}.mountPath"))
        if m.mount_path in mount_paths:
            errs.append(fields.invalid(f"{p}.mountPath", m.mount_path, "must be unique"))
        mount_paths.add(m.mount_path)
        if m.name in device_names:
            errs.append(
                fields.invalid(f"{p}.name", m.name, "must not already exist in volumeDevices")
            )
        if m.mount_path in device_paths:
            errs.append(
                fields.invalid(
                    f"{p}.mountPath",
                    m.mount_path,
                    "must not already exist as a path in volumeDevices",
                )
            )
        volume = volumes.get(m.name)
        if volume is not None and volume.HasField("image"):
            for name, value in (("subPath", m.sub_path), ("subPathExpr", m.sub_path_expr)):
                if value:
                    errs.append(
                        fields.invalid(f"{p}.{name}", value, "not allowed in image volume sources")
                    )
        if m.sub_path:
            errs += local_descending_path(f"{path}.subPath", m.sub_path)
        if m.sub_path_expr:
            if m.sub_path:
                errs.append(
                    fields.invalid(
                        f"{p}.subPathExpr",
                        m.sub_path_expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            errs += local_descending_path(f"{path}.subPathExpr", m.sub_path_expr)
        if m.mount_propagation:
            errs += _mount_propagation(f"{path}.mountPropagation", m.mount_propagation, privileged)
        errs += _recursive_read_only(f"{path}.recursiveReadOnly", m)
    return errs


def _mount_propagation(path: str, mode: str, privileged: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    if mode not in MOUNT_PROPAGATIONS:
        errs.append(fields.unsupported(path, mode, MOUNT_PROPAGATIONS))
    if mode == "Bidirectional" and not privileged:
        errs.append(
            fields.forbidden(
                path, "Bidirectional mount propagation is available only to privileged containers"
            )
        )
    return errs


def _recursive_read_only(path: str, m: core_pb2.VolumeMount) -> list[FieldError]:
    if not m.HasField("recursive_read_only") or m.recursive_read_only == "Disabled":
        return []
    if m.recursive_read_only not in RECURSIVE_READ_ONLY:
        return [fields.unsupported(path, m.recursive_read_only, RECURSIVE_READ_ONLY)]
    errs: list[FieldError] = []
    if not m.read_only:
        errs.append(fields.forbidden(path, "may only be specified when readOnly is true"))
    if m.mount_propagation not in ("", "None"):
        errs.append(
            fields.forbidden(
                path, "may only be specified when mountPropagation is None or not specified"
            )
        )
    return errs


def volume_devices(
    path: str, c: Container, volumes: Mapping[str, core_pb2.Volume]
) -> list[FieldError]:
    """ValidateVolumeDevices: raw block devices come from claims (or ephemeral ones) only."""
    if not c.volume_devices:  # most containers
        return []
    errs: list[FieldError] = []
    device_paths: set[str] = set()
    device_names: set[str] = set()
    mount_names = {m.name for m in c.volume_mounts}
    mount_paths = {m.mount_path for m in c.volume_mounts}
    for i, d in enumerate(c.volume_devices):
        p = f"{path}[{i}]"
        volume = volumes.get(d.name)
        if not d.name:
            errs.append(fields.required(f"{p}.name"))
        if d.name in device_names:
            errs.append(fields.invalid(f"{p}.name", d.name, "must be unique"))
        if volume is None:
            errs.append(fields.FieldError(f"{p}.name", "Not found", d.name))
        elif not (volume.HasField("persistent_volume_claim") or volume.HasField("ephemeral")):
            errs.append(
                fields.invalid(
                    f"{p}.name",
                    d.name,
                    "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                    "block mode",
                )
            )
        if not d.device_path:
            errs.append(fields.required(f"{p}.devicePath"))
        if d.device_path in device_paths:
            errs.append(fields.invalid(f"{p}.devicePath", d.device_path, "must be unique"))
        if d.device_path and no_backsteps(p, d.device_path):
            errs.append(
                fields.invalid(f"{p}.devicePath", d.device_path, "can not contain backsteps ('..')")
            )
        else:
            device_paths.add(d.device_path)
        if d.name in mount_names:
            errs.append(
                fields.invalid(f"{p}.name", d.name, "must not already exist in volumeMounts")
            )
        if d.device_path in mount_paths:
            errs.append(
                fields.invalid(
                    f"{p}.devicePath",
                    d.device_path,
                    "must not already exist as a path in volumeMounts",
                )
            )
        if d.name:
            device_names.add(d.name)
    return errs


def resize_policy(path: str, c: Container, pod_restart_policy: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, policy in enumerate(c.resize_policy):
        if policy.resource_name in seen:
            errs.append(fields.duplicate(f"{path}[{i}]", policy.resource_name))
        seen.add(policy.resource_name)
        if not policy.resource_name:
            errs.append(fields.required(path))
        elif policy.resource_name not in RESIZE_RESOURCES:
            errs.append(fields.unsupported(path, policy.resource_name, RESIZE_RESOURCES))
        if not policy.restart_policy:
            errs.append(fields.required(path))
        elif policy.restart_policy not in RESIZE_RESTART_POLICIES:
            errs.append(fields.unsupported(path, policy.restart_policy, RESIZE_RESTART_POLICIES))
        if pod_restart_policy == "Never" and policy.restart_policy != "NotRequired":
            errs.append(
                fields.invalid(
                    path,
                    policy.restart_policy,
                    "must be 'NotRequired' when `restartPolicy` is 'Never'",
                )
            )
    return errs


def common(
    path: str,
    c: Container,
    spec: core_pb2.PodSpec,
    volumes: Mapping[str, core_pb2.Volume],
    pod_claims: Set[str],
) -> list[FieldError]:
    """validateContainerCommon: what every container, init, app or ephemeral, is held to."""
    errs: list[FieldError] = []
    if not c.name:
        errs.append(fields.required(f"{path}.name"))
    else:
        errs += fields.dns1123_label(f"{path}.name", c.name)
    if not c.image.strip():
        errs.append(fields.required(f"{path}.image"))
    errs += _ports(f"{path}.ports", c.ports)
    errs += _env(f"{path}.env", c)
    errs += volume_mounts(f"{path}.volumeMounts", c, volumes)
    errs += volume_devices(f"{path}.volumeDevices", c, volumes)
    if c.image_pull_policy and c.image_pull_policy not in PULL_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.imagePullPolicy", c.image_pull_policy, PULL_POLICIES)
        )
    if c.HasField("resources"):
        errs += resources(f"{path}.resources", c.resources, pod_claims)
    errs += resize_policy(f"{path}.resizePolicy", c, spec.restart_policy)
    if c.HasField("security_context"):
        host_users = not spec.HasField("host_users") or spec.host_users
        errs += container_security_context(
            f"{path}.securityContext", c.security_context, host_users
        )
    return errs


def probes_and_hooks(path: str, c: Container, grace_period: int | None) -> list[FieldError]:
    """A regular container's or a sidecar's probes and lifecycle hooks."""
    errs = probes.container_probes(path, c, grace_period)
    if c.HasField("lifecycle"):
        errs += probes.lifecycle(f"{path}.lifecycle", c.lifecycle, grace_period)
    return errs


def app_container(path: str, c: core_pb2.Container, grace_period: int | None) -> list[FieldError]:
    """validateContainers' own part: hooks and probes; no restartPolicy."""
    errs = probes_and_hooks(path, c, grace_period)
    if c.HasField("restart_policy"):
        errs.append(
            fields.forbidden(f"{path}.restartPolicy", "may not be set for non-init containers")
        )
    return errs


def init_container(path: str, c: core_pb2.Container, grace_period: int | None) -> list[FieldError]:
    """validateInitContainers' own part: only Always as restartPolicy (a sidecar); init containers
    that run to completion have no hooks nor probes; none has a resize policy."""
    errs: list[FieldError] = []
    if c.HasField("restart_policy") and c.restart_policy != CONTAINER_RESTART_POLICY_ALWAYS:
        errs.append(
            fields.unsupported(
                f"{path}.restartPolicy", c.restart_policy, (CONTAINER_RESTART_POLICY_ALWAYS,)
            )
        )
    if is_sidecar(c):
        errs += probes_and_hooks(path, c, grace_period)
    else:
        errs += [
            fields.forbidden(
                f"{path}.{json_name}",
                "may not be set for init containers without restartPolicy=Always",
            )
            for name, json_name in _SIDECAR_ONLY
            if c.HasField(name)
        ]
    if c.resize_policy:
        errs.append(
            fields.invalid(
                f"{path}.resizePolicy",
                shown_list(c.resize_policy),
                "must not be set for init containers",
            )
        )
    return errs
