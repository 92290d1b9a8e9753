"""What the custom resources' code needs of a CustomResourceDefinition version's schema: prune an
object to it, default it, validate it with Kubernetes' messages, check the schema itself against
the CRD rules, and publish it as an OpenAPI definition.

A stand-in, until podplane.apimachinery.structural (structural schemas, their CRD rules, CEL,
defaulting and pruning as k8s.io/apiextensions-apiserver does them) lands: it covers the common
keywords (type, properties, items, additionalProperties, required, enum, bounds, lengths,
pattern, nullable, default, x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string,
x-kubernetes-embedded-resource) with kube-openapi's messages. The callers use only the names
below, so the library replaces this module whole."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject, JSONValue

# The field error types, spelt as apimachinery's field.ErrorType prints them.
REQUIRED = "Required value"
INVALID = "Invalid value"
UNSUPPORTED = "Unsupported value"
FORBIDDEN = "Forbidden"
TOO_LONG = "Too long"
TOO_MANY = "Too many"

OPENAPI_V3_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_JSON_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string"}
_META_FIELDS = ("apiVersion", "kind", "metadata")


@dataclass(frozen=True)
class SchemaError:
    """One field's problem: its path, the error type (REQUIRED, INVALID, ...), the value shown
    (None: none) and the detail."""

    path: str
    type: str
    value: JSONValue = None
    detail: str = ""
    # The values an UNSUPPORTED error lists.
    supported: tuple[str, ...] = ()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_of(value: JSONValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return _JSON_TYPE_NAMES.get(type(value), "string")


def _is_type(value: JSONValue, schema: JSONObject) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    wanted = schema.get("type")
    if not wanted:
        return True
    if wanted == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if wanted == "integer" and isinstance(value, float) and value.is_integer():
        return True
    return bool(_type_of(value) == wanted)


class VersionSchema:
    """One version's openAPIV3Schema, ready to prune, default and validate objects (the whole
    object: apiVersion, kind and metadata are the server's to check and are left alone)."""

    def __init__(self, schema: JSONObject | None, *, preserve_unknown_fields: bool = False):
        self.schema: JSONObject = schema or {}
        # No schema, or spec.preserveUnknownFields: nothing is pruned.
        self.preserve_unknown_fields = preserve_unknown_fields or schema is None

    # ------------------------------------------------------------------ pruning
    def prune(self, obj: JSONObject) -> list[str]:
        """Removes the fields the schema does not specify; returns their paths (what Strict
        field validation refuses and Warn reports)."""
        if self.preserve_unknown_fields:
            return []
        removed: list[str] = []
        _prune(obj, self.schema, "", removed, root=True)
        return removed

    # ------------------------------------------------------------------ defaulting
    def apply_defaults(self, obj: JSONObject) -> None:
        """Sets the schema's defaults where the object has no value (or null where it may not
        have one)."""
        _default(obj, self.schema)

    # ------------------------------------------------------------------ validation
    def validate(self, obj: JSONObject) -> list[SchemaError]:
        errs: list[SchemaError] = []
        _validate(obj, self.schema, "", errs, root=True)
        return errs

    # ------------------------------------------------------------------ lookups
    def property_schema(self, path: str) -> JSONObject | None:
        """The schema of the field a dotted path (`.spec.replicas`) names, None if the schema
        has no such field."""
        schema: JSONObject | None = self.schema
        for part in [p for p in path.split(".") if p]:
            if schema is None:
                return None
            props = schema.get("properties") or {}
            if part in props:
                schema = props[part]
            elif isinstance(schema.get("additionalProperties"), dict):
                schema = schema["additionalProperties"]
            else:
                return None
        return schema

    # ------------------------------------------------------------------ publishing
    def openapi(self, *, v2: bool) -> JSONObject:
        """The schema as /openapi/v3 (v2=False) or /openapi/v2 publishes it: Swagger 2.0 has no
        nullable, oneOf, anyOf or not, and an int-or-string has no type there."""
        published = copy.deepcopy(self.schema)
        if v2:
            _to_v2(published)
        return published


