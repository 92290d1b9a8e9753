"""The OpenAPI definitions a custom resource's version publishes (apiextensions-apiserver
pkg/controller/openapi/builder and v2/conversion.go): the kind's schema, from the version's
structural schema with int-or-string unfolded, with apiVersion, kind and a metadata reference to
ObjectMeta added at the root and in each embedded resource, and
x-kubernetes-group-version-kind; and the list kind's. So `kubectl explain <kind>.spec` shows the
schema's descriptions and kubectl's client-side validation knows the fields.

OpenAPI v2 (Swagger 2.0) cannot say everything v3 can: its schemas lose allOf, anyOf, oneOf and
not; a nullable field loses its type, properties and items (and its place in `required`); a
field that preserves unknown fields loses its properties and items (and `type: object`); and a
root that preserves unknown fields is published as `{type: object}` alone.

    definitions(structural, group="stable.example.com", version="v1", kind="CronTab",
                list_kind="CronTabList", plural="crontabs", dialect=Dialect.V3)
    -> {"com.example.stable.v1.CronTab": {...}, "com.example.stable.v1.CronTabList": {...}}"""

from __future__ import annotations

import copy

from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.openapi.schemas import Dialect
from podplane.apimachinery.structural.kubeopenapi import to_props
from podplane.apimachinery.structural.props import JSONSchemaProps
from podplane.apimachinery.structural.schema import (
    Generic,
    NestedValueValidation,
    Structural,
    ValueValidation,
)
from podplane.apimachinery.structural.structural_validation import (
    is_int_or_string_all_of,
    is_int_or_string_any_of,
)

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_CONVENTIONS = "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
API_VERSION = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    f"unrecognized values. More info: {_CONVENTIONS}#resources"
)
KIND = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    f"CamelCase. More info: {_CONVENTIONS}#types-kinds"
)
EMBEDDED_API_VERSION = (
    "apiVersion defines the versioned schema of this representation of an object. More info: "
    f"{_CONVENTIONS}#resources"
)
EMBEDDED_KIND = (
    "kind is a string value representing the type of this object. In CamelCase. More info: "
    f"{_CONVENTIONS}#types-kinds"
)
OBJECT_METADATA = f"Standard object's metadata. More info: {_CONVENTIONS}#metadata"
LIST_METADATA = f"Standard list metadata. More info: {_CONVENTIONS}#types-kinds"


def definition_name(group: str, version: str, kind: str) -> str:
    """util.ToRESTFriendlyName: the group's domain reversed (com.example.stable.v1.CronTab)."""
    return ".".join([*reversed(group.split(".")), version, kind]) if group else f"{version}.{kind}"


# ------------------------------------------------------------------ schema transformations
def unfold(s: Structural) -> Structural:
    """Structural.Unfold: int-or-string spelled out as anyOf [integer, string]."""
    s = copy.deepcopy(s)
    _unfold(s)
    return s


def _unfold(s: Structural) -> None:
    x_int_or_string = s.extensions.x_int_or_string
    if x_int_or_string and not (is_int_or_string_any_of(s) or is_int_or_string_all_of(s)):
        clauses = [
            NestedValueValidation(forbidden_generics=Generic(type="integer")),
            NestedValueValidation(forbidden_generics=Generic(type="string")),
        ]
        vv = s.value_validation = s.value_validation or ValueValidation()
        if not vv.any_of:
            vv.any_of = clauses
        else:
            first = NestedValueValidation(value_validation=ValueValidation(any_of=clauses))
            vv.all_of = [first, *vv.all_of]
    for child in _children(s):
        _unfold(child)


def _children(s: Structural) -> list[Structural]:
    out = list(s.properties.values())
    if s.items is not None:
        out.append(s.items)
    if s.additional_schema is not None:
        out.append(s.additional_schema)
    return out


def to_v2(s: Structural) -> Structural:
    """ToStructuralOpenAPIV2: what Swagger 2.0 can say of the schema."""
    s = copy.deepcopy(s)
    _to_v2(s)
    return s


def _to_v2(s: Structural) -> None:
    vv = s.value_validation
    if vv is not None:
        vv.all_of, vv.one_of, vv.any_of, vv.not_ = [], [], [], None
    if s.nullable:
        s.generic.type, s.generic.nullable = "", False
        s.items, s.properties = None, {}
    if s.preserve_unknown_fields:
        s.items, s.properties = None, {}
    if s.items is None and s.type == "array":
        s.generic.type = ""
    if s.preserve_unknown_fields and s.type == "object":
        s.generic.type = ""
    if vv is not None:
        nullable = {name for name, prop in s.properties.items() if prop.nullable}
        vv.required = [name for name in vv.required if name not in nullable]
        additional = s.additional_schema
        if additional is not None and additional.nullable:
            vv.required = []
    for child in _children(s):
        _to_v2(child)


