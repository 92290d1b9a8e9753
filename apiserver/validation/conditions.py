"""metav1.Condition lists, as apimachinery's ValidateConditions checks them: a type each, once, of
the label name's form; status True, False or Unknown; a transition time; a CamelCase reason."""

from __future__ import annotations

import re
from collections.abc import Iterable

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.meta.v1 import meta_pb2

STATUSES = ("False", "True", "Unknown")
MAX_REASON_BYTES = 1024
MAX_MESSAGE_BYTES = 32 * 1024
_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
REASON_MSG = (
    "a condition reason must start with alphabetic character, optionally followed by a string "
    "of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' "
    "(e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or "
    "'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"
)


def _too_long(path: str, limit: int) -> FieldError:
    return FieldError(path, "Too long", None, f"may not be more than {limit} bytes")


def condition(path: str, c: meta_pb2.Condition) -> list[FieldError]:
    """ValidateCondition."""
    errs = fields.qualified_name(f"{path}.type", c.type)
    if c.status not in STATUSES:
        errs.append(fields.unsupported(f"{path}.status", c.status, STATUSES))
    if c.observed_generation < 0:
        errs.append(
            fields.invalid(
                f"{path}.observedGeneration",
                c.observed_generation,
                "must be greater than or equal to zero",
            )
        )
    if not c.last_transition_time:
        errs.append(fields.required(f"{path}.lastTransitionTime", "must be set"))
    if not c.reason:
        errs.append(fields.required(f"{path}.reason", "must be set"))
    else:
        if not _REASON.match(c.reason):
            errs.append(fields.invalid(f"{path}.reason", c.reason, REASON_MSG))
        if len(c.reason.encode()) > MAX_REASON_BYTES:
            errs.append(_too_long(f"{path}.reason", MAX_REASON_BYTES))
    if len(c.message.encode()) > MAX_MESSAGE_BYTES:
        errs.append(_too_long(f"{path}.message", MAX_MESSAGE_BYTES))
    return errs


def conditions(path: str, items: Iterable[meta_pb2.Condition]) -> list[FieldError]:
    """ValidateConditions: each condition, and no type twice."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, c in enumerate(items):
        if c.type in seen:
            errs.append(fields.duplicate(f"{path}[{i}].type", c.type))
        seen.add(c.type)
        errs += condition(f"{path}[{i}]", c)
    return errs
