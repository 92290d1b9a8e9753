"""The structural schema (apiextensions-apiserver pkg/apiserver/schema/structural.go): a CRD
version's schema split into what describes the shape of objects (types, properties, items,
additionalProperties, the x-kubernetes extensions, descriptions, defaults) and value validations
that only restrict values (enum, limits, patterns, required, and the logical junctors allOf,
anyOf, oneOf and not, whose clauses may carry value validations only).

`new_structural(props)` is NewStructural: it converts a decoded JSONSchemaProps; whether the
result is structural is checked by `structural_validation.validate_structural`."""

from __future__ import annotations

from dataclasses import dataclass, field

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.props import JSONSchemaProps, ValidationRule


class NotStructuralError(ValueError):
    """NewStructural's refusal of a field a structural schema cannot hold ($ref, id, ...)."""


@dataclass
class Generic:
    description: str = ""
    type: str = ""  # object, array, string, integer, number, boolean, or "" (any)
    title: str = ""
    default: JSONValue = None
    has_default: bool = False
    nullable: bool = False

    def is_empty(self) -> bool:
        return self == Generic()


@dataclass
class Extensions:
    x_preserve_unknown_fields: bool = False
    x_embedded_resource: bool = False
    x_int_or_string: bool = False
    x_list_map_keys: list[str] = field(default_factory=list)
    x_list_type: str | None = None  # atomic, set, map
    x_map_type: str | None = None  # atomic, granular


@dataclass
class ValueValidation:
    format: str = ""
    maximum: float | None = None
    exclusive_maximum: bool = False
    minimum: float | None = None
    exclusive_minimum: bool = False
    max_length: int | None = None
    min_length: int | None = None
    pattern: str = ""
    max_items: int | None = None
    min_items: int | None = None
    unique_items: bool = False
    multiple_of: float | None = None
    enum: list[JSONValue] | None = None
    max_properties: int | None = None
    min_properties: int | None = None
    required: list[str] = field(default_factory=list)
    all_of: list[NestedValueValidation] = field(default_factory=list)
    one_of: list[NestedValueValidation] = field(default_factory=list)
    any_of: list[NestedValueValidation] = field(default_factory=list)
    not_: NestedValueValidation | None = None


@dataclass
class NestedValueValidation:
    """A clause of allOf/anyOf/oneOf/not: value validations, and the generic fields and
    extensions it must not set to be structural (kept to report them)."""

    value_validation: ValueValidation = field(default_factory=ValueValidation)
    x_validations: list[ValidationRule] = field(default_factory=list)
    items: NestedValueValidation | None = None
    properties: dict[str, NestedValueValidation] = field(default_factory=dict)
    additional_properties: NestedValueValidation | None = None
    forbidden_generics: Generic = field(default_factory=Generic)
    forbidden_extensions: Extensions = field(default_factory=Extensions)


@dataclass
class Structural:
    items: Structural | None = None
    properties: dict[str, Structural] = field(default_factory=dict)
    # additionalProperties: None (unset), or (allows, schema); `false` is (False, None).
    additional_properties: AdditionalProperties | None = None
    generic: Generic = field(default_factory=Generic)
    extensions: Extensions = field(default_factory=Extensions)
    x_validations: list[ValidationRule] = field(default_factory=list)
    value_validation: ValueValidation | None = None

    # Shorthands for the fields read everywhere.
    @property
    def type(self) -> str:
        return self.generic.type

    @property
    def nullable(self) -> bool:
        return self.generic.nullable

    @property
    def preserve_unknown_fields(self) -> bool:
        return self.extensions.x_preserve_unknown_fields

    @property
    def embedded_resource(self) -> bool:
        return self.extensions.x_embedded_resource

    @property
    def additional_schema(self) -> Structural | None:
        """additionalProperties' schema, if it has one."""
        return self.additional_properties.schema if self.additional_properties else None


@dataclass
class AdditionalProperties:
    allows: bool
    schema: Structural | None = None


def _check_supported(props: JSONSchemaProps) -> None:
    """validateUnsupportedFields: fields that the CRD validation rejects must be unset."""
    for attr, name in (
        ("id", "id"),
        ("schema", "schema"),
        ("ref", "$ref"),
        ("pattern_properties", "patternProperties"),
        ("dependencies", "dependencies"),
        ("additional_items", "additionalItems"),
        ("definitions", "definitions"),
    ):
        if getattr(props, attr):
            raise NotStructuralError(f"OpenAPIV3Schema '{name}' is not supported")
    if props.items_array:
        raise NotStructuralError("OpenAPIV3Schema 'items' must be a schema, but is an array")


def _generic(props: JSONSchemaProps) -> Generic:
    return Generic(
        description=props.description,
        type=props.type,
        title=props.title,
        default=props.default,
        has_default=props.has_default,
        nullable=props.nullable,
    )


def _extensions(props: JSONSchemaProps) -> Extensions:
    if props.x_preserve_unknown_fields is False:
        raise NotStructuralError(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
        )
    return Extensions(
        x_preserve_unknown_fields=bool(props.x_preserve_unknown_fields),
        x_embedded_resource=props.x_embedded_resource,
        x_int_or_string=props.x_int_or_string,
        x_list_map_keys=list(props.x_list_map_keys),
        x_list_type=props.x_list_type,
        x_map_type=props.x_map_type,
    )


def _value_validation(props: JSONSchemaProps) -> ValueValidation:
    return ValueValidation(
        format=props.format,
        maximum=props.maximum,
        exclusive_maximum=props.exclusive_maximum,
        minimum=props.minimum,
        exclusive_minimum=props.exclusive_minimum,
        max_length=props.max_length,
        min_length=props.min_length,
        pattern=props.pattern,
        max_items=props.max_items,
        min_items=props.min_items,
        unique_items=props.unique_items,
        multiple_of=props.multiple_of,
        enum=list(props.enum) if props.enum is not None else None,
        max_properties=props.max_properties,
        min_properties=props.min_properties,
        required=list(props.required),
        all_of=[_nested(p) for p in props.all_of],
        one_of=[_nested(p) for p in props.one_of],
        any_of=[_nested(p) for p in props.any_of],
        not_=_nested(props.not_) if props.not_ is not None else None,
    )


def _nested(props: JSONSchemaProps) -> NestedValueValidation:
    _check_supported(props)
    out = NestedValueValidation(
        value_validation=_value_validation(props),
        x_validations=list(props.x_validations),
        forbidden_generics=_generic(props),
        forbidden_extensions=_extensions(props),
    )
    if props.items is not None:
        out.items = _nested(props.items)
    out.properties = {k: _nested(v) for k, v in props.properties.items()}
    additional = props.additional_properties
    if additional is not None:
        if additional.schema is not None:
            out.additional_properties = _nested(additional.schema)
        elif additional.allows:
            out.additional_properties = NestedValueValidation()
    return out


def new_structural(props: JSONSchemaProps) -> Structural:
    """NewStructural. Raises NotStructuralError for the fields no structural schema has."""
    _check_supported(props)
    out = Structural(
        generic=_generic(props),
        extensions=_extensions(props),
        value_validation=_value_validation(props),
        x_validations=list(props.x_validations),
    )
    if props.items is not None:
        out.items = new_structural(props.items)
    out.properties = {k: new_structural(v) for k, v in props.properties.items()}
    additional = props.additional_properties
    if additional is not None:
        schema = new_structural(additional.schema) if additional.schema is not None else None
        out.additional_properties = AdditionalProperties(
            additional.allows or schema is not None, schema
        )
    return out
