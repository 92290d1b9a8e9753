"""The rules a CRD version's openAPIV3Schema must meet beyond being structural (apiextensions-
apiserver pkg/apis/apiextensions/validation/validation.go, ValidateCustomResourceDefinition-
OpenAPISchema and specStandardValidatorV3): the OpenAPI fields Kubernetes does not support
($ref, id, definitions, patternProperties, dependencies, additionalItems, items arrays, type
null, uniqueItems), properties and additionalProperties together, defaults where they cannot
be pruned, the x-kubernetes extensions' combinations (list-type and map keys, map-type), and the
static checks of x-kubernetes-validations rules before their CEL is compiled."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    forbidden,
    index,
    invalid,
    key,
    not_supported,
    required,
)
from podplane.apimachinery.structural.props import JSONSchemaProps

OPENAPI_V3_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
SUPPORTED_REASONS = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
]
_META_FIELDS = ("metadata", "kind", "apiVersion")
_NEWLINES = re.compile(r"[\n\r]+")

# Compiles a node's x-kubernetes-validations: (props, path, uncorrelatable path or None) ->
# errors. Given only when the schema is structural and its defaults valid.
CELChecker = Callable[[JSONSchemaProps, str, str | None], list[FieldError]]


@dataclass(frozen=True)
class SchemaOptions:
    """validationOptions, as a CRD's creation sets them. An update relaxes some for schemas
    that an older release stored (requireValidPropertyType...), which podplane never did."""

    allow_defaults: bool = True
    require_valid_property_type: bool = True
    require_structural_schema: bool = True
    require_pruned_defaults: bool = True
    require_atomic_set_type: bool = True
    require_map_list_keys_map_set_validation: bool = True


CREATE_OPTIONS = SchemaOptions()


@dataclass(frozen=True)
class _Context:
    """specStandardValidatorV3's state down the schema."""

    allow_defaults: bool
    disallow_defaults_reason: str = ""
    inside_resource_meta: bool = False
    uncorrelatable_path: str | None = None

    def forbid_defaults(self, reason: str) -> _Context:
        return dataclasses.replace(self, allow_defaults=False, disallow_defaults_reason=reason)

    def forbid_old_self(self, path: str) -> _Context:
        if self.uncorrelatable_path is not None:
            return self
        return dataclasses.replace(self, uncorrelatable_path=path)


def validate_openapi_schema(
    schema: JSONSchemaProps,
    path: str,
    options: SchemaOptions = CREATE_OPTIONS,
    cel: CELChecker | None = None,
) -> list[FieldError]:
    """ValidateCustomResourceDefinitionOpenAPISchema from the root: schema errors, then CEL's."""
    schema_errs, cel_errs = _validate(
        schema, path, _Context(options.allow_defaults), True, options, cel
    )
    return schema_errs + cel_errs


