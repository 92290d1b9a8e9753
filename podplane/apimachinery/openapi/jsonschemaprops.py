"""The OpenAPI definitions of a CustomResourceDefinition version's schema, as Kubernetes publishes
them (io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps and the types it
refers to): `kubectl explain customresourcedefinition.spec.versions.schema.openAPIV3Schema`
reads them. The schema itself is held as its JSON (codec format "json-schema-props"): no proto
message declares these, so they are written here, as metatypes.py writes the meta types."""

from __future__ import annotations

from collections.abc import Callable

from podplane.apimachinery.openapi.schemas import JSON_SCHEMA_PROPS, Dialect, Schema

PACKAGE = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"
JSON = f"{PACKAGE}.JSON"
OR_ARRAY = f"{PACKAGE}.JSONSchemaPropsOrArray"
OR_BOOL = f"{PACKAGE}.JSONSchemaPropsOrBool"
OR_STRING_ARRAY = f"{PACKAGE}.JSONSchemaPropsOrStringArray"
EXTERNAL_DOCUMENTATION = f"{PACKAGE}.ExternalDocumentation"
VALIDATION_RULE = f"{PACKAGE}.ValidationRule"


def _s(type_: str, description: str = "", fmt: str = "") -> Schema:
    out: Schema = {"type": type_}
    if fmt:
        out["format"] = fmt
    if description:
        out["description"] = description
    return out


