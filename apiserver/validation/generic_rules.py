"""Rules any kind's fields may follow, with Kubernetes' messages: immutable fields
(apimachinery's ValidateImmutableField), non-negative counts, label selectors (metav1's
ValidateLabelSelector), and structured values shown in errors as compact JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest

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


def shown_list(values: Iterable[Message]) -> Shown:
    """A list of messages shown as compact JSON."""
    data = [manifest.to_dict(v) for v in values]
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
