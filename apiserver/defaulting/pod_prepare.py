"""What the server does to a new pod before validating it (kubernetes pkg/registry/core/pod
strategy.go PrepareForCreate, as of 1.31): it drops the fields of disabled features, marks a gated
pod PodScheduled=False with reason SchedulingGated (which `kubectl get pods` shows), merges each
pod affinity term's matchLabelKeys and mismatchLabelKeys into its label selector, and keeps the
deprecated AppArmor annotations and the appArmorProfile fields in step, so that kubelets that
read either enforce the same profile."""

from __future__ import annotations

from apiserver.defaulting.disabled_features import drop_disabled_pod_fields
from apiserver.objects import pod_containers
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.conditions import set_pod_condition

POD_SCHEDULED = "PodScheduled"
SCHEDULING_GATED = "SchedulingGated"
SCHEDULING_GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
APPARMOR_RUNTIME_DEFAULT = "runtime/default"
APPARMOR_UNCONFINED = "unconfined"
APPARMOR_LOCALHOST_PREFIX = "localhost/"


def scheduling_gated_condition(pod: core_pb2.Pod) -> None:
    """applySchedulingGatedCondition."""
    if not pod.spec.scheduling_gates:
        return
    if any(c.type == POD_SCHEDULED for c in pod.status.conditions):
        return
    set_pod_condition(
        pod.status,
        core_pb2.PodCondition(
            type=POD_SCHEDULED,
            status="False",
            reason=SCHEDULING_GATED,
            message=SCHEDULING_GATED_MESSAGE,
        ),
    )


def _apply_label_keys(term: core_pb2.PodAffinityTerm, labels: dict[str, str]) -> None:
    """applyMatchLabelKeysAndMismatchLabelKeys: `key In (value)` for each matchLabelKeys key the
    pod has, `key NotIn (value)` for each mismatchLabelKeys one; nothing without a selector."""
    if not term.HasField("label_selector"):
        return
    for keys, operator in ((term.match_label_keys, "In"), (term.mismatch_label_keys, "NotIn")):
        for key in keys:
            if key in labels:
                term.label_selector.match_expressions.append(
                    meta_pb2.LabelSelectorRequirement(
                        key=key, operator=operator, values=[labels[key]]
                    )
                )


def merge_pod_affinity_label_keys(pod: core_pb2.Pod) -> None:
    """mutatePodAffinity (MatchLabelKeysInPodAffinity is on in 1.31)."""
    if not pod.spec.HasField("affinity"):
        return
    labels = dict(pod.metadata.labels)
    affinity = pod.spec.affinity
    for group in (affinity.pod_affinity, affinity.pod_anti_affinity):
        for term in group.required_during_scheduling_ignored_during_execution:
            _apply_label_keys(term, labels)
        for weighted in group.preferred_during_scheduling_ignored_during_execution:
            _apply_label_keys(weighted.pod_affinity_term, labels)


def _annotation_for(profile: core_pb2.AppArmorProfile) -> str:
    if profile.type == "Unconfined":
        return APPARMOR_UNCONFINED
    if profile.type == "RuntimeDefault":
        return APPARMOR_RUNTIME_DEFAULT
    if profile.type == "Localhost" and profile.HasField("localhost_profile"):
        return APPARMOR_LOCALHOST_PREFIX + profile.localhost_profile
    return ""


def _profile_for(annotation: str) -> core_pb2.AppArmorProfile | None:
    if annotation == APPARMOR_UNCONFINED:
        return core_pb2.AppArmorProfile(type="Unconfined")
    if annotation == APPARMOR_RUNTIME_DEFAULT:
        return core_pb2.AppArmorProfile(type="RuntimeDefault")
    name = annotation.removeprefix(APPARMOR_LOCALHOST_PREFIX)
    if annotation.startswith(APPARMOR_LOCALHOST_PREFIX) and name and name.strip() == name:
        return core_pb2.AppArmorProfile(type="Localhost", localhost_profile=name)
    return None


def app_armor_version_skew(pod: core_pb2.Pod) -> None:
    """applyAppArmorVersionSkew (1.31): a container's effective profile field becomes its
    annotation; an annotation without a field becomes the container's field, unless it says what
    the pod's profile says already. Windows pods have no AppArmor."""
    spec = pod.spec
    if spec.HasField("os") and spec.os.name == "windows":
        return
    pod_profile = (
        spec.security_context.app_armor_profile
        if spec.security_context.HasField("app_armor_profile")
        else None
    )
    annotations = pod.metadata.annotations
    for c in pod_containers(spec):
        key = APPARMOR_PREFIX + c.name
        container_profile = (
            c.security_context.app_armor_profile
            if c.security_context.HasField("app_armor_profile")
            else None
        )
        if key not in annotations:
            profile = container_profile or pod_profile
            value = _annotation_for(profile) if profile is not None else ""
            if value:
                annotations[key] = value
        elif container_profile is None:
            field = _profile_for(annotations[key])
            if field is not None and field != pod_profile:
                c.security_context.app_armor_profile.CopyFrom(field)


def prepare_for_create(pod: core_pb2.Pod) -> None:
    """The steps of PrepareForCreate after the status is reset (the caller's)."""
    drop_disabled_pod_fields(pod, None)
    scheduling_gated_condition(pod)
    merge_pod_affinity_label_keys(pod)
    app_armor_version_skew(pod)
