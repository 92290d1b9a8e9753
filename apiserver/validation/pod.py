"""Pod validation (kubernetes pkg/apis/core/validation: ValidatePod and its helpers)."""

from __future__ import annotations

from decimal import Decimal

from apiserver.objects import Container
from apiserver.validation import affinity, ephemeral, fields, volume_sources
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.pod_dns import pod_dns_config
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.sidecars import CONTAINER_RESTART_POLICY_ALWAYS, is_sidecar

RESTART_POLICIES = ("Always", "OnFailure", "Never")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Exists", "Equal")
# Marks a mirror pod: the API's copy of a kubelet's static pod, whose spec is the manifest's.
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


def _resources(path: str, res: core_pb2.ResourceRequirements) -> list[FieldError]:
    errs: list[FieldError] = []
    parsed: dict[str, dict[str, Decimal]] = {"limits": {}, "requests": {}}
    for kind in ("limits", "requests"):
        for name, value in sorted(getattr(res, kind).items()):
            p = f"{path}.{kind}[{name}]"
            try:
                q = quantity.parse(value)
            except quantity.QuantityError as e:
                errs.append(fields.invalid(p, value, str(e)))
                continue
            if q < 0:
                errs.append(fields.invalid(p, value, "must be greater than or equal to 0"))
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
    return errs


def _container(path: str, c: Container, volumes: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    if not c.name:
        errs.append(fields.required(f"{path}.name"))
    else:
        errs += fields.dns1123_label(f"{path}.name", c.name)
    if not c.image.strip():
        errs.append(fields.required(f"{path}.image"))
    if c.image_pull_policy and c.image_pull_policy not in PULL_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.imagePullPolicy", c.image_pull_policy, PULL_POLICIES)
        )
    port_names: set[str] = set()
    for i, port in enumerate(c.ports):
        p = f"{path}.ports[{i}]"
        if not 1 <= port.container_port <= 65535:
            errs.append(
                fields.invalid(
                    f"{p}.containerPort",
                    port.container_port,
                    "must be between 1 and 65535, inclusive",
                )
            )
        if port.host_port and not 1 <= port.host_port <= 65535:
            errs.append(
                fields.invalid(
                    f"{p}.hostPort", port.host_port, "must be between 1 and 65535, inclusive"
                )
            )
        if port.protocol and port.protocol not in PROTOCOLS:
            errs.append(fields.unsupported(f"{p}.protocol", port.protocol, PROTOCOLS))
        if port.name:
            if port.name in port_names:
                errs.append(fields.duplicate(f"{p}.name", port.name))
            port_names.add(port.name)
    env_path = f"{path}.env"
    for i, env in enumerate(c.env):
        if not env.name:
            errs.append(fields.required(f"{env_path}[{i}].name"))
        if env.value and env.HasField("value_from"):
            errs.append(
                fields.invalid(
                    f"{env_path}[{i}].valueFrom",
                    "",
                    "may not be specified when `value` is not empty",
                )
            )
    for i, m in enumerate(c.volume_mounts):
        p = f"{path}.volumeMounts[{i}]"
        if not m.name:
            errs.append(fields.required(f"{p}.name"))
        elif m.name not in volumes:
            errs.append(fields.FieldError(f"{p}.name", "Not found", m.name))
        if not m.mount_path:
            errs.append(fields.required(f"{p}.mountPath"))
    if c.HasField("resources"):
        errs += _resources(f"{path}.resources", c.resources)
    return errs


# What only a sidecar (an init container with restartPolicy Always) may set among init containers.
_SIDECAR_ONLY = (
    ("lifecycle", "lifecycle"),
    ("liveness_probe", "livenessProbe"),
    ("readiness_probe", "readinessProbe"),
    ("startup_probe", "startupProbe"),
)


