"""What every controller spec shares: label selectors, the pod template and its match with the
selector, non-negative counts and immutable fields (kubernetes pkg/apis/core/validation and
apimachinery's metav1 validation)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from apiserver.validation import fields
from apiserver.validation.ephemeral import not_in_template
from apiserver.validation.fields import FieldError
from apiserver.validation.pod import pod_spec
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, selectors

SELECTOR_MISMATCH = "`selector` does not match template `labels`"
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
V = TypeVar("V")


@dataclass(frozen=True)
class Shown:
    """A structured value shown in an error as compact JSON ({"app":"web"}), not Python's repr."""

    text: str

    def __str__(self) -> str:
        return self.text


def shown(value: Message | Mapping[str, str]) -> Shown:
    data = manifest.to_dict(value) if isinstance(value, Message) else dict(value)
    return Shown(json.dumps(data, sort_keys=True, separators=(",", ":")))


def nonnegative(path: str, value: int) -> list[FieldError]:
    if value < 0:
        return [fields.invalid(path, value, "must be greater than or equal to 0")]
    return []


def immutable(path: str, new: V, old: V) -> list[FieldError]:
    """ValidateImmutableField: scalars are shown, messages as compact JSON."""
    if new == old:
        return []
    value = shown(new) if isinstance(new, Message) else new
    return [fields.invalid(path, value, "field is immutable")]


def label_selector(path: str, selector: meta_pb2.LabelSelector) -> list[FieldError]:
    """A meta/v1 LabelSelector's expressions and labels (ValidateLabelSelector)."""
    errs: list[FieldError] = []
    for i, expr in enumerate(selector.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        if expr.operator in ("In", "NotIn"):
            if not expr.values:
                errs.append(
                    fields.required(
                        f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                    )
                )
        elif expr.operator in ("Exists", "DoesNotExist"):
            if expr.values:
                errs.append(
                    fields.forbidden(
                        f"{p}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errs.append(
                fields.invalid(f"{p}.operator", expr.operator, "not a valid selector operator")
            )
        errs += fields.qualified_name(f"{p}.key", expr.key)
    errs += fields.label_map(f"{path}.matchLabels", selector.match_labels)
    return errs


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