def _atomic_strings(description: str) -> Schema:
    return {
        "type": "array",
        "items": {"type": "string", "default": ""},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


def _json_schema_props(dialect: Dialect) -> Schema:
    # In name order, as Kubernetes lists them.
    properties = dict(
        sorted(
            {
                **_annotation_properties(dialect),
                **_structure_properties(dialect),
                **_constraint_properties(dialect),
                **_kubernetes_extension_properties(dialect),
            }.items()
        )
    )
    return {
        "type": "object",
        "description": "JSONSchemaProps is a JSON-Schema following Specification Draft 4 "
        "(http://json-schema.org/).",
        "properties": properties,
    }


def _annotation_properties(dialect: Dialect) -> dict[str, Schema]:
    """What documents the value: references, descriptions, examples, its default."""
    props = dialect.property_ref
    return {
        "$ref": _s("string", "A reference to another schema: not allowed in a CRD's schema."),
        "$schema": _s("string", "The JSON Schema dialect the schema is written in."),
        "default": props(
            JSON,
            "default is a default value for undefined object fields. Defaulting is a beta "
            "feature under the CustomResourceDefaulting feature gate. Defaulting requires "
            "spec.preserveUnknownFields to be false.",
        ),
        "description": _s("string", "What the field is: what `kubectl explain` prints."),
        "example": props(JSON, "An example of the field's value."),
        "externalDocs": props(EXTERNAL_DOCUMENTATION, "Where more is written about the field."),
        "id": _s("string", "Not allowed in a CRD's schema."),
        "title": _s("string", "A short title for the field."),
    }


def _structure_properties(dialect: Dialect) -> dict[str, Schema]:
    """The value's type and the schemas of its parts."""
    props = dialect.property_ref
    schemas: Schema = {
        "type": "object",
        "additionalProperties": dialect.item_ref(JSON_SCHEMA_PROPS, struct=True),
    }
    schema_list: Schema = {
        "type": "array",
        "items": dialect.item_ref(JSON_SCHEMA_PROPS, struct=True),
        "x-kubernetes-list-type": "atomic",
    }
    return {
        "additionalItems": props(OR_BOOL, "Not allowed in a CRD's schema."),
        "additionalProperties": props(
            OR_BOOL,
            "The schema of the values of an object's keys other than those of properties (a "
            "map), or false.",
        ),
        "allOf": {**schema_list, "description": "Schemas the value must match all of."},
        "anyOf": {**schema_list, "description": "Schemas the value must match one or more of."},
        "definitions": {**schemas, "description": "Not allowed in a CRD's schema."},
        "dependencies": {
            "type": "object",
            "additionalProperties": dialect.ref(OR_STRING_ARRAY),
            "description": "Not allowed in a CRD's schema.",
        },
        "items": props(OR_ARRAY, "The schema of an array's items."),
        "not": props(JSON_SCHEMA_PROPS, "A schema the value must not match."),
        "oneOf": {**schema_list, "description": "Schemas the value must match exactly one of."},
        "patternProperties": {**schemas, "description": "Not allowed in a CRD's schema."},
        "properties": {**schemas, "description": "The schema of each field of an object."},
        "required": _atomic_strings("The fields an object must have."),
        "type": _s(
            "string",
            "The type of the value: object, array, string, integer, number or boolean.",
        ),
    }


def _constraint_properties(dialect: Dialect) -> dict[str, Schema]:
    """The bounds, formats and values the value must keep to."""
    return {
        "enum": {
            "type": "array",
            "items": dialect.ref(JSON),
            "description": "The values the field may take.",
            "x-kubernetes-list-type": "atomic",
        },
        "exclusiveMaximum": _s("boolean", "Whether the maximum itself is refused."),
        "exclusiveMinimum": _s("boolean", "Whether the minimum itself is refused."),
        "format": _s(
            "string",
            "format is an OpenAPI v3 format string. Unknown formats are ignored. The following "
            "formats are validated: bsonobjectid, uri, email, hostname, ipv4, ipv6, cidr, mac, "
            "uuid, uuid3, uuid4, uuid5, isbn, isbn10, isbn13, creditcard, ssn, hexcolor, "
            "rgbcolor, byte, password, date, duration, datetime.",
        ),
        "maxItems": _s("integer", "The most items an array may have.", "int64"),
        "maxLength": _s("integer", "The longest a string may be.", "int64"),
        "maxProperties": _s("integer", "The most keys an object may have.", "int64"),
        "maximum": _s("number", "The largest a number may be.", "double"),
        "minItems": _s("integer", "The fewest items an array may have.", "int64"),
        "minLength": _s("integer", "The shortest a string may be.", "int64"),
        "minProperties": _s("integer", "The fewest keys an object may have.", "int64"),
        "minimum": _s("number", "The smallest a number may be.", "double"),
        "multipleOf": _s("number", "What a number must be a multiple of.", "double"),
        "nullable": _s("boolean", "Whether the value may be null."),
        "pattern": _s("string", "A regular expression a string must match."),
        "uniqueItems": _s("boolean", "Whether an array's items must differ."),
    }


def _kubernetes_extension_properties(dialect: Dialect) -> dict[str, Schema]:
    """Kubernetes' own x-kubernetes-* extensions."""
    return {
        "x-kubernetes-embedded-resource": _s(
            "boolean",
            "x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes "
            "runtime.Object, with TypeMeta and ObjectMeta. The type must be object. It is "
            "allowed to further restrict the embedded object. kind, apiVersion and metadata are "
            "validated automatically. x-kubernetes-preserve-unknown-fields is allowed to be "
            "true, but does not have to be if the object is fully specified (up to kind, "
            "apiVersion, metadata).",
        ),
        "x-kubernetes-int-or-string": _s(
            "boolean",
            "x-kubernetes-int-or-string specifies that this value is either an integer or a "
            "string. If this is true, an empty type is allowed and type as child of anyOf is "
            "permitted if following one of the following patterns: 1) anyOf: type: integer, "
            "type: string; 2) allOf: anyOf: type: integer, type: string, ... zero or more",
        ),
        "x-kubernetes-list-map-keys": _atomic_strings(
            "x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` "
            "by specifying the keys used as the index of the map."
        ),
        "x-kubernetes-list-type": _s(
            "string",
            "x-kubernetes-list-type annotates an array to further describe its topology: "
            "atomic (the default: a single entity, replaced whole), set (unique scalar items) "
            "or map (items identified by their keys, x-kubernetes-list-map-keys).",
        ),
        "x-kubernetes-map-type": _s(
            "string",
            "x-kubernetes-map-type annotates an object to further describe its topology: "
            "granular (the default: a real map or a struct with fields of their own) or atomic "
            "(a single entity, replaced whole).",
        ),
        "x-kubernetes-preserve-unknown-fields": _s(
            "boolean",
            "x-kubernetes-preserve-unknown-fields stops the API server decoding step from "
            "pruning fields which are not specified in the validation schema. This affects "
            "fields recursively, but switches back to normal pruning behaviour if nested "
            "properties or additionalProperties are specified in the schema.",
        ),
        "x-kubernetes-validations": {
            "type": "array",
            "items": dialect.item_ref(VALIDATION_RULE, struct=False),
            "description": "x-kubernetes-validations describes a list of validation rules "
            "written in the CEL expression language.",
            "x-kubernetes-list-map-keys": ["rule"],
            "x-kubernetes-list-type": "map",
            "x-kubernetes-patch-merge-key": "rule",
            "x-kubernetes-patch-strategy": "merge",
        },
    }


def _json(dialect: Dialect) -> Schema:
    return {
        "description": "JSON represents any valid JSON value. These types are supported: bool, "
        "int64, float64, string, []interface{}, map[string]interface{} and nil."
    }


def _or_array(dialect: Dialect) -> Schema:
    return {
        "description": "JSONSchemaPropsOrArray represents a value that can either be a "
        "JSONSchemaProps or an array of JSONSchemaProps. Mainly here for serialization purposes."
    }


def _or_bool(dialect: Dialect) -> Schema:
    return {
        "description": "JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. "
        "Defaults to true for the boolean property."
    }


def _or_string_array(dialect: Dialect) -> Schema:
    return {
        "description": "JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string "
        "array."
    }


def _external_documentation(dialect: Dialect) -> Schema:
    return {
        "type": "object",
        "description": "ExternalDocumentation allows referencing an external resource for "
        "extended documentation.",
        "properties": {
            "description": _s("string", "What the documentation is."),
            "url": _s("string", "Where the documentation is."),
        },
    }


def _validation_rule(dialect: Dialect) -> Schema:
    return {
        "type": "object",
        "description": "ValidationRule describes a validation rule written in the CEL "
        "expression language.",
        "properties": {
            "fieldPath": _s(
                "string",
                "fieldPath represents the field path returned when the validation fails.",
            ),
            "message": _s(
                "string", "Message represents the message displayed when validation fails."
            ),
            "messageExpression": _s(
                "string",
                "MessageExpression declares a CEL expression that evaluates to the validation "
                "failure message that is returned when this rule fails.",
            ),
            "optionalOldSelf": _s(
                "boolean",
                "optionalOldSelf is used to opt a transition rule into evaluation even when "
                "the object is first created, or if the old object is missing the value.",
            ),
            "reason": _s(
                "string",
                "reason provides a machine-readable validation failure reason that is "
                "returned to the caller when a request fails this validation rule: "
                '"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired" or '
                '"FieldValueDuplicate".',
            ),
            "rule": _s(
                "string",
                "Rule represents the expression which will be evaluated by CEL. The `self` "
                "variable in the CEL expression is bound to the scoped value.",
            ),
        },
        "required": ["rule"],
    }


DEFINITIONS: dict[str, Callable[[Dialect], Schema]] = {
    JSON_SCHEMA_PROPS: _json_schema_props,
    JSON: _json,
    OR_ARRAY: _or_array,
    OR_BOOL: _or_bool,
    OR_STRING_ARRAY: _or_string_array,
    EXTERNAL_DOCUMENTATION: _external_documentation,
    VALIDATION_RULE: _validation_rule,
}
