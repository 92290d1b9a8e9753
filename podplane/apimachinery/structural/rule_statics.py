"""The checks of x-kubernetes-validations rules that need no CEL (apiextensions-apiserver
pkg/apis/apiextensions/validation/validation.go): a rule, a one-line message, a non-blank
messageExpression, a supported reason, and a fieldPath that names a field of the schema."""

from __future__ import annotations

import re

from podplane.apimachinery.structural.cel_rules import valid_field_path
from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    index,
    invalid,
    not_supported,
    required,
)
from podplane.apimachinery.structural.props import JSONSchemaProps
from podplane.apimachinery.structural.schema import NotStructuralError, new_structural

SUPPORTED_REASONS = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
]
_NEWLINES = re.compile(r"[\n\r]+")


def _field_path_valid(s: JSONSchemaProps, field_path: str) -> bool:
    """pathValid: a fieldPath that names a field of the node's schema (any path, if the node
    does not convert to a structural schema)."""
    try:
        structural = new_structural(s)
    except NotStructuralError:
        return True
    return valid_field_path(field_path, structural) is not None


def rule_statics(s: JSONSchemaProps, path: str) -> list[FieldError]:
    """The checks of each x-kubernetes-validations rule that need no CEL."""
    errs: list[FieldError] = []
    for i, rule in enumerate(s.x_validations):
        rule_path = index(child(path, "x-kubernetes-validations"), i)
        text, message = rule.rule.strip(), rule.message.strip()
        if not text:
            errs.append(required(child(rule_path, "rule"), "rule is not specified"))
        elif rule.message and not message:
            errs.append(
                invalid(
                    child(rule_path, "message"),
                    rule.message,
                    "message must be non-empty if specified",
                )
            )
        elif _NEWLINES.search(message):
            errs.append(
                invalid(
                    child(rule_path, "message"),
                    rule.message,
                    "message must not contain line breaks",
                )
            )
        elif _NEWLINES.search(text) and not message:
            errs.append(
                required(
                    child(rule_path, "message"),
                    "message must be specified if rule contains line breaks",
                )
            )
        if rule.message_expression and not rule.message_expression.strip():
            errs.append(
                required(
                    child(rule_path, "messageExpression"),
                    "messageExpression must be non-empty if specified",
                )
            )
        if rule.reason is not None and rule.reason not in SUPPORTED_REASONS:
            errs.append(not_supported(child(rule_path, "reason"), rule.reason, SUPPORTED_REASONS))
        if rule.field_path and not rule.field_path.strip():
            errs.append(
                invalid(
                    child(rule_path, "fieldPath"),
                    rule.field_path,
                    "fieldPath must be non-empty if specified",
                )
            )
        if _NEWLINES.search(rule.field_path):
            errs.append(
                invalid(
                    child(rule_path, "fieldPath"),
                    rule.field_path,
                    "fieldPath must not contain line breaks",
                )
            )
        if rule.field_path and not _field_path_valid(s, rule.field_path):
            errs.append(
                invalid(
                    child(rule_path, "fieldPath"), rule.field_path, "fieldPath must be a valid path"
                )
            )
    return errs
