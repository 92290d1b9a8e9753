"""Pod updates (kubernetes pkg/apis/core/validation: ValidatePodUpdate and
ValidatePodEphemeralContainersUpdate): a pod's spec is fixed at creation but for its images, a
shorter activeDeadlineSeconds, added tolerations, removed scheduling gates and, while it is
gated, a narrower node selection; a mirror pod's spec is wholly fixed."""

from __future__ import annotations

import difflib
import json

from apiserver.validation import ephemeral, fields, pod_gates, security_annotations
from apiserver.validation.fields import FieldError
from apiserver.validation.pod import MAX_ACTIVE_DEADLINE, MIRROR_POD_ANNOTATION, pod
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

UPDATABLE_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
MUTABLE_HINT = "pod updates may not change fields other than " + ",".join(UPDATABLE_FIELDS)


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


def _container_updates(
    path: str, new: list[core_pb2.Container], old: list[core_pb2.Container]
) -> tuple[list[FieldError], bool]:
    """ValidateContainerUpdates: the same containers (else stop here), each with an image."""
    if len(new) != len(old):
        return [fields.forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, c in enumerate(new):
        if not c.image:
            errs.append(fields.required(f"{path}[{i}].image"))
        if c.image.strip() != c.image:
            errs.append(
                fields.invalid(
                    f"{path}[{i}].image", c.image, "must not have leading or trailing whitespace"
                )
            )
    return errs, False


def _active_deadline(new: core_pb2.PodSpec, old: core_pb2.PodSpec) -> tuple[list[FieldError], bool]:
    """Set once, then only lowered; never unset."""
    path = "spec.activeDeadlineSeconds"
    if new.HasField("active_deadline_seconds"):
        value = new.active_deadline_seconds
        if not 0 <= value <= MAX_ACTIVE_DEADLINE:
            detail = f"must be between 0 and {MAX_ACTIVE_DEADLINE}, inclusive"
            return [fields.invalid(path, value, detail)], True
        if old.HasField("active_deadline_seconds") and old.active_deadline_seconds < value:
            return [
                fields.invalid(path, value, "must be less than or equal to previous value")
            ], True
    elif old.HasField("active_deadline_seconds"):
        return [
            fields.invalid(path, "null", "must not update from a positive integer to nil value")
        ], False
    return [], False


def _only_added_tolerations(
    new: list[core_pb2.Toleration], old: list[core_pb2.Toleration]
) -> list[FieldError]:
    """Every toleration stays (its tolerationSeconds may change); more may be added."""
    for before in old:
        found = False
        for after in new:
            probe = core_pb2.Toleration()
            probe.CopyFrom(before)
            if after.HasField("toleration_seconds"):
                probe.toleration_seconds = after.toleration_seconds
            else:
                probe.ClearField("toleration_seconds")
            if probe == after:
                found = True
                break
        if not found:
            return [
                fields.forbidden(
                    "spec.tolerations",
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            ]
    return []


def _spec_diff(old: core_pb2.PodSpec, new: core_pb2.PodSpec) -> str:
    """What differs, as changed lines of the two specs' JSON (Kubernetes shows a cmp.Diff)."""
    before = json.dumps(manifest.to_dict(old), indent=2, sort_keys=True).splitlines()
    after = json.dumps(manifest.to_dict(new), indent=2, sort_keys=True).splitlines()
    lines = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


def _gated_node_selection(munged: core_pb2.PodSpec, old: core_pb2.PodSpec) -> list[FieldError]:
    """A gated pod's nodeSelector may grow and its required node affinity narrow; once checked,
    the old values are put back into `munged` so the remaining comparison ignores them."""
    errs: list[FieldError] = []
    if dict(munged.node_selector) != dict(old.node_selector):
        errs += pod_gates.node_selector_mutation(
            "spec.nodeSelector", dict(munged.node_selector), dict(old.node_selector)
        )
        munged.node_selector.clear()
        munged.node_selector.update(old.node_selector)
    old_affinity = old.affinity.node_affinity if old.affinity.HasField("node_affinity") else None
    new_affinity = (
        munged.affinity.node_affinity if munged.affinity.HasField("node_affinity") else None
    )
    if old_affinity != new_affinity:
        errs += pod_gates.node_affinity_mutation(
            "spec.affinity.nodeAffinity", new_affinity, old_affinity
        )
        if old_affinity is None:
            munged.affinity.ClearField("node_affinity")
            if not old.HasField("affinity") and munged.affinity == core_pb2.Affinity():
                munged.ClearField("affinity")
        else:
            munged.affinity.node_affinity.CopyFrom(old_affinity)
    return errs


def pod_update(new: core_pb2.Pod, old: core_pb2.Pod) -> list[FieldError]:
    """ValidatePodUpdate."""
    errs = pod(new)
    errs += security_annotations.app_armor_annotation_updates(
        new.metadata.annotations, old.metadata.annotations
    )
    mirror_errs = _mirror_update(new, old)
    if mirror_errs:
        return errs + mirror_errs
    errs += ephemeral.unchanged_by_pod_update(new, old)
    for group, a, b in (
        ("containers", new.spec.containers, old.spec.containers),
        ("initContainers", new.spec.init_containers, old.spec.init_containers),
    ):
        more, stop = _container_updates(f"spec.{group}", list(a), list(b))
        errs += more
        if stop:
            return errs
    more, stop = _active_deadline(new.spec, old.spec)
    errs += more
    if stop:
        return errs
    errs += _only_added_tolerations(list(new.spec.tolerations), list(old.spec.tolerations))
    errs += pod_gates.only_deleted_scheduling_gates(
        "spec.schedulingGates", new.spec.scheduling_gates, old.spec.scheduling_gates
    )
    if new.spec == old.spec:
        return errs
    munged = core_pb2.PodSpec()
    munged.CopyFrom(new.spec)
    munged.ClearField("ephemeral_containers")  # reported above, with its own message
    munged.ephemeral_containers.extend(old.spec.ephemeral_containers)
    for mine, theirs in (
        (munged.containers, old.spec.containers),
        (munged.init_containers, old.spec.init_containers),
    ):
        for c, before in zip(mine, theirs, strict=True):
            c.image = before.image
    if old.spec.HasField("active_deadline_seconds"):
        munged.active_deadline_seconds = old.spec.active_deadline_seconds
    else:
        munged.ClearField("active_deadline_seconds")
    del munged.scheduling_gates[:]
    munged.scheduling_gates.extend(old.spec.scheduling_gates)
    del munged.tolerations[:]
    munged.tolerations.extend(old.spec.tolerations)
    if (
        old.spec.HasField("termination_grace_period_seconds")
        and old.spec.termination_grace_period_seconds < 0
        and munged.termination_grace_period_seconds == 1
    ):
        munged.termination_grace_period_seconds = old.spec.termination_grace_period_seconds
    if old.spec.scheduling_gates:
        errs += _gated_node_selection(munged, old.spec)
    if munged != old.spec:
        diff = _spec_diff(old.spec, munged)
        errs.append(fields.forbidden("spec", MUTABLE_HINT + (f"\n{diff}" if diff else "")))
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