def _restart_policy(path: str, c: core_pb2.Container, init: bool) -> list[FieldError]:
    """A container's restartPolicy: only init containers may set one, and only Always (a
    sidecar); init containers that run to completion have no hooks nor probes
    (validateInitContainers, validateContainers)."""
    if not init:
        if c.HasField("restart_policy"):
            return [
                fields.forbidden(f"{path}.restartPolicy", "may not be set for non-init containers")
            ]
        return []
    errs: list[FieldError] = []
    if c.HasField("restart_policy") and c.restart_policy != CONTAINER_RESTART_POLICY_ALWAYS:
        errs.append(
            fields.unsupported(
                f"{path}.restartPolicy", c.restart_policy, (CONTAINER_RESTART_POLICY_ALWAYS,)
            )
        )
    if not is_sidecar(c):
        errs += [
            fields.forbidden(
                f"{path}.{json_name}",
                "may not be set for init containers without restartPolicy=Always",
            )
            for name, json_name in _SIDECAR_ONLY
            if c.HasField(name)
        ]
    return errs


def _volume(path: str, v: core_pb2.Volume) -> list[FieldError]:
    errs: list[FieldError] = []
    if not v.name:
        errs.append(fields.required(f"{path}.name"))
    else:
        errs += fields.dns1123_label(f"{path}.name", v.name)
    sources = [
        s
        for s in (
            "empty_dir",
            "host_path",
            "config_map",
            "secret",
            "persistent_volume_claim",
            "downward_api",
            "projected",
        )
        if v.HasField(s)
    ]
    if not sources:
        errs.append(fields.required(path, "must specify a volume type"))
    elif len(sources) > 1:
        errs.append(fields.forbidden(path, "may not specify more than 1 volume type"))
    if v.HasField("host_path") and not v.host_path.path:
        errs.append(fields.required(f"{path}.hostPath.path"))
    if v.HasField("persistent_volume_claim") and not v.persistent_volume_claim.claim_name:
        errs.append(fields.required(f"{path}.persistentVolumeClaim.claimName"))
    if v.HasField("empty_dir") and v.empty_dir.medium not in ("", "Memory"):
        errs.append(
            fields.unsupported(f"{path}.emptyDir.medium", v.empty_dir.medium, ("", "Memory"))
        )
    if v.HasField("downward_api"):
        errs += volume_sources.downward_api(f"{path}.downwardAPI", v.downward_api)
    if v.HasField("projected"):
        errs += volume_sources.projected(f"{path}.projected", v.projected)
    return errs


def pod_spec(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    errs: list[FieldError] = []
    volumes: set[str] = set()
    for i, v in enumerate(spec.volumes):
        errs += _volume(f"{path}.volumes[{i}]", v)
        if v.name in volumes:
            errs.append(fields.duplicate(f"{path}.volumes[{i}].name", v.name))
        volumes.add(v.name)
    if not spec.containers:
        errs.append(fields.required(f"{path}.containers"))
    names: set[str] = set()
    for group, containers in (
        ("initContainers", spec.init_containers),
        ("containers", spec.containers),
    ):
        for i, c in enumerate(containers):
            p = f"{path}.{group}[{i}]"
            errs += _container(p, c, volumes)
            if c.name and c.name in names:
                errs.append(fields.duplicate(f"{p}.name", c.name))
            names.add(c.name)
            errs += _restart_policy(p, c, init=group == "initContainers")
    for i, ec in enumerate(spec.ephemeral_containers):  # the Container's fields, duck-typed
        errs += _container(f"{path}.ephemeralContainers[{i}]", ec, volumes)
    errs += ephemeral.ephemeral_rules(spec, path)
    if spec.restart_policy not in RESTART_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.restartPolicy", spec.restart_policy, RESTART_POLICIES)
        )
    if spec.dns_policy and spec.dns_policy not in DNS_POLICIES:
        errs.append(fields.unsupported(f"{path}.dnsPolicy", spec.dns_policy, DNS_POLICIES))
    errs += pod_dns_config(spec, f"{path}.dnsConfig")
    if (
        spec.HasField("termination_grace_period_seconds")
        and spec.termination_grace_period_seconds < 0
    ):
        errs.append(
            fields.invalid(
                f"{path}.terminationGracePeriodSeconds",
                spec.termination_grace_period_seconds,
                "must be greater than or equal to 0",
            )
        )
    if spec.HasField("active_deadline_seconds") and spec.active_deadline_seconds <= 0:
        errs.append(
            fields.invalid(
                f"{path}.activeDeadlineSeconds",
                spec.active_deadline_seconds,
                "must be between 1 and 2147483647, inclusive",
            )
        )
    if spec.node_name:
        errs += fields.dns1123_subdomain(f"{path}.nodeName", spec.node_name)
    if spec.hostname:
        errs += fields.dns1123_label(f"{path}.hostname", spec.hostname)
    errs += fields.label_map(f"{path}.nodeSelector", spec.node_selector)
    errs += affinity.scheduling_constraints(spec, path)
    for i, t in enumerate(spec.tolerations):
        p = f"{path}.tolerations[{i}]"
        if t.operator and t.operator not in TOLERATION_OPERATORS:
            errs.append(fields.unsupported(f"{p}.operator", t.operator, TOLERATION_OPERATORS))
        if t.operator == "Exists" and t.value:
            errs.append(
                fields.invalid(
                    f"{p}.operator", t.value, "value must be empty when `operator` is 'Exists'"
                )
            )
        if t.effect and t.effect not in TAINT_EFFECTS:
            errs.append(fields.unsupported(f"{p}.effect", t.effect, TAINT_EFFECTS))
        if not t.key and t.operator != "Exists":
            errs.append(
                fields.invalid(
                    f"{p}.operator",
                    t.operator,
                    "operator must be Exists when `key` is empty, which means "
                    '"match all values and all keys"',
                )
            )
    return errs


