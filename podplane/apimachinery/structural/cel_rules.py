"""x-kubernetes-validations (apiextensions-apiserver pkg/apiserver/schema/cel): each rule is
compiled against its schema node's type when the CRD is created (a rule that does not compile,
or uses what podplane's CEL does not support, refuses the CRD), and evaluated on every create
and update at each value of that node, with `self` the value and `oldSelf` its old value
(transition rules run on updates only, unless optionalOldSelf).

A failed rule is `<path>: Invalid value: "<schema type>": <message>` (the message, the
messageExpression's value, or `failed rule: <rule>`), of the type its reason asks; a rule that
cannot be evaluated is `... <error> evaluating rule: <rule>`. On update, a rule that does not
use oldSelf is not held against a value that did not change (ratcheting)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural import cel
from podplane.apimachinery.structural.cel import types as cel_types
from podplane.apimachinery.structural.cel.runtime import CelValue
from podplane.apimachinery.structural.field import (
    FieldError,
    Rendered,
    child,
    duplicate,
    forbidden,
    go_quote,
    index,
    invalid,
    key,
    required,
)
from podplane.apimachinery.structural.openapi_validation import NO_OLD
from podplane.apimachinery.structural.props import JSONSchemaProps, ValidationRule
from podplane.apimachinery.structural.schema import Structural, new_structural
from podplane.apimachinery.structural.values import deep_equal

_NEWLINE = re.compile(r"\n+")


def _shown(rule: ValidationRule) -> Rendered:
    """The rule as Go's %#v prints an apiextensions.ValidationRule (a compile error's value)."""
    reason = "nil" if rule.reason is None else "0x0"
    old_self = "nil" if rule.optional_old_self is None else "0x0"
    return Rendered(
        f"apiextensions.ValidationRule{{Rule:{go_quote(rule.rule)}, "
        f"Message:{go_quote(rule.message)}, MessageExpression:{go_quote(rule.message_expression)}, "
        f"Reason:(*apiextensions.FieldValueErrorReason)({reason}), "
        f"FieldPath:{go_quote(rule.field_path)}, OptionalOldSelf:(*bool)({old_self})}}"
    )


def rule_text(rule: ValidationRule) -> str:
    """ruleErrorString: the message if there is one, else the rule."""
    return rule.message.strip() if rule.message else rule.rule.strip()


# ------------------------------------------------------------------ fieldPath
_FIELD_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:\\.|[^'\\])*)'\]")


def valid_field_path(path: str, s: Structural) -> str | None:
    """ValidFieldPath: the normalized field path (`spec.x`, `labels[k]`) a rule's fieldPath
    names in schema `s`, or None if it names nothing there."""
    out, pos, current = "", 0, s
    while pos < len(path):
        m = _FIELD_PATH_TOKEN.match(path, pos)
        if m is None:
            return None
        name = m.group(1) if m.group(1) is not None else re.sub(r"\\(.)", r"\1", m.group(2))
        pos = m.end()
        if current.properties:
            if name not in current.properties:
                return None
            out, current = child(out, name), current.properties[name]
        elif current.additional_schema is not None:
            out, current = key(out, name), current.additional_schema
        else:
            return None
    return out or None


# ------------------------------------------------------------------ compilation
@dataclass
class CompiledRule:
    rule: ValidationRule
    program: cel.Program | None = None
    message: cel.Program | None = None
    error: str = ""
    message_error: str = ""
    uses_old_self: bool = False
    field_path: str = ""


def compile_rules(s: Structural, is_resource_root: bool) -> list[CompiledRule]:
    self_type = cel_types.decl_type(s, is_resource_root) or cel_types.DYN
    out = []
    for rule in s.x_validations:
        old_type = cel_types.optional_of(self_type) if rule.optional_old_self else self_type
        variables = {"self": self_type, "oldSelf": old_type}
        compiled = CompiledRule(rule)
        try:
            compiled.program = cel.compile_expression(rule.rule, variables)
        except cel.CompileError as e:
            compiled.error = f"compilation failed: {e}"
        else:
            if compiled.program.type.kind not in ("bool", "dyn"):
                compiled.error = "cel expression must evaluate to a bool"
            compiled.uses_old_self = "oldSelf" in compiled.program.variables_used
        if rule.message_expression.strip():
            try:
                compiled.message = cel.compile_expression(rule.message_expression, variables)
            except cel.CompileError as e:
                compiled.message_error = f"messageExpression compilation failed: {e}"
            else:
                if compiled.message.type.kind not in ("string", "dyn"):
                    compiled.message_error = "messageExpression must evaluate to a string"
        if rule.field_path:
            compiled.field_path = valid_field_path(rule.field_path, s) or ""
        out.append(compiled)
    return out


def schema_checker(
    props: JSONSchemaProps, path: str, is_resource_root: bool, uncorrelatable: str | None
) -> list[FieldError]:
    """The CEL errors of a schema node's rules, for the CRD's validation."""
    errs: list[FieldError] = []
    s = new_structural(props)
    for i, compiled in enumerate(compile_rules(s, is_resource_root)):
        rule_path = index(child(path, "x-kubernetes-validations"), i)
        rule = compiled.rule
        if compiled.error:
            errs.append(invalid(child(rule_path, "rule"), _shown(rule), compiled.error))
        if compiled.message_error:
            errs.append(
                invalid(child(rule_path, "messageExpression"), _shown(rule), compiled.message_error)
            )
        if compiled.uses_old_self and uncorrelatable is not None:
            errs.append(
                invalid(
                    child(rule_path, "rule"),
                    rule.rule,
                    "oldSelf cannot be used on the uncorrelatable portion of the schema within "
                    f"{uncorrelatable}",
                )
            )
        elif (
            not compiled.uses_old_self and rule.optional_old_self is not None and not compiled.error
        ):
            errs.append(
                invalid(
                    child(rule_path, "optionalOldSelf"),
                    rule.optional_old_self,
                    "may not be set if oldSelf is not used in rule",
                )
            )
    return errs


def default_checker(s: Structural, is_root: bool, path: str, value: JSONValue) -> list[FieldError]:
    """A default's CEL errors: evaluated as its own old value, then, if that passes, without
    one (for optionalOldSelf rules)."""
    validator = RuleValidator(s, is_root)
    errs = validator.validate(path, value, value, ratchet=False)
    return errs or validator.validate(path, value, None, ratchet=False)


# ------------------------------------------------------------------ evaluation
@dataclass
class _Node:
    schema: Structural
    rules: list[CompiledRule]
    is_resource_root: bool
    properties: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    additional: _Node | None = None

    @property
    def empty(self) -> bool:
        return not (self.rules or self.properties or self.items or self.additional)


def _build(s: Structural | None, is_resource_root: bool) -> _Node | None:
    if s is None:
        return None
    node = _Node(s, compile_rules(s, is_resource_root), is_resource_root)
    for name, prop in s.properties.items():
        sub = _build(prop, prop.embedded_resource)
        if sub is not None:
            node.properties[name] = sub
    node.items = _build(s.items, s.items.embedded_resource if s.items else False)
    additional = s.additional_schema
    node.additional = _build(additional, additional.embedded_resource if additional else False)
    return None if node.empty else node


class RuleValidator:
    """A version's rules compiled once (cel.NewValidator), evaluated per object."""

    def __init__(self, s: Structural, is_resource_root: bool) -> None:
        self.root = _build(s, is_resource_root)

    @property
    def has_rules(self) -> bool:
        return self.root is not None

    def validate(
        self, path: str | None, obj: JSONValue, old: JSONValue, ratchet: bool = True
    ) -> list[FieldError]:
        """The rules' errors for `obj` (at `path`; None for a whole object, Go's nil path),
        `old` its old value (None on create). With `ratchet`, rules that do not use oldSelf
        are not held against values equal to their old ones."""
        if self.root is None:
            return []
        old_value = NO_OLD if old is None else old
        return _validate(self.root, path, obj, old_value, False, ratchet)


