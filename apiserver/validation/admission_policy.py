"""ValidatingAdmissionPolicy validation (kubernetes
pkg/apis/admissionregistration/validation/validation.go, validateValidatingAdmissionPolicySpec):
a failurePolicy, an optional paramKind, matchConstraints with at least one resource rule, match
conditions, variables, and validations or audit annotations, every expression compiled with the
variables it may name (admission_cel.py)."""

from __future__ import annotations

import dataclasses
import re

from apiserver.validation import admission_cel, fields
from apiserver.validation.admission_cel import Environment
from apiserver.validation.admission_rules import FAILURE_POLICIES, match_resources
from apiserver.validation.admissionregistration import (
    MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH,
    MAX_AUDIT_ANNOTATIONS,
    VALIDATION_REASONS,
    match_conditions,
)
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from apiserver.validation.meta import object_meta
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2

_CEL_IDENTIFIER = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_CEL_RESERVED = frozenset(
    "true false null in as break const continue else for function if import let loop package "
    "namespace return var void while".split()
)
_NEWLINES = re.compile(r"[\n\r]+")


def _param_kind(kind: admreg_pb2.ParamKind, path: str) -> list[FieldError]:
    """validateParamKind: a group/version whose group is a DNS subdomain and version a DNS-1035
    label, and a kind that is one in lower case."""
    errs: list[FieldError] = []
    api_version = kind.api_version
    if not api_version:
        errs.append(fields.required(f"{path}.apiVersion"))
    elif api_version.count("/") > 1:
        errs.append(
            fields.invalid(
                f"{path}.apiVersion", api_version, f"unexpected GroupVersion string: {api_version}"
            )
        )
    else:
        group, _, version = api_version.rpartition("/") if api_version != "/" else ("", "", "")
        if group:
            problems = [e.detail for e in fields.dns1123_subdomain("", group)]
            if problems:
                errs.append(fields.invalid(f"{path}.apiVersion", group, ",".join(problems)))
        if not version:
            errs.append(
                fields.invalid(f"{path}.apiVersion", api_version, "version must be specified")
            )
        else:
            problems = [e.detail for e in fields.dns1035_label("", version)]
            if problems:
                errs.append(fields.invalid(f"{path}.apiVersion", version, ",".join(problems)))
    if not kind.kind:
        errs.append(fields.required(f"{path}.kind"))
    else:
        problems = [e.detail for e in fields.dns1035_label("", kind.kind.lower())]
        if problems:
            errs.append(
                fields.invalid(
                    f"{path}.kind",
                    kind.kind,
                    "may have mixed case, but should otherwise match: " + ",".join(problems),
                )
            )
    return errs


def _variable(v: admreg_pb2.Variable, path: str, env: Environment) -> list[FieldError]:
    errs: list[FieldError] = []
    if not v.name.strip():
        errs.append(fields.required(f"{path}.name", "name is not specified"))
    elif not _CEL_IDENTIFIER.match(v.name) or v.name in _CEL_RESERVED:
        errs.append(fields.invalid(f"{path}.name", v.name, "name is not a valid CEL identifier"))
    if not v.expression.strip():
        errs.append(fields.required(f"{path}.expression", "expression is not specified"))
    else:
        errs += admission_cel.variable(f"{path}.expression", v.name, v.expression, env)
    return errs


def _validation(
    v: admreg_pb2.Validation, path: str, env: Environment, message_env: Environment
) -> list[FieldError]:
    """validateValidation: a boolean expression, a one-line message, a string messageExpression
    (which may not use the authorizer) and a known reason."""
    errs: list[FieldError] = []
    if not v.expression.strip():
        errs.append(fields.required(f"{path}.expression", "expression is not specified"))
    else:
        errs += admission_cel.check(
            f"{path}.expression", v.expression, env, admission_cel.BOOL_RESULT
        )
    if v.message_expression and not v.message_expression.strip():
        errs.append(
            fields.invalid(
                f"{path}.messageExpression", v.message_expression, "must be non-empty if specified"
            )
        )
    elif v.message_expression.strip():
        errs += admission_cel.check(
            f"{path}.messageExpression",
            v.message_expression,
            message_env,
            admission_cel.STRING_RESULT,
        )
    message = v.message.strip()
    if v.message and not message:
        errs.append(
            fields.invalid(f"{path}.message", v.message, "message must be non-empty if specified")
        )
    elif _NEWLINES.search(message):
        errs.append(
            fields.invalid(f"{path}.message", v.message, "message must not contain line breaks")
        )
    if v.HasField("reason") and v.reason not in VALIDATION_REASONS:
        errs.append(fields.unsupported(f"{path}.reason", v.reason, VALIDATION_REASONS))
    return errs


