"""JSONSchemaProps: a CRD version's `schema.openAPIV3Schema` decoded from JSON into typed Python,
as apiextensions.k8s.io/v1's JSONSchemaProps decodes it.

Decoding is strict about each field's JSON type, as Go's encoding/json is: `maxLength: "3"`
fails with Go's message (`json: cannot unmarshal string into Go struct field
JSONSchemaProps.<path>.maxLength of type int64`). A JSON null is an absent field (Go leaves the
pointer nil). Unknown keys are kept out and listed (`unknown`), for the caller's strict field
validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from podplane.apimachinery.json_types import JSONValue

T = TypeVar("T")


class SchemaDecodeError(ValueError):
    """The schema's JSON does not decode into JSONSchemaProps; the message is Go's."""


@dataclass
class ValidationRule:
    """x-kubernetes-validations[i]: a CEL rule."""

    rule: str = ""
    message: str = ""
    message_expression: str = ""
    reason: str | None = None
    field_path: str = ""
    optional_old_self: bool | None = None

    def to_json(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {"rule": self.rule}
        if self.message:
            out["message"] = self.message
        if self.message_expression:
            out["messageExpression"] = self.message_expression
        if self.reason is not None:
            out["reason"] = self.reason
        if self.field_path:
            out["fieldPath"] = self.field_path
        if self.optional_old_self is not None:
            out["optionalOldSelf"] = self.optional_old_self
        return out


@dataclass
class SchemaOrBool:
    """additionalProperties / additionalItems: a schema (allows) or a boolean."""

    allows: bool
    schema: JSONSchemaProps | None = None


@dataclass
class JSONSchemaProps:
    id: str = ""
    schema: str = ""  # $schema
    ref: str | None = None  # $ref
    description: str = ""
    type: str = ""
    format: str = ""
    title: str = ""
    default: JSONValue = None
    has_default: bool = False
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
    items: JSONSchemaProps | None = None
    items_array: list[JSONSchemaProps] | None = None  # items given as an array of schemas
    all_of: list[JSONSchemaProps] = field(default_factory=list)
    one_of: list[JSONSchemaProps] = field(default_factory=list)
    any_of: list[JSONSchemaProps] = field(default_factory=list)
    not_: JSONSchemaProps | None = None
    properties: dict[str, JSONSchemaProps] = field(default_factory=dict)
    additional_properties: SchemaOrBool | None = None
    pattern_properties: dict[str, JSONSchemaProps] = field(default_factory=dict)
    dependencies: dict[str, JSONSchemaProps | list[str]] | None = None
    additional_items: SchemaOrBool | None = None
    definitions: dict[str, JSONSchemaProps] = field(default_factory=dict)
    external_docs: dict[str, str] | None = None
    example: JSONValue = None
    nullable: bool = False
    x_preserve_unknown_fields: bool | None = None
    x_embedded_resource: bool = False
    x_int_or_string: bool = False
    x_list_map_keys: list[str] = field(default_factory=list)
    x_list_type: str | None = None
    x_map_type: str | None = None
    x_validations: list[ValidationRule] = field(default_factory=list)
    # Keys of the JSON object that JSONSchemaProps has no field for, as dotted paths.
    unknown: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ decoding
def _json_kind(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Decoder:
    def __init__(self, go_path: str, struct: str = "JSONSchemaProps") -> None:
        self.go_path = go_path
        self.struct = struct

    def fail(self, name: str, value: JSONValue, go_type: str) -> SchemaDecodeError:
        kind = _json_kind(value)
        if kind.startswith("number") and go_type in ("string", "bool"):
            kind = "number"
        where = f"{self.go_path}.{name}" if self.go_path else name
        return SchemaDecodeError(
            f"json: cannot unmarshal {kind} into Go struct field {self.struct}.{where} "
            f"of type {go_type}"
        )

    def string(self, name: str, value: JSONValue) -> str:
        if not isinstance(value, str):
            raise self.fail(name, value, "string")
        return value

    def boolean(self, name: str, value: JSONValue) -> bool:
        if not isinstance(value, bool):
            raise self.fail(name, value, "bool")
        return value

    def int64(self, name: str, value: JSONValue) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(name, value, "int64")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(name, value, "int64")
            value = int(value)
        if not -(2**63) <= value < 2**63:
            raise self.fail(name, value, "int64")
        return int(value)

    def float64(self, name: str, value: JSONValue) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(name, value, "float64")
        return float(value)

    def strings(self, name: str, value: JSONValue) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(name, value, "[]string")
        return [self.string(name, item) for item in value]

    def schema(self, name: str, value: JSONValue) -> JSONSchemaProps:
        if not isinstance(value, dict):
            raise self.fail(name, value, "v1.JSONSchemaProps")
        return decode_props(value, f"{self.go_path}.{name}" if self.go_path else name)

    def schemas(self, name: str, value: JSONValue) -> list[JSONSchemaProps]:
        if not isinstance(value, list):
            raise self.fail(name, value, "[]v1.JSONSchemaProps")
        return [self.schema(name, item) for item in value]

    def schema_map(self, name: str, value: JSONValue) -> dict[str, JSONSchemaProps]:
        if not isinstance(value, dict):
            raise self.fail(name, value, "map[string]v1.JSONSchemaProps")
        return {k: self.schema(name, v) for k, v in value.items() if v is not None} | {
            k: JSONSchemaProps() for k, v in value.items() if v is None
        }

    def schema_or_bool(self, name: str, value: JSONValue) -> SchemaOrBool:
        if isinstance(value, bool):
            return SchemaOrBool(value)
        if isinstance(value, dict):
            return SchemaOrBool(True, self.schema(name, value))
        raise SchemaDecodeError("boolean or JSON schema expected")

    def items(self, props: JSONSchemaProps, value: JSONValue) -> None:
        if isinstance(value, dict):
            props.items = self.schema("items", value)
        elif isinstance(value, list):
            props.items_array = self.schemas("items", value)
        # Anything else decodes to an empty JSONSchemaPropsOrArray, as Go's UnmarshalJSON does.

    def dependencies(self, value: JSONValue) -> dict[str, JSONSchemaProps | list[str]]:
        if not isinstance(value, dict):
            raise self.fail("dependencies", value, "v1.JSONSchemaDependencies")
        out: dict[str, JSONSchemaProps | list[str]] = {}
        for k, v in value.items():
            out[k] = self.schema("dependencies", v) if isinstance(v, dict) else []
            if isinstance(v, list):
                out[k] = self.strings("dependencies", v)
        return out

    def rules(self, value: JSONValue) -> list[ValidationRule]:
        name = "x-kubernetes-validations"
        if not isinstance(value, list):
            raise self.fail(name, value, "v1.ValidationRules")
        inner = _Decoder(f"{self.go_path}.{name}" if self.go_path else name, "ValidationRule")
        out = []
        for item in value:
            if not isinstance(item, dict):
                raise self.fail(name, item, "v1.ValidationRule")
            rule = ValidationRule()
            for k, v in item.items():
                if v is None:
                    continue
                if k in _RULE_STRINGS:
                    setattr(rule, _RULE_STRINGS[k], inner.string(k, v))
                elif k == "optionalOldSelf":
                    rule.optional_old_self = inner.boolean(k, v)
            out.append(rule)
        return out


_RULE_STRINGS = {
    "rule": "rule",
    "message": "message",
    "messageExpression": "message_expression",
    "reason": "reason",
    "fieldPath": "field_path",
}

_Setter = Callable[[_Decoder, JSONSchemaProps, JSONValue], None]


def _set(attr: str, kind: str) -> _Setter:
    def setter(d: _Decoder, p: JSONSchemaProps, v: JSONValue) -> None:
        name = _JSON_NAMES[attr]
        setattr(p, attr, getattr(d, kind)(name, v))

    return setter


def _set_default(d: _Decoder, p: JSONSchemaProps, v: JSONValue) -> None:
    p.default, p.has_default = v, True


def _set_example(d: _Decoder, p: JSONSchemaProps, v: JSONValue) -> None:
    p.example = v


def _set_enum(d: _Decoder, p: JSONSchemaProps, v: JSONValue) -> None:
    if not isinstance(v, list):
        raise d.fail("enum", v, "[]v1.JSON")
    p.enum = list(v)


def _set_docs(d: _Decoder, p: JSONSchemaProps, v: JSONValue) -> None:
    if not isinstance(v, dict):
        raise d.fail("externalDocs", v, "v1.ExternalDocumentation")
    inner = _Decoder(f"{d.go_path}.externalDocs", "ExternalDocumentation")
    p.external_docs = {k: inner.string(k, x) for k, x in v.items() if k in ("description", "url")}


_JSON_NAMES = {
    "id": "id",
    "schema": "$schema",
    "ref": "$ref",
    "description": "description",
    "type": "type",
    "format": "format",
    "title": "title",
    "maximum": "maximum",
    "exclusive_maximum": "exclusiveMaximum",
    "minimum": "minimum",
    "exclusive_minimum": "exclusiveMinimum",
    "max_length": "maxLength",
    "min_length": "minLength",
    "pattern": "pattern",
    "max_items": "maxItems",
    "min_items": "minItems",
    "unique_items": "uniqueItems",
    "multiple_of": "multipleOf",
    "max_properties": "maxProperties",
    "min_properties": "minProperties",
    "required": "required",
    "all_of": "allOf",
    "one_of": "oneOf",
    "any_of": "anyOf",
    "not_": "not",
    "properties": "properties",
    "additional_properties": "additionalProperties",
    "pattern_properties": "patternProperties",
    "additional_items": "additionalItems",
    "definitions": "definitions",
    "nullable": "nullable",
    "x_preserve_unknown_fields": "x-kubernetes-preserve-unknown-fields",
    "x_embedded_resource": "x-kubernetes-embedded-resource",
    "x_int_or_string": "x-kubernetes-int-or-string",
    "x_list_map_keys": "x-kubernetes-list-map-keys",
    "x_list_type": "x-kubernetes-list-type",
    "x_map_type": "x-kubernetes-map-type",
}
_KINDS = {
    "string": ("id", "schema", "ref", "description", "type", "format", "title", "pattern"),
    "boolean": ("exclusive_maximum", "exclusive_minimum", "unique_items", "nullable"),
    "int64": ("max_length", "min_length", "max_items", "min_items", "max_properties"),
    "float64": ("maximum", "minimum", "multiple_of"),
    "strings": ("required", "x_list_map_keys"),
    "schemas": ("all_of", "one_of", "any_of"),
    "schema": ("not_",),
    "schema_map": ("properties", "pattern_properties", "definitions"),
    "schema_or_bool": ("additional_properties", "additional_items"),
}
_SETTERS: dict[str, _Setter] = {
    _JSON_NAMES[attr]: _set(attr, kind) for kind, attrs in _KINDS.items() for attr in attrs
}
_SETTERS |= {
    "minProperties": _set("min_properties", "int64"),
    "x-kubernetes-preserve-unknown-fields": _set("x_preserve_unknown_fields", "boolean"),
    "x-kubernetes-embedded-resource": _set("x_embedded_resource", "boolean"),
    "x-kubernetes-int-or-string": _set("x_int_or_string", "boolean"),
    "x-kubernetes-list-type": _set("x_list_type", "string"),
    "x-kubernetes-map-type": _set("x_map_type", "string"),
    "default": _set_default,
    "example": _set_example,
    "enum": _set_enum,
    "externalDocs": _set_docs,
    "items": lambda d, p, v: d.items(p, v),
    "dependencies": lambda d, p, v: setattr(p, "dependencies", d.dependencies(v)),
    "x-kubernetes-validations": lambda d, p, v: setattr(p, "x_validations", d.rules(v)),
}


def decode_props(value: dict[str, JSONValue], go_path: str = "") -> JSONSchemaProps:
    """The JSONSchemaProps of a schema's JSON object. `go_path` is the object's place in the
    enclosing document as Go's decoding errors name it (`spec.versions.schema.openAPIV3Schema`).
    Raises SchemaDecodeError."""
    decoder = _Decoder(go_path)
    props = JSONSchemaProps()
    for name, item in value.items():
        setter = _SETTERS.get(name)
        if setter is None:
            props.unknown.append(f"{go_path}.{name}" if go_path else name)
        elif item is not None:
            setter(decoder, props, item)
    return props
