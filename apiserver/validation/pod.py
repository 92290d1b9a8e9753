"""Pod validation (kubernetes pkg/apis/core/validation: ValidatePodSpec, ValidatePodCreate and
validatePodMetadataAndSpec), in Kubernetes' order: volumes, resource claims, containers, then the
pod-level fields. The parts live in modules of their own: containers, volumes, security contexts,
the OS rules, gates, DNS, scheduling constraints; updates in pod_update."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.validation import (
    affinity,
    containers,
    ephemeral,
    fields,
    pod_gates,
    pod_os,
    security_annotations,
    volumes,
)
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.pod_dns import host_aliases, pod_dns_config
from apiserver.validation.security_context import pod_security_context
from podplane.api.core.v1 import core_pb2

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Exists", "Equal")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
# Marks a mirror pod: the API's copy of a kubelet's static pod, whose spec is the manifest's.
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
MAX_ACTIVE_DEADLINE = 2147483647


def _resource_claims(path: str, claims: list[core_pb2.PodResourceClaim]) -> list[FieldError]:
    """validatePodResourceClaims (DynamicResourceAllocation, off by default in 1.31: only a pod
    that already had claims keeps them)."""
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, claim in enumerate(claims):
        p = f"{path}[{i}]"
        if not claim.name:
            errs.append(fields.required(f"{p}.name"))
        elif claim.name in names:
            errs.append(fields.duplicate(f"{p}.name", claim.name))
        else:
            errs += fields.dns1123_label(f"{p}.name", claim.name)
            names.add(claim.name)
        by_name = claim.HasField("resource_claim_name")
        by_template = claim.HasField("resource_claim_template_name")
        if by_name and by_template:
            errs.append(
                fields.invalid(
                    p,
                    claim.name,
                    "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be "
                    "specified",
                )
            )
        if not by_name and not by_template:
            errs.append(
                fields.invalid(
                    p,
                    claim.name,
                    "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
                )
            )
        if by_name:
            errs += fields.dns1123_subdomain(f"{p}.resourceClaimName", claim.resource_claim_name)
        if by_template:
            errs += fields.dns1123_subdomain(
                f"{p}.resourceClaimTemplateName", claim.resource_claim_template_name
            )
    return errs


def _containers(
    spec: core_pb2.PodSpec, path: str, vols: dict[str, core_pb2.Volume]
) -> list[FieldError]:
    """validateContainers, validateInitContainers and validateEphemeralContainers."""
    errs: list[FieldError] = []
    claims = {c.name for c in spec.resource_claims if c.name}
    grace = (
        spec.termination_grace_period_seconds
        if spec.HasField("termination_grace_period_seconds")
        else None
    )
    if not spec.containers:
        errs.append(fields.required(f"{path}.containers"))
    names: set[str] = set()
    for i, c in enumerate(spec.containers):
        p = f"{path}.containers[{i}]"
        errs += containers.common(p, c, spec, vols, claims)
        if c.name in names:
            errs.append(fields.duplicate(f"{p}.name", c.name))
        names.add(c.name)
        errs += containers.app_container(p, c, grace)
    errs += _host_port_conflicts(f"{path}.containers", list(spec.containers))
    for i, c in enumerate(spec.init_containers):
        p = f"{path}.initContainers[{i}]"
        errs += containers.common(p, c, spec, vols, claims)
        if c.name in names:
            errs.append(fields.duplicate(f"{p}.name", c.name))
        elif c.name:
            names.add(c.name)
        errs += containers.init_container(p, c, grace)
    for i, ec in enumerate(spec.ephemeral_containers):
        errs += containers.common(f"{path}.ephemeralContainers[{i}]", ec, spec, vols, claims)
    return errs + ephemeral.ephemeral_rules(spec, path)


def _host_port_conflicts(path: str, cs: list[core_pb2.Container]) -> list[FieldError]:
    """checkHostPortConflicts: one protocol, host IP and host port for one container port."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, c in enumerate(cs):
        for j, port in enumerate(c.ports):
            if not port.host_port:
                continue
            key = f"{port.protocol}/{port.host_ip}/{port.host_port}"
            if key in seen:
                errs.append(fields.duplicate(f"{path}[{i}].ports[{j}].hostPort", key))
            seen.add(key)
    return errs


