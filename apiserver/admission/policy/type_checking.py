"""The type checking of a ValidatingAdmissionPolicy, as Kubernetes' status controller runs it
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go): every validation's
expression and messageExpression compiled again with `object` and `oldObject` typed by the
schema of each kind its matchConstraints name explicitly (no wildcard, no subresource; at most
10 kinds) and `params` by the paramKind's schema, so that a field the kind does not have is a
warning: `apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:15: undefined field
'replica'`. The schemas are the served OpenAPI v3 definitions of the built-in kinds (and, as
the apiserver resolves them, a served custom resource version's structural schema); a kind
whose schema is not known is not checked, as Kubernetes skips a schema it cannot resolve."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apiserver.validation import admission_cel
from apiserver.validation.admission_cel import Environment
from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.openapi import documents
from podplane.apimachinery.openapi.schemas import Dialect, message_name
from podplane.apimachinery.structural import cel
from podplane.apimachinery.structural.cel import types as t
from podplane.apimachinery.structural.cel.types import Type, escape

MAX_TYPES_TO_CHECK = 10
_REF_PREFIX = Dialect.V3.value
# A recursive definition (JSONSchemaProps) is typed dyn past this depth.
_MAX_DEPTH = 32


@dataclass(frozen=True, order=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str

    def __str__(self) -> str:
        """schema.GroupVersionKind's String()."""
        return f"{self.group}/{self.version}, Kind={self.kind}"


# (group, version, resource) -> the kinds serving it
KindsFor = Callable[[str, str, str], Sequence[GroupVersionKind]]
# a kind -> its CEL type, None when its schema is not known
SchemaType = Callable[[GroupVersionKind], Type | None]


def builtin_kinds(group: str, version: str, resource: str) -> list[GroupVersionKind]:
    return [
        GroupVersionKind(r.group, r.version, r.kind)
        for r in resources.ALL_VERSIONS
        if (r.group, r.version, r.plural) == (group, version, resource)
    ]


def _schema_type(schema: JSONObject, defs: dict[str, JSONObject], depth: int) -> Type | None:
    if depth > _MAX_DEPTH:
        return t.DYN
    ref = schema.get("$ref")
    if ref is None and len(schema.get("allOf") or ()) == 1:
        ref = schema["allOf"][0].get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.removeprefix(_REF_PREFIX))
        return _schema_type(target, defs, depth + 1) if target is not None else t.DYN
    if schema.get("x-kubernetes-int-or-string") or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    ):
        return t.DYN
    kind = schema.get("type")
    if kind == "array":
        items = _schema_type(schema.get("items") or {}, defs, depth + 1)
        return t.list_of(items) if items is not None else None
    if kind == "object":
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            value = _schema_type(additional, defs, depth + 1)
            return t.map_of(t.STRING, value) if value is not None else None
        fields: dict[str, Type] = {}
        names: dict[str, str] = {}
        for name, prop in (schema.get("properties") or {}).items():
            prop_type = _schema_type(prop, defs, depth + 1)
            cel_name = escape(name)
            if prop_type is not None and cel_name is not None:
                fields[cel_name], names[cel_name] = prop_type, name
        return Type("object", fields=fields, names=names)
    if kind == "string":
        formats = {"byte": t.BYTES, "duration": t.DURATION, "date-time": t.TIMESTAMP}
        return formats.get(str(schema.get("format") or ""), t.STRING)
    if kind is None:
        return t.DYN
    return {"boolean": t.BOOL, "number": t.DOUBLE, "integer": t.INT}.get(str(kind))


@functools.cache
def builtin_schema_type(gvk: GroupVersionKind) -> Type | None:
    """The CEL type of a built-in kind's objects, from its OpenAPI v3 definition."""
    for r in resources.ALL_VERSIONS:
        if (r.group, r.version, r.kind) == (gvk.group, gvk.version, gvk.kind):
            name = message_name(r.message)
            defs = documents.definitions([name], Dialect.V3)
            return _schema_type(defs[name], defs, 0)
    return None


def _explicit(items: Sequence[str]) -> list[str] | None:
    return None if any("*" in i for i in items) else sorted(items)


def types_to_check(policy: JSONObject, kinds_for: KindsFor) -> list[GroupVersionKind]:
    """typesToCheck: the kinds the policy's resource rules name without wildcards."""
    rules = ((policy.get("spec") or {}).get("matchConstraints") or {}).get("resourceRules") or ()
    found: set[GroupVersionKind] = set()
    for rule in rules:
        groups = _explicit(rule.get("apiGroups") or ())
        versions = _explicit(rule.get("apiVersions") or ())
        named = sorted(r for r in rule.get("resources") or () if "*" not in r and "/" not in r)
        if not groups or not versions or not named:
            continue
        count = 0
        for group in groups:
            for version in versions:
                for resource in named:
                    for gvk in kinds_for(group, version, resource):
                        found.add(gvk)
                        count += 1
                        if count == MAX_TYPES_TO_CHECK:
                            return sorted(found)
    return sorted(found)


def _issues(
    expression: str,
    object_type: Type,
    params: Type | None,
    variables: Sequence[JSONObject],
) -> str:
    """The expression's compilation error with these types, "" when it compiles."""
    env = (
        admission_cel.composed(params is not None) if variables else Environment(params is not None)
    )
    declared = env.declarations()
    declared.update(object=object_type, oldObject=object_type)
    if params is not None:
        declared["params"] = params
    for v in variables:
        try:
            program = cel.compile_expression(str(v["expression"]), declared, admission_cel.AUTHZ)
            env.add_variable(str(v["name"]), program.type)
        except cel.CompileError:
            env.add_variable(str(v["name"]), t.DYN)
    try:
        cel.compile_expression(expression, declared, admission_cel.AUTHZ)
    except cel.CompileError as e:
        return f"compilation failed: {e}"
    return ""


def check(policy: JSONObject, kinds_for: KindsFor, schema_type: SchemaType) -> list[JSONObject]:
    """The policy's status.typeChecking.expressionWarnings (TypeChecker.Check)."""
    spec = policy.get("spec") or {}
    typed = [(g, ty) for g in types_to_check(policy, kinds_for) if (ty := schema_type(g))]
    params: Type | None = None
    param_kind = spec.get("paramKind")
    if isinstance(param_kind, dict):
        group, _, version = str(param_kind.get("apiVersion") or "").rpartition("/")
        params = schema_type(GroupVersionKind(group, version, str(param_kind.get("kind") or "")))
    variables = list(spec.get("variables") or ())
    warnings: list[JSONObject] = []
    for i, validation in enumerate(spec.get("validations") or ()):
        for key in ("expression", "messageExpression"):
            expression = validation.get(key)
            if not expression:
                continue
            messages = [
                f"{gvk}: {issue}\n"
                for gvk, object_type in typed
                if (issue := _issues(str(expression), object_type, params, variables))
            ]
            if messages:
                warnings.append(
                    {"fieldRef": f"spec.validations[{i}].{key}", "warning": "\n".join(messages)}
                )
    return warnings