def _standard(
    s: JSONSchemaProps, path: str, ctx: _Context, options: SchemaOptions
) -> list[FieldError]:
    """specStandardValidatorV3.validate: the OpenAPI fields Kubernetes does not support."""
    errs: list[FieldError] = []
    if options.require_valid_property_type and s.type and s.type not in OPENAPI_V3_TYPES:
        errs.append(not_supported(child(path, "type"), s.type, OPENAPI_V3_TYPES))
    if s.has_default and not ctx.allow_defaults:
        detail = "must not be set"
        if ctx.disallow_defaults_reason:
            detail += " " + ctx.disallow_defaults_reason
        errs.append(forbidden(child(path, "default"), detail))
    if s.id:
        errs.append(forbidden(child(path, "id"), "id is not supported"))
    if s.additional_items is not None:
        errs.append(forbidden(child(path, "additionalItems"), "additionalItems is not supported"))
    if s.pattern_properties:
        errs.append(
            forbidden(child(path, "patternProperties"), "patternProperties is not supported")
        )
    if s.definitions:
        errs.append(forbidden(child(path, "definitions"), "definitions is not supported"))
    if s.dependencies is not None:
        errs.append(forbidden(child(path, "dependencies"), "dependencies is not supported"))
    if s.ref is not None:
        errs.append(forbidden(child(path, "$ref"), "$ref is not supported"))
    if s.type == "null":
        errs.append(
            forbidden(
                child(path, "type"), "type cannot be set to null, use nullable as an alternative"
            )
        )
    if s.items_array:
        errs.append(
            forbidden(child(path, "items"), "items must be a schema object and not an array")
        )
    if ctx.inside_resource_meta and s.x_embedded_resource:
        errs.append(
            forbidden(
                child(path, "x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            )
        )
    return errs


def _validate(
    s: JSONSchemaProps | None,
    path: str,
    ctx: _Context,
    is_root: bool,
    options: SchemaOptions,
    cel: CELChecker | None,
) -> tuple[list[FieldError], list[FieldError]]:
    if s is None:
        return [], []
    errs = _standard(s, path, ctx, options)
    cel_errs: list[FieldError] = []

    def recurse(
        sub: JSONSchemaProps | None, sub_path: str, sub_ctx: _Context, with_cel: bool
    ) -> None:
        more, more_cel = _validate(
            sub, sub_path, sub_ctx, False, options, cel if with_cel else None
        )
        errs.extend(more)
        cel_errs.extend(more_cel)

    if s.unique_items:
        errs.append(
            forbidden(
                child(path, "uniqueItems"),
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )
        )
    additional = s.additional_properties
    if additional is not None:
        if s.properties and (not additional.allows or additional.schema is not None):
            errs.append(
                forbidden(
                    child(path, "additionalProperties"),
                    "additionalProperties and properties are mutual exclusive",
                )
            )
        sub_ctx = ctx
        if ctx.inside_resource_meta:
            sub_ctx = ctx.forbid_defaults("inside additionalProperties applying to object metadata")
        recurse(additional.schema, child(path, "additionalProperties"), sub_ctx, True)
    for name, prop in s.properties.items():
        sub_ctx = ctx
        if s.x_map_type not in (None, "granular", "atomic"):  # MapIsCorrelatable
            sub_ctx = sub_ctx.forbid_old_self(path)
        if (is_root or s.x_embedded_resource) and name in _META_FIELDS:
            sub_ctx = dataclasses.replace(sub_ctx, inside_resource_meta=True)
            if is_root:
                sub_ctx = sub_ctx.forbid_defaults(f"in top-level {name}")
        recurse(prop, key(child(path, "properties"), name), sub_ctx, True)
    recurse(s.not_, child(path, "not"), ctx, False)
    for name, clauses in (("allOf", s.all_of), ("oneOf", s.one_of), ("anyOf", s.any_of)):
        for i, clause in enumerate(clauses):
            recurse(clause, index(child(path, name), i), ctx, False)
    for name, definition in s.definitions.items():
        recurse(definition, key(child(path, "definitions"), name), ctx, False)
    items_ctx = ctx if s.x_list_type == "map" else ctx.forbid_old_self(path)
    if s.items is not None:
        recurse(s.items, child(path, "items"), items_ctx, True)
    for i, item in enumerate(s.items_array or []):
        recurse(item, index(child(path, "items"), i), items_ctx, True)
    for name, dependency in (s.dependencies or {}).items():
        if isinstance(dependency, JSONSchemaProps):
            recurse(dependency, key(child(path, "dependencies"), name), ctx, False)

    errs += _extension_rules(s, path, options)
    if options.require_map_list_keys_map_set_validation:
        errs += map_list_keys_map_set(s, path)
    if s.x_validations:
        errs += _rule_statics(s, path)
        if not errs and cel is not None:
            cel_errs += cel(s, path, ctx.uncorrelatable_path)
    return errs, cel_errs


def _type_must_be(s: JSONSchemaProps, path: str, wanted: str, because: str) -> FieldError:
    detail = f"must be {wanted} if {because}"
    if not s.type:
        return required(child(path, "type"), detail)
    return invalid(child(path, "type"), s.type, detail)


def _extension_rules(s: JSONSchemaProps, path: str, options: SchemaOptions) -> list[FieldError]:
    errs: list[FieldError] = []
    if s.x_preserve_unknown_fields is False:
        errs.append(
            invalid(
                child(path, "x-kubernetes-preserve-unknown-fields"),
                False,
                "must be true or undefined",
            )
        )
    if s.x_map_type is not None and s.type != "object":
        errs.append(_type_must_be(s, path, "object", "x-kubernetes-map-type is specified"))
    if s.x_map_type is not None and s.x_map_type not in ("atomic", "granular"):
        errs.append(
            not_supported(
                child(path, "x-kubernetes-map-type"), s.x_map_type, ["atomic", "granular"]
            )
        )
    items = s.items
    if s.x_list_type is not None and s.type != "array":
        errs.append(_type_must_be(s, path, "array", "x-kubernetes-list-type is specified"))
    elif options.require_atomic_set_type and s.x_list_type == "set" and items is not None:
        set_item = "must be atomic as item of a list with x-kubernetes-list-type=set"
        if items.type == "array" and items.x_list_type not in (None, "atomic"):
            errs.append(
                invalid(child(path, "items", "x-kubernetes-list-type"), items.x_list_type, set_item)
            )
        elif items.type == "object" and items.x_map_type != "atomic":
            errs.append(
                invalid(child(path, "items", "x-kubernetes-map-type"), items.x_list_type, set_item)
            )
    if s.x_list_type is not None and s.x_list_type not in ("atomic", "set", "map"):
        errs.append(
            not_supported(
                child(path, "x-kubernetes-list-type"), s.x_list_type, ["atomic", "set", "map"]
            )
        )
    if s.x_list_map_keys:
        because = "must be map if x-kubernetes-list-map-keys is non-empty"
        if s.x_list_type is None:
            errs.append(required(child(path, "x-kubernetes-list-type"), because))
        elif s.x_list_type != "map":
            errs.append(invalid(child(path, "x-kubernetes-list-type"), s.x_list_type, because))
    if s.x_list_type == "map":
        errs += _list_map_rules(s, path)
    return errs


def _list_map_rules(s: JSONSchemaProps, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    keys_path = child(path, "x-kubernetes-list-map-keys")
    if not s.x_list_map_keys:
        errs.append(required(keys_path, "must not be empty if x-kubernetes-list-type is map"))
    if s.items is None and not s.items_array:
        errs.append(
            required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map")
        )
    if s.items is None and s.items_array:
        errs.append(
            invalid(
                child(path, "items"),
                "",
                "must only have a single schema if x-kubernetes-list-type is map",
            )
        )
    items = s.items
    if items is not None and items.type != "object":
        errs.append(
            invalid(
                child(path, "items", "type"),
                items.type,
                "must be object if parent array's x-kubernetes-list-type is map",
            )
        )
    if items is not None and items.type == "object":
        seen: set[str] = set()
        for name in s.x_list_map_keys:
            prop = items.properties.get(name)
            if prop is None:
                errs.append(
                    invalid(
                        keys_path,
                        list(s.x_list_map_keys),
                        "entries must all be names of item properties",
                    )
                )
            elif prop.type in ("array", "object"):
                errs.append(
                    invalid(
                        child(key(child(path, "items", "properties"), name), "type"),
                        items.type,
                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                    )
                )
            if name in seen:
                errs.append(
                    invalid(
                        keys_path, list(s.x_list_map_keys), "must not contain duplicate entries"
                    )
                )
            seen.add(name)
    return errs


def map_list_keys_map_set(s: JSONSchemaProps, path: str) -> list[FieldError]:
    """validateMapListKeysMapSet: set and map lists' items are not nullable; a map list's keys
    are required or defaulted, and not nullable."""
    items = s.items
    if items is None or s.x_list_type not in ("set", "map"):
        return []
    errs: list[FieldError] = []
    if items.nullable:
        errs.append(
            forbidden(
                child(path, "items", "nullable"),
                f"cannot be nullable when x-kubernetes-list-type is {s.x_list_type}",
            )
        )
    if s.x_list_type == "map":
        for name in s.x_list_map_keys:
            prop = items.properties.get(name)
            if prop is None:
                continue
            prop_path = key(child(path, "items", "properties"), name)
            if name not in items.required and not prop.has_default:
                errs.append(
                    required(
                        child(prop_path, "default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a "
                        "default or be a required property",
                    )
                )
            if prop.nullable:
                errs.append(
                    forbidden(
                        child(prop_path, "nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    )
                )
    return errs


def _rule_statics(s: JSONSchemaProps, path: str) -> list[FieldError]:
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
    return errs
