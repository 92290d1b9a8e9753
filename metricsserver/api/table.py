"""NodeMetrics and PodMetrics as a meta.k8s.io/v1 Table, what `kubectl get nodemetrics` and
`kubectl get podmetrics` ask for, as metrics-server's table.go makes it: a Name column, one
quantity column per resource (sorted: cpu, memory), and Window; a pod's row sums its
containers' usage. An empty list has no columns, as there. Each row carries the object's
metadata (includeObject=Metadata, the default), the whole object, or nothing (None)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from metricsserver.api.objects import binary_bytes, nanocores
from podplane.apimachinery import quantity
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.printers.table import IncludeObject

TABLE_GROUP, TABLE_VERSIONS = "meta.k8s.io", ("v1", "v1beta1")


def wants_table(accept: str) -> str | None:
    """The Table version the Accept header asks for first (v1 or v1beta1), else None."""
    for media in accept.split(","):
        kind, *params = (p.strip() for p in media.split(";"))
        values = dict(p.partition("=")[::2] for p in params)
        if (
            kind in ("application/json", "*/*")
            and values.get("as") == "Table"
            and values.get("g") == TABLE_GROUP
            and values.get("v") in TABLE_VERSIONS
        ):
            return values["v"]
    return None


def _format(resource: str, total: Decimal) -> str:
    """As metrics-server writes each: CPU in nanocores, memory in bytes (BinarySI)."""
    return nanocores(int(total * 10**9)) if resource == "cpu" else binary_bytes(int(total))


def _summed(usages: list[Mapping[str, JSONValue]]) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for usage in usages:
        for resource, value in usage.items():
            totals[resource] = totals.get(resource, Decimal(0)) + quantity.parse(str(value))
    return {resource: _format(resource, total) for resource, total in totals.items()}


def _usage(item: JSONObject) -> dict[str, str]:
    if item.get("kind") == "PodMetrics":
        containers = item.get("containers")
        assert isinstance(containers, list)
        usages = [c.get("usage") for c in containers if isinstance(c, dict)]
        return _summed([u for u in usages if isinstance(u, dict)])
    usage = item.get("usage")
    assert isinstance(usage, dict)
    return {resource: str(value) for resource, value in usage.items()}


def _row_object(item: JSONObject, include: IncludeObject, version: str) -> JSONValue:
    if include is IncludeObject.NONE:
        return None
    if include is IncludeObject.OBJECT:
        return item
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"{TABLE_GROUP}/{version}",
        "metadata": item.get("metadata"),
    }


def table(
    items: list[JSONObject], version: str, include: IncludeObject = IncludeObject.METADATA
) -> JSONObject:
    columns: list[JSONValue] = []
    rows: list[JSONValue] = []
    names: list[str] | None = None
    for item in items:
        usage = _usage(item)
        if names is None:
            names = sorted(usage)
            columns = [
                _column("Name", "name", "Name of the resource"),
                *(_column(name, "quantity") for name in names),
                _column("Window", "duration"),
            ]
        metadata = item.get("metadata")
        assert isinstance(metadata, dict)
        cells: list[JSONValue] = [
            metadata.get("name"),
            *(usage.get(name, "0") for name in names),
            item.get("window"),
        ]
        rows.append({"cells": cells, "object": _row_object(item, include, version)})
    return {
        "kind": "Table",
        "apiVersion": f"{TABLE_GROUP}/{version}",
        "metadata": {},
        "columnDefinitions": columns,
        "rows": rows,
    }


def _column(name: str, format: str, description: str = "") -> JSONObject:
    return {
        "name": name,
        "type": "string",
        "format": format,
        "description": description,
        "priority": 0,
    }
