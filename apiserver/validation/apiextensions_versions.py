"""A CustomResourceDefinition version's additional printer columns, scale subresource and
selectable fields (k8s.io/apiextensions-apiserver's validation of them), with Kubernetes'
messages; apiserver/validation/apiextensions.py names where they are."""

from __future__ import annotations

import re

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import structural
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import Version
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import NotStructuralError, Structural, new_structural

PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
PRINTER_COLUMN_FORMATS = (
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
)
MAX_SELECTABLE_FIELDS = 8


def printer_column(
    column: apiextensions_pb2.CustomResourceColumnDefinition, path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    if not column.name:
        errs.append(fields.required(f"{path}.name"))
    types = ",".join(PRINTER_COLUMN_TYPES)
    if not column.type:
        errs.append(fields.required(f"{path}.type", f"must be one of {types}"))
    elif column.type not in PRINTER_COLUMN_TYPES:
        errs.append(fields.invalid(f"{path}.type", column.type, f"must be one of {types}"))
    if column.format and column.format not in PRINTER_COLUMN_FORMATS:
        formats = ",".join(PRINTER_COLUMN_FORMATS)
        errs.append(fields.invalid(f"{path}.format", column.format, f"must be one of {formats}"))
    if not column.json_path:
        errs.append(fields.required(f"{path}.JSONPath"))
    else:
        errs += simple_json_path(column.json_path, f"{path}.JSONPath")
    return errs


def simple_json_path(value: str, path: str) -> list[FieldError]:
    if not value:
        return [fields.invalid(path, value, "must not be empty")]
    if not value.startswith("."):
        return [fields.invalid(path, value, "must be a simple json path starting with .")]
    return []


def subresources(sub: apiextensions_pb2.CustomResourceSubresources, path: str) -> list[FieldError]:
    if not sub.HasField("scale"):
        return []
    scale, errs = sub.scale, []
    spec_path = f"{path}.scale.specReplicasPath"
    if not scale.spec_replicas_path:
        errs.append(fields.required(spec_path))
    elif found := simple_json_path(scale.spec_replicas_path, spec_path):
        errs += found
    elif not scale.spec_replicas_path.startswith(".spec."):
        errs.append(
            fields.invalid(spec_path, scale.spec_replicas_path, "should be a json path under .spec")
        )
    status_path = f"{path}.scale.statusReplicasPath"
    if not scale.status_replicas_path:
        errs.append(fields.required(status_path))
    elif found := simple_json_path(scale.status_replicas_path, status_path):
        errs += found
    elif not scale.status_replicas_path.startswith(".status."):
        errs.append(
            fields.invalid(
                status_path, scale.status_replicas_path, "should be a json path under .status"
            )
        )
    selector = scale.label_selector_path if scale.HasField("label_selector_path") else ""
    if selector:
        selector_path = f"{path}.scale.labelSelectorPath"
        if found := simple_json_path(selector, selector_path):
            errs += found
        elif not selector.startswith((".spec.", ".status.")):
            errs.append(
                fields.invalid(
                    selector_path, selector, "should be a json path under either .spec or .status"
                )
            )
    return errs


_SELECTABLE_PATH = re.compile(r"^(\.[A-Za-z_][A-Za-z0-9_-]*)+$")


def _field_schema(root: Structural, json_path: str) -> Structural | None:
    """The schema of the field a dotted path (`.spec.size`) names, None if it names none."""
    node: Structural | None = root
    for part in json_path.lstrip(".").split("."):
        if node is None:
            return None
        if part in node.properties:
            node = node.properties[part]
        elif node.additional_properties is not None:
            node = node.additional_properties.schema
        else:
            return None
    return node


def selectable_fields(v: Version, path: str) -> list[FieldError]:
    version_schema = definitions.schema_json(v) or {}
    try:
        root = new_structural(decode_props(version_schema))
    except (structural.SchemaDecodeError, NotStructuralError):
        return []  # the schema's own errors say why
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, selectable in enumerate(v.selectable_fields):
        at = f"{path}[{i}].jsonPath"
        json_path = selectable.json_path
        if not json_path:
            errs.append(fields.required(at))
            continue
        if not _SELECTABLE_PATH.match(json_path):
            errs.append(
                fields.invalid(at, json_path, "is an invalid path: must be a simple field path")
            )
            continue
        if json_path.split(".")[1] == "metadata":
            errs.append(fields.invalid(at, json_path, "must not point to fields in metadata"))
        found = _field_schema(root, json_path)
        if found is None:
            errs.append(
                fields.invalid(
                    at,
                    json_path,
                    f"is an invalid path: does not refer to a valid field: {json_path.lstrip('.')}",
                )
            )
            continue
        if found.type not in ("string", "boolean", "integer"):
            errs.append(
                fields.invalid(
                    at,
                    json_path,
                    "must point to a field of type string, boolean or integer. Enum string "
                    "fields and strings with formats are allowed.",
                )
            )
        if json_path in seen:
            errs.append(fields.duplicate(at, json_path))
        seen.add(json_path)
    if len(seen) > MAX_SELECTABLE_FIELDS:
        errs.append(
            FieldError(
                path, "Too many", len(seen), f"must have at most {MAX_SELECTABLE_FIELDS} items"
            )
        )
    return errs
