"""Tolerations (kubernetes pkg/apis/core/validation ValidateTolerations), as a RuntimeClass's
scheduling lists them."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")


def tolerations(path: str, items: Sequence[core_pb2.Toleration]) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, t in enumerate(items):
        errs += _toleration(f"{path}[{i}]", t)
    return errs


def _toleration(path: str, t: core_pb2.Toleration) -> list[FieldError]:
    errs: list[FieldError] = []
    if t.key:
        errs += fields.qualified_name(f"{path}.key", t.key)
    elif t.operator != "Exists":
        # An empty key with Exists matches every taint.
        errs.append(
            fields.invalid(
                f"{path}.operator",
                t.operator,
                "operator must be Exists when `key` is empty, which means "
                '"match all values and all keys"',
            )
        )
    if t.HasField("toleration_seconds") and t.effect != "NoExecute":
        detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
        errs.append(fields.invalid(f"{path}.effect", t.effect, detail))
    if t.operator in ("", "Equal"):
        value_errs = fields.label_value(f"{path}.operator", t.value)
        if value_errs:  # one error, its reasons joined as IsValidLabelValue's are
            detail = ";".join(e.detail for e in value_errs)
            errs.append(fields.invalid(f"{path}.operator", t.value, detail))
    elif t.operator == "Exists":
        if t.value:
            errs.append(
                fields.invalid(
                    f"{path}.operator", t.value, "value must be empty when `operator` is 'Exists'"
                )
            )
    else:
        errs.append(fields.unsupported(f"{path}.operator", t.operator, TOLERATION_OPERATORS))
    if t.effect and t.effect not in TAINT_EFFECTS:
        errs.append(fields.unsupported(f"{path}.effect", t.effect, TAINT_EFFECTS))
    return errs