def _validate(
    node: _Node, path: str | None, obj: JSONValue, old: JSONValue, parent_same: bool, ratchet: bool
) -> list[FieldError]:
    if obj is None:
        return []
    same = ratchet and (deep_equal(obj, old) if old is not NO_OLD else parent_same)
    errs = _rules(node, path, obj, old, same)
    base = path or ""
    if isinstance(obj, dict):
        for k, v in obj.items():
            sub = node.properties.get(k) if k in node.schema.properties else node.additional
            if sub is None:
                continue
            sub_path = child(base, k) if k in node.schema.properties else key(base, k)
            sub_old = old[k] if isinstance(old, dict) and k in old else NO_OLD
            errs += _validate(sub, sub_path, v, sub_old, same, ratchet)
    elif isinstance(obj, list) and node.items is not None:
        for i, item in enumerate(obj):
            item_old = _map_list_old(node.schema, item, old)
            errs += _validate(node.items, index(base, i), item, item_old, same, ratchet)
    return errs


def _map_list_old(s: Structural, item: JSONValue, old: JSONValue) -> JSONValue:
    keys = s.extensions.x_list_map_keys
    if s.extensions.x_list_type != "map" or not isinstance(old, list) or not isinstance(item, dict):
        return NO_OLD
    for candidate in old:
        if isinstance(candidate, dict) and all(
            deep_equal(candidate.get(k), item.get(k)) for k in keys
        ):
            return candidate
    return NO_OLD