def _host_network_ports(spec: core_pb2.PodSpec, path: str, is_pod: bool) -> list[FieldError]:
    """validatePodHostNetworkDeps: with hostNetwork a pod's hostPort is its containerPort (a
    template may leave it 0, which a pod's defaults fill in)."""
    if not spec.host_network:
        return []
    errs: list[FieldError] = []
    for i, c in enumerate(spec.containers):
        for j, port in enumerate(c.ports):
            if (is_pod or port.host_port) and port.host_port != port.container_port:
                errs.append(
                    fields.invalid(
                        f"{path}.containers[{i}].ports[{j}].hostPort",
                        port.host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def _tolerations(path: str, tolerations: list[core_pb2.Toleration]) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, t in enumerate(tolerations):
        p = f"{path}[{i}]"
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


def _scalars(spec: core_pb2.PodSpec, path: str) -> list[FieldError]:
    """The names and numbers of the pod spec, as ValidatePodSpec checks them last."""
    errs: list[FieldError] = []
    if spec.service_account_name:
        errs += fields.dns1123_subdomain(f"{path}.serviceAccountName", spec.service_account_name)
    if spec.node_name:
        errs += fields.dns1123_subdomain(f"{path}.nodeName", spec.node_name)
    if spec.HasField("active_deadline_seconds") and not (
        1 <= spec.active_deadline_seconds <= MAX_ACTIVE_DEADLINE
    ):
        errs.append(
            fields.invalid(
                f"{path}.activeDeadlineSeconds",
                spec.active_deadline_seconds,
                f"must be between 1 and {MAX_ACTIVE_DEADLINE}, inclusive",
            )
        )
    if spec.hostname:
        errs += fields.dns1123_label(f"{path}.hostname", spec.hostname)
    if spec.subdomain:
        errs += fields.dns1123_label(f"{path}.subdomain", spec.subdomain)
    errs += _tolerations(f"{path}.tolerations", list(spec.tolerations))
    errs += host_aliases(f"{path}.hostAliases", spec.host_aliases)
    if spec.priority_class_name:
        errs += fields.dns1123_subdomain(f"{path}.priorityClassName", spec.priority_class_name)
    if spec.HasField("runtime_class_name"):
        errs += fields.dns1123_subdomain(f"{path}.runtimeClassName", spec.runtime_class_name)
    if spec.HasField("preemption_policy"):
        policy = spec.preemption_policy
        if not policy:
            errs.append(fields.required(f"{path}.preemptionPolicy"))
        elif policy not in PREEMPTION_POLICIES:
            errs.append(fields.unsupported(f"{path}.preemptionPolicy", policy, PREEMPTION_POLICIES))
    if spec.overhead:
        # validateOverhead: the quantities of a container's limits (so named `overhead.limits`).
        overhead = core_pb2.ResourceRequirements(limits=dict(spec.overhead))
        errs += containers.resources(f"{path}.overhead", overhead, set())
    return errs


def pod_spec(
    spec: core_pb2.PodSpec, path: str = "spec", *, pod_name: str = "", is_pod: bool = False
) -> list[FieldError]:
    """ValidatePodSpec; `pod_name` and `is_pod` for a pod's spec rather than a template's."""
    vols, errs = volumes.volumes(spec, f"{path}.volumes", pod_name)
    errs += _resource_claims(f"{path}.resourceClaims", list(spec.resource_claims))
    errs += _containers(spec, path, dict(vols))
    errs += _host_network_ports(spec, path, is_pod)
    if spec.restart_policy not in RESTART_POLICIES:
        errs.append(
            fields.unsupported(f"{path}.restartPolicy", spec.restart_policy, RESTART_POLICIES)
        )
    if spec.dns_policy and spec.dns_policy not in DNS_POLICIES:
        errs.append(fields.unsupported(f"{path}.dnsPolicy", spec.dns_policy, DNS_POLICIES))
    errs += fields.label_map(f"{path}.nodeSelector", spec.node_selector)
    errs += pod_security_context(spec, f"{path}.securityContext")
    errs += affinity.scheduling_constraints(spec, path)
    errs += pod_dns_config(spec, f"{path}.dnsConfig")
    errs += pod_gates.readiness_gates(f"{path}.readinessGates", spec.readiness_gates)
    errs += pod_gates.scheduling_gates(f"{path}.schedulingGates", spec.scheduling_gates)
    errs += pod_os.windows_host_process(spec, path)
    errs += pod_os.host_users(spec, path)
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
    errs += _scalars(spec, path)
    return errs + pod_os.os_rules(spec, path)


def pod_template_rules(
    meta_annotations: Mapping[str, str], spec: core_pb2.PodSpec, path: str
) -> list[FieldError]:
    """What ValidatePodTemplateSpec adds to a template's spec: the seccomp and AppArmor
    annotations and their agreement with the fields."""
    annotations_path = path.removesuffix(".spec") + ".metadata.annotations"
    return (
        security_annotations.pod_annotations(meta_annotations, spec, annotations_path)
        + security_annotations.seccomp_annotations_match_fields(meta_annotations, spec, path)
        + security_annotations.app_armor_annotations_match_fields(meta_annotations, spec, path)
    )


def pod(obj: core_pb2.Pod) -> list[FieldError]:
    """validatePodMetadataAndSpec."""
    errs = object_meta(obj.metadata, namespaced=True)
    annotations = obj.metadata.annotations
    if MIRROR_POD_ANNOTATION in annotations and not obj.spec.node_name:
        errs.append(
            fields.invalid(
                f"metadata.annotations[{MIRROR_POD_ANNOTATION}]",
                annotations[MIRROR_POD_ANNOTATION],
                "must set spec.nodeName if mirror pod annotation is set",
            )
        )
    errs += security_annotations.pod_annotations(annotations, obj.spec)
    errs += pod_spec(obj.spec, pod_name=obj.metadata.name, is_pod=True)
    for group, cs in (
        ("containers", obj.spec.containers),
        ("initContainers", obj.spec.init_containers),
    ):
        for i, c in enumerate(cs):
            if c.image != c.image.strip():
                errs.append(
                    fields.invalid(
                        f"spec.{group}[{i}].image",
                        c.image,
                        "must not have leading or trailing whitespace",
                    )
                )
    return errs


def pod_create(obj: core_pb2.Pod) -> list[FieldError]:
    """ValidatePodCreate."""
    errs = pod(obj) + ephemeral.not_on_create(obj.spec)
    if obj.spec.node_name and obj.spec.scheduling_gates:
        errs.append(
            fields.forbidden(
                "spec.nodeName", "cannot be set until all schedulingGates have been cleared"
            )
        )
    annotations = obj.metadata.annotations
    errs += security_annotations.seccomp_annotations_match_fields(annotations, obj.spec)
    return errs + security_annotations.app_armor_annotations_match_fields(annotations, obj.spec)
