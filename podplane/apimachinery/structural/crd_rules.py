"""The rules a CRD version's openAPIV3Schema must meet beyond being structural (apiextensions-
apiserver pkg/apis/apiextensions/validation/validation.go, ValidateCustomResourceDefinition-
OpenAPISchema and specStandardValidatorV3): the OpenAPI fields Kubernetes does not support
($ref, id, definitions, patternProperties, dependencies, additionalItems, items arrays, type
null, uniqueItems), properties and additionalProperties together, defaults where they cannot
be pruned, the x-kubernetes extensions' combinations (list-type and map keys, map-type), and the
static checks of x-kubernetes-validations rules before their CEL is compiled."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from podplane.apimachinery.structural.extension_rules import (
    extension_rules,
    map_list_keys_map_set,
)
from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    forbidden,
    index,
    key,
    not_supported,
)
from podplane.apimachinery.structural.props import JSONSchemaProps
from podplane.apimachinery.structural.rule_statics import rule_statics

OPENAPI_V3_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
_META_FIELDS = ("metadata", "kind", "apiVersion")

# Compiles a node's x-kubernetes-validations: (props, path, is resource root, uncorrelatable
# path or None) -> errors. Given only when the schema is structural and its defaults valid.
CELChecker = Callable[[JSONSchemaProps, str, bool, str | None], list[FieldError]]


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

    errs += extension_rules(s, path, options.require_atomic_set_type)
    if options.require_map_list_keys_map_set_validation:
        errs += map_list_keys_map_set(s, path)
    if s.x_validations:
        errs += rule_statics(s, path)
        if not errs and cel is not None:
            cel_errs += cel(s, path, is_root or s.x_embedded_resource, ctx.uncorrelatable_path)
    return errs, cel_errs