def pod(obj: core_pb2.Pod) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + pod_spec(obj.spec)


def pod_create(obj: core_pb2.Pod) -> list[FieldError]:
    return pod(obj) + ephemeral.not_on_create(obj.spec)


_MUTABLE_HINT = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
    "previously negative)"
)


def _mirror_update(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """A mirror pod stays one (or none), and its spec is the kubelet's: it follows the static
    pod's manifest file, so no update may change it."""
    path = f"metadata.annotations[{MIRROR_POD_ANNOTATION}]"
    new_mark = new.metadata.annotations.get(MIRROR_POD_ANNOTATION)
    old_mark = old.metadata.annotations.get(MIRROR_POD_ANNOTATION)
    if new_mark != old_mark:
        return [fields.invalid(path, new_mark or "", "field is immutable")]
    if old_mark is not None and new.spec != old.spec:
        return [
            fields.forbidden(
                "spec",
                "the spec of a mirror pod may not be changed: it mirrors "
                "a static pod; edit its manifest on the node instead",
            )
        ]
    return []


def pod_update(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """Pod specs are immutable but for images, activeDeadlineSeconds and added tolerations;
    mirror pods' specs are wholly immutable."""
    errs = pod(new)
    mirror_errs = _mirror_update(new, old)
    if mirror_errs:
        return errs + mirror_errs
    errs += ephemeral.unchanged_by_pod_update(new, old)
    probe_new, probe_old = type(new.spec)(), type(old.spec)()
    probe_new.CopyFrom(new.spec)
    probe_old.CopyFrom(old.spec)
    probe_new.ClearField("ephemeral_containers")  # reported above, with its own message
    probe_old.ClearField("ephemeral_containers")
    for a, b in (
        (probe_new.containers, probe_old.containers),
        (probe_new.init_containers, probe_old.init_containers),
    ):
        if len(a) == len(b):
            for ca, cb in zip(a, b, strict=True):
                ca.image = cb.image
    probe_new.ClearField("active_deadline_seconds")
    probe_old.ClearField("active_deadline_seconds")
    old_tolerations = list(probe_old.tolerations)
    if list(probe_new.tolerations)[: len(old_tolerations)] == old_tolerations:
        del probe_new.tolerations[:]
        del probe_old.tolerations[:]
    if probe_new != probe_old:
        errs.append(fields.forbidden("spec", _MUTABLE_HINT))
    return errs


def pod_ephemeral_containers_update(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """The pods/ephemeralcontainers subresource (ValidatePodEphemeralContainersUpdate): the pod is
    valid, is no mirror pod, and its ephemeral containers were only added to."""
    if MIRROR_POD_ANNOTATION in old.metadata.annotations:
        return [
            fields.forbidden(
                "spec.ephemeralContainers", "static pods do not support ephemeral containers"
            )
        ]
    return pod(new) + ephemeral.only_added(new, old)