# ------------------------------------------------------------------ JSON
_SCALARS = (
    ("description", "description"), ("type", "type"), ("format", "format"), ("title", "title"),
    ("maximum", "maximum"), ("exclusive_maximum", "exclusiveMaximum"), ("minimum", "minimum"),
    ("exclusive_minimum", "exclusiveMinimum"), ("max_length", "maxLength"),
    ("min_length", "minLength"), ("pattern", "pattern"), ("max_items", "maxItems"),
    ("min_items", "minItems"), ("unique_items", "uniqueItems"), ("multiple_of", "multipleOf"),
    ("max_properties", "maxProperties"), ("min_properties", "minProperties"),
    ("required", "required"), ("nullable", "nullable"),
    ("x_embedded_resource", "x-kubernetes-embedded-resource"),
    ("x_int_or_string", "x-kubernetes-int-or-string"),
    ("x_list_map_keys", "x-kubernetes-list-map-keys"), ("x_list_type", "x-kubernetes-list-type"),
    ("x_map_type", "x-kubernetes-map-type"),
    ("x_preserve_unknown_fields", "x-kubernetes-preserve-unknown-fields"),
)  # fmt: skip


def props_json(p: JSONSchemaProps) -> JSONObject:
    """A JSONSchemaProps as the JSON schema it is (empty and false fields omitted)."""
    out: JSONObject = {}
    for attr, name in _SCALARS:
        value = getattr(p, attr)
        if value not in (None, "", False, []):
            out[name] = value
    if p.has_default:
        out["default"] = p.default
    if p.enum is not None:
        out["enum"] = p.enum
    if p.items is not None:
        out["items"] = props_json(p.items)
    if p.properties:
        out["properties"] = {k: props_json(v) for k, v in p.properties.items()}
    if p.additional_properties is not None:
        schema = p.additional_properties.schema
        out["additionalProperties"] = (
            props_json(schema) if schema else p.additional_properties.allows
        )
    for name, clauses in (("allOf", p.all_of), ("anyOf", p.any_of), ("oneOf", p.one_of)):
        if clauses:
            out[name] = [props_json(c) for c in clauses]
    if p.not_ is not None:
        out["not"] = props_json(p.not_)
    if p.x_validations:
        out["x-kubernetes-validations"] = [r.to_json() for r in p.x_validations]
    return out


def _add_embedded_properties(schema: JSONObject, dialect: Dialect) -> None:
    """addEmbeddedProperties: each embedded resource gets apiVersion, kind and metadata."""
    for prop in schema.get("properties", {}).values():
        _add_embedded_properties(prop, dialect)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _add_embedded_properties(schema[key], dialect)
    if dialect is Dialect.V2 and schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if schema.get("x-kubernetes-embedded-resource"):
        properties = schema.setdefault("properties", {})
        properties["apiVersion"] = {"type": "string", "description": EMBEDDED_API_VERSION}
        properties["kind"] = {"type": "string", "description": EMBEDDED_KIND}
        properties["metadata"] = dialect.property_ref(f"{META}.ObjectMeta", OBJECT_METADATA)
        required = schema.setdefault("required", [])
        required.extend(name for name in ("kind", "apiVersion") if name not in required)


def _gvk(group: str, version: str, kind: str) -> list[JSONValue]:
    return [{"group": group, "kind": kind, "version": version}]


def kind_schema(
    s: Structural | None, group: str, version: str, kind: str, dialect: Dialect
) -> JSONObject:
    """buildKubeNative: the kind's definition."""
    if s is None or (dialect is Dialect.V2 and s.preserve_unknown_fields):
        out: JSONObject = {"type": "object"}
    else:
        s = unfold(s)
        if dialect is Dialect.V2:
            s = to_v2(s)
        out = props_json(to_props(s))
        properties = out.setdefault("properties", {})
        properties["metadata"] = dialect.property_ref(f"{META}.ObjectMeta", OBJECT_METADATA)
        properties["apiVersion"] = {"type": "string", "description": API_VERSION}
        properties["kind"] = {"type": "string", "description": KIND}
        _add_embedded_properties(out, dialect)
    out["x-kubernetes-group-version-kind"] = _gvk(group, version, kind)
    return out


def list_schema(
    group: str, version: str, kind: str, list_kind: str, plural: str, dialect: Dialect
) -> JSONObject:
    """buildListSchema: the list kind's definition."""
    items = dialect.ref(definition_name(group, version, kind))
    return {
        "type": "object",
        "description": f"{list_kind} is a list of {kind}",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": items,
                "description": f"List of {plural}. More info: {_CONVENTIONS}",
            },
            "metadata": dialect.property_ref(f"{META}.ListMeta", LIST_METADATA),
            "apiVersion": {"type": "string", "description": API_VERSION},
            "kind": {"type": "string", "description": KIND},
        },
        "x-kubernetes-group-version-kind": _gvk(group, version, list_kind),
    }


def definitions(
    s: Structural | None,
    group: str,
    version: str,
    kind: str,
    list_kind: str,
    plural: str,
    dialect: Dialect,
) -> dict[str, JSONObject]:
    """The kind's and the list kind's definitions, by name; `s` None for a version without a
    schema (an object of anything)."""
    return {
        definition_name(group, version, kind): kind_schema(s, group, version, kind, dialect),
        definition_name(group, version, list_kind): list_schema(
            group, version, kind, list_kind, plural, dialect
        ),
    }