def _prune(
    value: JSONValue, schema: JSONObject, path: str, removed: list[str], *, root: bool = False
) -> None:
    if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        embedded = bool(schema.get("x-kubernetes-embedded-resource"))
        for key in list(value):
            if (root or embedded) and key in _META_FIELDS:
                continue
            if key in props:
                _prune(value[key], props[key], _join(path, key), removed)
            elif isinstance(extra, dict):
                _prune(value[key], extra, _join(path, key), removed)
            elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                continue
            else:
                del value[key]
                removed.append(_join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _prune(item, schema["items"], f"{path}[{i}]", removed)


def _default(value: JSONValue, schema: JSONObject) -> None:
    if isinstance(value, dict):
        for key, prop in (schema.get("properties") or {}).items():
            if "default" in prop and (
                key not in value or (value[key] is None and not prop.get("nullable"))
            ):
                value[key] = copy.deepcopy(prop["default"])
            if key in value:
                _default(value[key], prop)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in (schema.get("properties") or {}):
                    _default(item, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _default(item, schema["items"])


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _validate(
    value: JSONValue, schema: JSONObject, path: str, errs: list[SchemaError], *, root: bool = False
) -> None:
    name = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type") and not root:
            errs.append(
                SchemaError(
                    path, INVALID, None, f'{name} in body must be of type {schema["type"]}: "null"'
                )
            )
        return
    if not _is_type(value, schema):
        wanted = "integer,string" if schema.get("x-kubernetes-int-or-string") else schema["type"]
        errs.append(
            SchemaError(
                path,
                INVALID,
                value,
                f'{name} in body must be of type {wanted}: "{_type_of(value)}"',
            )
        )
        return
    if "enum" in schema and value not in schema["enum"]:
        listed = tuple(v if isinstance(v, str) else json.dumps(v) for v in schema["enum"])
        errs.append(SchemaError(path, UNSUPPORTED, value, supported=listed))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _bounds(value, schema, path, name, errs)
    if isinstance(value, str):
        _string(value, schema, path, name, errs)
    if isinstance(value, list):
        _array(value, schema, path, name, errs)
    if isinstance(value, dict):
        _object(value, schema, path, name, errs, root=root)


def _bounds(
    value: float, schema: JSONObject, path: str, name: str, errs: list[SchemaError]
) -> None:
    maximum, minimum = schema.get("maximum"), schema.get("minimum")
    if maximum is not None:
        exclusive = bool(schema.get("exclusiveMaximum"))
        if value > maximum or (exclusive and value == maximum):
            than = "less than" if exclusive else "less than or equal to"
            detail = f"{name} in body should be {than} {_number(maximum)}"
            errs.append(SchemaError(path, INVALID, value, detail))
    if minimum is not None:
        exclusive = bool(schema.get("exclusiveMinimum"))
        if value < minimum or (exclusive and value == minimum):
            than = "greater than" if exclusive else "greater than or equal to"
            detail = f"{name} in body should be {than} {_number(minimum)}"
            errs.append(SchemaError(path, INVALID, value, detail))
    multiple = schema.get("multipleOf")
    if multiple and (value / multiple) % 1:
        detail = f"{name} in body should be a multiple of {_number(multiple)}"
        errs.append(SchemaError(path, INVALID, value, detail))


def _string(value: str, schema: JSONObject, path: str, name: str, errs: list[SchemaError]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        detail = f"may not be more than {schema['maxLength']} bytes"
        errs.append(SchemaError(path, TOO_LONG, None, detail))
    if "minLength" in schema and len(value) < schema["minLength"]:
        detail = f"{name} in body should be at least {schema['minLength']} chars long"
        errs.append(SchemaError(path, INVALID, value, detail))
    pattern = schema.get("pattern")
    if pattern and re.search(pattern, value) is None:
        errs.append(SchemaError(path, INVALID, value, f"{name} in body should match '{pattern}'"))


def _array(
    value: list[JSONValue], schema: JSONObject, path: str, name: str, errs: list[SchemaError]
) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errs.append(
            SchemaError(path, TOO_MANY, None, f"must have at most {schema['maxItems']} items")
        )
    if "minItems" in schema and len(value) < schema["minItems"]:
        detail = f"{name} in body should have at least {schema['minItems']} items"
        errs.append(SchemaError(path, INVALID, len(value), detail))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", errs)


def _object(
    value: JSONObject,
    schema: JSONObject,
    path: str,
    name: str,
    errs: list[SchemaError],
    *,
    root: bool,
) -> None:
    for key in schema.get("required") or ():
        if key not in value:
            errs.append(SchemaError(_join(path, key), REQUIRED))
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if root and key in _META_FIELDS:
            continue
        if key in props:
            _validate(item, props[key], _join(path, key), errs)
        elif isinstance(extra, dict):
            _validate(item, extra, _join(path, key), errs)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        detail = f"must have at most {schema['maxProperties']} items"
        errs.append(SchemaError(path, TOO_MANY, None, detail))


def _to_v2(schema: JSONValue) -> None:
    if not isinstance(schema, dict):
        return
    for key in ("nullable", "oneOf", "anyOf", "not", "x-kubernetes-validations"):
        schema.pop(key, None)
    if schema.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
    for sub in _children(schema):
        _to_v2(sub)


def _children(schema: JSONObject) -> Iterator[JSONObject]:
    yield from (schema.get("properties") or {}).values()
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield schema[key]
    for key in ("allOf",):
        yield from schema.get(key) or ()


# ------------------------------------------------------------------ the CRD's own rules


def crd_schema_errors(schema: JSONObject, path: str, *, status_enabled: bool) -> list[SchemaError]:
    """The openAPIV3Schema's problems (pkg/apis/apiextensions/validation's structural rules),
    each under `path` (spec.versions[0].schema.openAPIV3Schema, or spec.validation... when
    every version has the same schema)."""
    errs: list[SchemaError] = []
    if not isinstance(schema, dict):
        return [SchemaError(path, INVALID, None, "must be an object")]
    if status_enabled and schema.get("type") not in (None, "object"):
        detail = (
            'only "object" is allowed as the type at the root of the schema if the status '
            "subresource is enabled"
        )
        errs.append(SchemaError(f"{path}.type", INVALID, schema.get("type"), detail))
    if schema.get("nullable"):
        errs.append(
            SchemaError(f"{path}.nullable", FORBIDDEN, None, "nullable cannot be true at the root")
        )
    _structure(schema, path, errs, where="root")
    return errs


def _structure(schema: JSONObject, path: str, errs: list[SchemaError], *, where: str) -> None:
    type_ = schema.get("type", "")
    if type_ and type_ not in OPENAPI_V3_TYPES:
        errs.append(SchemaError(f"{path}.type", UNSUPPORTED, type_, supported=OPENAPI_V3_TYPES))
    int_or_string = schema.get("x-kubernetes-int-or-string")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if not type_ and not int_or_string and not (preserve and where != "root"):
        detail = {
            "root": "must not be empty at the root",
            "items": "must not be empty for specified array items",
            "property": "must not be empty for specified object fields",
        }[where]
        errs.append(SchemaError(f"{path}.type", REQUIRED, None, detail))
    if where == "root" and type_ and type_ != "object":
        errs.append(SchemaError(f"{path}.type", INVALID, type_, "must be object at the root"))
    for forbidden in ("$ref", "id", "definitions", "dependencies", "patternProperties"):
        if forbidden in schema:
            errs.append(
                SchemaError(
                    f"{path}.{forbidden}",
                    FORBIDDEN,
                    None,
                    f"{forbidden.lstrip('$')} is not supported",
                )
            )
    if type_ == "array" and "items" not in schema:
        errs.append(SchemaError(f"{path}.items", REQUIRED, None, "must be specified"))
    if schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
        errs.append(
            SchemaError(
                f"{path}.additionalProperties",
                FORBIDDEN,
                None,
                "additionalProperties and properties are mutual exclusive",
            )
        )
    for key, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict):
            _structure(prop, f"{path}.properties[{key}]", errs, where="property")
    items = schema.get("items")
    if isinstance(items, dict):
        _structure(items, f"{path}.items", errs, where="items")
    elif isinstance(items, list):
        errs.append(
            SchemaError(
                f"{path}.items", FORBIDDEN, None, "items must be a schema object and not an array"
            )
        )
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _structure(extra, f"{path}.additionalProperties", errs, where="property")
    if "default" in schema:
        defaulted = {"v": copy.deepcopy(schema["default"])}
        problems: list[SchemaError] = []
        _validate(
            defaulted["v"],
            {k: v for k, v in schema.items() if k != "default"},
            f"{path}.default",
            problems,
        )
        errs.extend(problems)
