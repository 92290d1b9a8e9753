"""A custom resource's table (k8s.io/apiextensions-apiserver/pkg/registry/customresource/
tableconvertor): NAME, then each of its version's additionalPrinterColumns, its JSONPath
evaluated against the object and the value typed as the column's type says (a date as an age);
a version without columns gets AGE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec, jsonpath, timeutil
from podplane.apimachinery.json_types import JSONValue
from podplane.printers.spec import CREATION_TIMESTAMP_DOC, Cell, Column, TableSpec, name_column

ColumnDefinition = apiextensions_pb2.CustomResourceColumnDefinition
# What a version without printer columns shows (apihelpers' serveDefaultColumnsIfEmpty).
AGE = ColumnDefinition(
    name="Age",
    type="date",
    description=CREATION_TIMESTAMP_DOC,
    json_path=".metadata.creationTimestamp",
)


def _cell(type_: str, value: JSONValue, now: datetime) -> Cell:
    """cellForJSONValue: the value as the column's type, None when it is not of it."""
    if value is None:
        return None
    if type_ == "string":
        return jsonpath.print_value(value)
    if type_ == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        if timeutil.parse(value) is None:
            return "<invalid>"
        return timeutil.human_age(value, now)
    return None


def definition_row(crd: apiextensions_pb2.CustomResourceDefinition, now: datetime) -> list[Cell]:
    """The default table convertor's: the name and the creation time (RFC 3339)."""
    return [crd.metadata.name, crd.metadata.creation_timestamp or None]


# `kubectl get crd`: NAME, CREATED AT (kube-apiserver's default table for them).
CUSTOM_RESOURCE_DEFINITION_TABLE = TableSpec(
    (
        name_column(),
        Column("Created At", "date", CREATION_TIMESTAMP_DOC),
    ),
    definition_row,
)


def custom_resource_table(columns: Sequence[ColumnDefinition]) -> TableSpec[CustomObject]:
    shown = list(columns) or [AGE]
    paths = [jsonpath.parse(c.json_path) for c in shown]

    def row(obj: CustomObject, now: datetime) -> list[Cell]:
        document = codec.encode(obj)
        cells: list[Cell] = [obj.metadata.name]
        for column, path in zip(shown, paths, strict=True):
            found = list(jsonpath.evaluate(path, document))
            cells.append(_cell(column.type, found[0], now) if found else None)
        return cells

    return TableSpec(
        (
            name_column(),
            *(
                Column(
                    c.name,
                    c.type,
                    c.description
                    or f"Custom resource definition column (in JSONPath format): {c.json_path}",
                    format=c.format,
                    priority=c.priority,
                )
                for c in shown
            ),
        ),
        row,
    )