def _audit_annotation(
    a: admreg_pb2.AuditAnnotation, policy_name: str, path: str, env: Environment
) -> list[FieldError]:
    errs: list[FieldError] = []
    if policy_name:
        errs += fields.qualified_name(f"{path}.key", f"{policy_name}/{a.key}")
    else:
        errs.append(fields.invalid(f"{path}.key", a.key, "requires metadata.name be non-empty"))
    value = a.value_expression.strip()
    if not value:
        errs.append(fields.required(f"{path}.valueExpression", "valueExpression is not specified"))
    elif len(value.encode()) > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH:
        errs.append(
            fields.required(
                f"{path}.valueExpression",
                f"must not exceed {MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length",
            )
        )
    else:
        compiled = admission_cel.check(
            f"{path}.valueExpression", value, env, admission_cel.STRING_OR_NULL
        )
        # The field error quotes the expression as written, not trimmed.
        errs += [fields.invalid(e.path, a.value_expression, e.detail) for e in compiled]
    return errs


def _audit_annotations(
    spec: admreg_pb2.ValidatingAdmissionPolicySpec, name: str, env: Environment
) -> list[FieldError]:
    errs: list[FieldError] = []
    items = spec.audit_annotations
    if len(items) > MAX_AUDIT_ANNOTATIONS:
        shown = Shown(
            "[]admissionregistration.AuditAnnotation{"
            + ", ".join(
                f"admissionregistration.AuditAnnotation{{Key:{fields.go_quote(a.key)}, "
                f"ValueExpression:{fields.go_quote(a.value_expression)}}}"
                for a in items
            )
            + "}"
        )
        errs.append(
            fields.invalid(
                "spec.auditAnnotations",
                shown,
                f"must not have more than {MAX_AUDIT_ANNOTATIONS} auditAnnotations",
            )
        )
    keys: set[str] = set()
    for i, a in enumerate(items):
        path = f"spec.auditAnnotations[{i}]"
        errs += _audit_annotation(a, name, path, env)
        if a.key in keys:
            errs.append(fields.duplicate(f"{path}.key", a.key))
        keys.add(a.key)
    return errs


def _spec(
    obj: admreg_pb2.ValidatingAdmissionPolicy, ignore_match_conditions: bool
) -> list[FieldError]:
    spec = obj.spec
    errs: list[FieldError] = []
    if not spec.HasField("failure_policy"):
        errs.append(fields.required("spec.failurePolicy"))
    elif spec.failure_policy not in FAILURE_POLICIES:
        errs.append(fields.unsupported("spec.failurePolicy", spec.failure_policy, FAILURE_POLICIES))
    has_params = spec.HasField("param_kind")
    if has_params:
        errs += _param_kind(spec.param_kind, "spec.paramKind")
    if not spec.HasField("match_constraints"):
        errs.append(fields.required("spec.matchConstraints"))
    else:
        errs += match_resources(spec.match_constraints, "spec.matchConstraints")
        # At least one resource rule gives the expressions their types.
        if not spec.match_constraints.resource_rules:
            errs.append(fields.required("spec.matchConstraints.resourceRules"))
    if not ignore_match_conditions:
        errs += match_conditions(spec.match_conditions, "spec.matchConditions", has_params)
    env = (
        admission_cel.composed(has_params) if spec.variables else Environment(has_params=has_params)
    )
    for i, variable in enumerate(spec.variables):
        errs += _variable(variable, f"spec.variables[{i}]", env)
    # A messageExpression may not use the authorizer; it sees the same variables.
    message_env = dataclasses.replace(env, has_authorizer=False)
    if not spec.validations and not spec.audit_annotations:
        detail = "validations or auditAnnotations must contain at least one item"
        errs.append(fields.required("spec.validations", detail))
        errs.append(fields.required("spec.auditAnnotations", detail))
        return errs
    for i, validation in enumerate(spec.validations):
        errs += _validation(validation, f"spec.validations[{i}]", env, message_env)
    return errs + _audit_annotations(spec, obj.metadata.name, env)


def validating_admission_policy(obj: admreg_pb2.ValidatingAdmissionPolicy) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=False) + _spec(obj, False)


def validating_admission_policy_update(
    new: admreg_pb2.ValidatingAdmissionPolicy, old: admreg_pb2.ValidatingAdmissionPolicy
) -> list[FieldError]:
    """As a create, but match conditions are not compiled again while they and the paramKind
    are unchanged."""
    unchanged = (
        new.spec.HasField("param_kind") == old.spec.HasField("param_kind")
        and new.spec.param_kind == old.spec.param_kind
        and list(new.spec.match_conditions) == list(old.spec.match_conditions)
    )
    return object_meta(new.metadata, namespaced=False) + _spec(new, unchanged)
