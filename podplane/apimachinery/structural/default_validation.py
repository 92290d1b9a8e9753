"""Whether a schema's defaults are valid (apiextensions-apiserver pkg/apiserver/schema/defaulting/
validation.go, ValidateDefaults): each default must be pruned already (`must not have unknown
fields`), give valid metadata where it is or contains an embedded resource's metadata, and pass
the schema's own validation and CEL rules, as if it were the value.

A default inside an embedded resource's apiVersion, kind or metadata is checked in the
object it would build: the resource around it, down from the nearest embedded resource (with
apiVersion validation/v1 and kind Validation, as Kubernetes builds it)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural import objectmeta
from podplane.apimachinery.structural.field import FieldError, child, invalid, key
from podplane.apimachinery.structural.kubeopenapi import to_props
from podplane.apimachinery.structural.openapi_validation import ValidatorOptions, validate_value
from podplane.apimachinery.structural.pruning import as_resource_root, prune
from podplane.apimachinery.structural.schema import Structural
from podplane.apimachinery.structural.values import deep_equal

# CEL validation of a default: (schema, is resource root, path, value) -> errors.
DefaultRuleChecker = Callable[[Structural, bool, str, JSONValue], list[FieldError]]


class SurroundingError(ValueError):
    pass


@dataclass(frozen=True)
class _Surrounding:
    """SurroundingObjectFunc: the way from the nearest resource down to the default's place, as
    keys (str) and list items (None)."""

    steps: tuple[str | None, ...] = ()

    def child(self, name: str) -> _Surrounding:
        return _Surrounding((*self.steps, name))

    def index(self) -> _Surrounding:
        return _Surrounding((*self.steps, None))

    def wrap(self, value: JSONValue) -> JSONObject:
        for step in reversed(self.steps):
            value = [value] if step is None else {step: value}
        if not isinstance(value, dict):
            raise SurroundingError("object root default value must be of object type")
        value.setdefault("kind", "Validation")
        value.setdefault("apiVersion", "validation/v1")
        return value

    def get(self, obj: JSONObject) -> tuple[JSONValue, bool]:
        value: JSONValue = obj
        for step in self.steps:
            if step is None:
                if not isinstance(value, list) or not value:
                    return None, False
                value = value[0]
            else:
                if not isinstance(value, dict) or step not in value:
                    return None, False
                value = value[step]
        return value, True


def aggregate(errors: list[FieldError]) -> str:
    """utilerrors.NewAggregate(errs).Error()."""
    messages = list(dict.fromkeys(str(e) for e in errors))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


@dataclass(frozen=True)
class _Checks:
    require_pruned: bool
    meta_validator: objectmeta.MetaValidator | None
    cel: DefaultRuleChecker | None


def validate_defaults(
    path: str,
    s: Structural,
    require_pruned_defaults: bool = True,
    meta_validator: objectmeta.MetaValidator | None = None,
    cel: DefaultRuleChecker | None = None,
) -> list[FieldError]:
    """ValidateDefaults for a version's schema at `path` (`...openAPIV3Schema`)."""
    root = as_resource_root(s)
    checks = _Checks(require_pruned_defaults, meta_validator, cel)
    return _validate(path, root, root, _Surrounding(), False, checks)


def _validate(
    path: str,
    s: Structural,
    root: Structural,
    surrounding: _Surrounding,
    inside_meta: bool,
    checks: _Checks,
) -> list[FieldError]:
    if s.embedded_resource:
        inside_meta, surrounding, root = False, _Surrounding(), s
    errs: list[FieldError] = []
    if s.generic.has_default:
        errs += _default(path, s, root, surrounding, inside_meta, checks)
    if s.items is not None:
        errs += _validate(
            child(path, "items"), s.items, root, surrounding.index(), inside_meta, checks
        )
    for name, prop in s.properties.items():
        meta = inside_meta or (s.embedded_resource and name in ("metadata", "apiVersion", "kind"))
        prop_path = key(child(path, "properties"), name)
        errs += _validate(prop_path, prop, root, surrounding.child(name), meta, checks)
    return errs


def _default(
    path: str,
    s: Structural,
    root: Structural,
    surrounding: _Surrounding,
    inside_meta: bool,
    checks: _Checks,
) -> list[FieldError]:
    default = s.generic.default
    default_path = child(path, "default")
    props = to_props(s)
    options = ValidatorOptions(runtime=False)
    if inside_meta:
        try:
            obj = surrounding.wrap(copy.deepcopy(default))
        except SurroundingError as e:
            return [invalid(path, "", f"failed to validate default value inside metadata: {e}")]
        err, _ = objectmeta.coerce(None, obj, root, True, False)
        if err is not None:
            return [invalid(default_path, default, f"must result in valid metadata: {err}")]
        meta_errs = objectmeta.validate_meta("", obj, root, True, checks.meta_validator)
        if meta_errs:
            return [
                invalid(
                    default_path, default, f"must result in valid metadata: {aggregate(meta_errs)}"
                )
            ]
    else:
        errs: list[FieldError] = []
        if checks.require_pruned:
            pruned = copy.deepcopy(default)
            prune(pruned, s, s.embedded_resource)
            if not deep_equal(pruned, default):
                errs.append(invalid(default_path, default, "must not have unknown fields"))
        coerced = copy.deepcopy(default)
        err, _ = objectmeta.coerce(default_path, coerced, s, s.embedded_resource, False)
        if err is not None:
            return [*errs, err]
        meta_errs = objectmeta.validate_meta(
            default_path, default, s, s.embedded_resource, checks.meta_validator
        )
        if meta_errs:
            return errs + meta_errs
        schema_errs = validate_value(props, default, default_path, options=options)
        if schema_errs:
            return errs + schema_errs
        if checks.cel is not None:
            errs += checks.cel(s, s is root, default_path, default)
        return errs
    schema_errs = validate_value(props, default, default_path, options=options)
    if schema_errs:
        return schema_errs
    return checks.cel(s, s is root, default_path, default) if checks.cel is not None else []
