"""A structural schema back as JSONSchemaProps (Structural.ToKubeOpenAPI): what defaults are
validated against, and what the published OpenAPI is built from."""

from __future__ import annotations

from podplane.apimachinery.structural.props import JSONSchemaProps, SchemaOrBool
from podplane.apimachinery.structural.schema import (
    Extensions,
    Generic,
    NestedValueValidation,
    Structural,
    ValueValidation,
)


def to_props(s: Structural) -> JSONSchemaProps:
    out = JSONSchemaProps()
    if s.items is not None:
        out.items = to_props(s.items)
    out.properties = {k: to_props(v) for k, v in s.properties.items()}
    if s.additional_properties is not None:
        schema = s.additional_properties.schema
        out.additional_properties = SchemaOrBool(
            s.additional_properties.allows, to_props(schema) if schema is not None else None
        )
    _generic(s.generic, out)
    _extensions(s.extensions, out)
    if s.value_validation is not None:
        _value_validation(s.value_validation, out)
    out.x_validations = list(s.x_validations)
    return out


def _generic(g: Generic, out: JSONSchemaProps) -> None:
    out.type = g.type
    out.nullable = g.nullable
    out.description = g.description
    out.title = g.title
    out.default, out.has_default = g.default, g.has_default


def _extensions(x: Extensions, out: JSONSchemaProps) -> None:
    out.x_preserve_unknown_fields = True if x.x_preserve_unknown_fields else None
    out.x_embedded_resource = x.x_embedded_resource
    out.x_int_or_string = x.x_int_or_string
    out.x_list_map_keys = list(x.x_list_map_keys)
    out.x_list_type = x.x_list_type
    out.x_map_type = x.x_map_type


def _value_validation(v: ValueValidation, out: JSONSchemaProps) -> None:
    out.format = v.format
    out.maximum, out.exclusive_maximum = v.maximum, v.exclusive_maximum
    out.minimum, out.exclusive_minimum = v.minimum, v.exclusive_minimum
    out.max_length, out.min_length, out.pattern = v.max_length, v.min_length, v.pattern
    out.max_items, out.min_items, out.unique_items = v.max_items, v.min_items, v.unique_items
    out.multiple_of = v.multiple_of
    out.enum = list(v.enum) if v.enum is not None else None
    out.max_properties, out.min_properties = v.max_properties, v.min_properties
    out.required = list(v.required)
    out.all_of = [_nested(n) for n in v.all_of]
    out.any_of = [_nested(n) for n in v.any_of]
    out.one_of = [_nested(n) for n in v.one_of]
    out.not_ = _nested(v.not_) if v.not_ is not None else None


def _nested(n: NestedValueValidation) -> JSONSchemaProps:
    out = JSONSchemaProps()
    _value_validation(n.value_validation, out)
    out.x_validations = list(n.x_validations)
    if n.items is not None:
        out.items = _nested(n.items)
    out.properties = {k: _nested(v) for k, v in n.properties.items()}
    _generic(n.forbidden_generics, out)  # normally empty; int-or-string's anyOf types
    _extensions(n.forbidden_extensions, out)
    return out