def _rules(
    node: _Node, path: str | None, obj: JSONValue, old: JSONValue, same: bool
) -> list[FieldError]:
    from podplane.apimachinery.structural.cel.types import with_type_and_object_meta
    from podplane.apimachinery.structural.cel.values import to_cel

    schema = with_type_and_object_meta(node.schema) if node.is_resource_root else node.schema
    type_name = node.schema.type
    shown_path = "<nil>" if path is None else path
    errs: list[FieldError] = []
    self_value = to_cel(obj, schema)
    for compiled in node.rules:
        rule, program = compiled.rule, compiled.program
        if compiled.error or program is None:
            errs.append(invalid(shown_path, type_name, f"rule compile error: {compiled.error}"))
            continue
        optional = bool(rule.optional_old_self)
        if compiled.uses_old_self and old is NO_OLD and not optional:
            continue
        variables: dict[str, CelValue] = {"self": self_value}
        old_value = to_cel(old, schema) if old is not NO_OLD else None
        variables["oldSelf"] = cel.Optional(old_value, old is not NO_OLD) if optional else old_value
        try:
            result = program.evaluate(variables)
        except cel.EvalError as e:
            message = str(e)
            if message.startswith("no such overload"):
                detail = (
                    f"'{message}': call arguments did not match a supported operator, function "
                    f"or macro signature for rule: {rule_text(rule)}"
                )
            else:
                detail = f"{message} evaluating rule: {rule_text(rule)}"
            errs.append(invalid(shown_path, type_name, detail))
            continue
        if result is True:
            continue
        if same and not compiled.uses_old_self:  # ratcheting: the value did not change
            continue
        err_path = shown_path if not compiled.field_path else child(path or "", compiled.field_path)
        errs.append(_failure(err_path, type_name, _message(compiled, variables), rule.reason))
    return errs


def _message(compiled: CompiledRule, variables: dict[str, CelValue]) -> str:
    rule = compiled.rule
    default = rule.message.strip() if rule.message else f"failed rule: {rule_text(rule)}"
    if compiled.message is None:
        return default
    try:
        value = compiled.message.evaluate(variables)
    except cel.EvalError:
        return default
    if not isinstance(value, str) or not value.strip() or _NEWLINE.search(value.strip()):
        return default
    return value.strip()


def _failure(path: str, value: str, detail: str, reason: str | None) -> FieldError:
    if reason == "FieldValueForbidden":
        return forbidden(path, detail)
    if reason == "FieldValueRequired":
        return required(path, detail)
    if reason == "FieldValueDuplicate":
        return duplicate(path, value)
    return invalid(path, value, detail)
