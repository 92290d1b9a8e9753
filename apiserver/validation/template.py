"""What every controller spec shares: label selectors, the pod template and its match with the
selector, non-negative counts and immutable fields (kubernetes pkg/apis/core/validation and
apimachinery's metav1 validation)."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.validation import fields
from apiserver.validation.ephemeral import not_in_template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown
from apiserver.validation.meta import object_meta
from apiserver.validation.pod import pod_spec, pod_template_rules
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import selectors

SELECTOR_MISMATCH = "`selector` does not match template `labels`"
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector_matches(selector: meta_pb2.LabelSelector, labels: Mapping[str, str]) -> bool | None:
    """Whether a LabelSelector message selects `labels`; None if it cannot be evaluated."""
    try:
        return selectors.from_label_selector_message(selector).matches(labels)
    except selectors.SelectorError:
        return None


def pod_template(path: str, template: core_pb2.PodTemplateSpec) -> list[FieldError]:
    """A pod template's labels, annotations and pod spec (ValidatePodTemplateSpec)."""
    meta = template.metadata
    return (
        fields.label_map(f"{path}.metadata.labels", meta.labels)
        + fields.annotation_map(f"{path}.metadata.annotations", meta.annotations)
        + pod_spec(template.spec, f"{path}.spec")
        + pod_template_rules(meta.annotations, template.spec, f"{path}.spec")
        + not_in_template(template.spec, f"{path}.spec")
    )


def template_labels_selected(
    path: str, template: core_pb2.PodTemplateSpec, matches: bool | None
) -> list[FieldError]:
    """The error a selector that does not select its own template's pods gets."""
    if matches is False:
        labels = template.metadata.labels
        return [fields.invalid(f"{path}.metadata.labels", shown(labels), SELECTOR_MISMATCH)]
    return []


def restart_policy(
    path: str, template: core_pb2.PodTemplateSpec, allowed: tuple[str, ...]
) -> list[FieldError]:
    policy = template.spec.restart_policy
    if policy not in allowed:
        return [fields.unsupported(f"{path}.spec.restartPolicy", policy, allowed)]
    return []


def pod_template_object(obj: core_pb2.PodTemplate) -> list[FieldError]:
    """ValidatePodTemplate: its metadata, and its template as a controller's template is
    checked (ValidatePodTemplateSpec)."""
    return object_meta(obj.metadata, namespaced=True) + pod_template("template", obj.template)


def pod_template_object_update(
    new: core_pb2.PodTemplate, old: core_pb2.PodTemplate
) -> list[FieldError]:
    return pod_template_object(new)
