"""The metav1.Table the apiserver answers `kubectl get` with (Accept: application/json;as=Table;
v=v1;g=meta.k8s.io): each kind's column definitions and one row per object, built as the
apiserver's TableConvertor (printers.NewTableGenerator with Wide: true) and its handlers' asTable
build it. kubectl hides the columns of priority above 0 unless -o wide, and reads --show-labels
from each row's object metadata.

Objects are encoded by the caller's `encode` (Kubernetes' JSON of a message: the apiserver's
codec)."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeAlias, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import ComputedResource, Resource
from podplane.printers.registry import table_for
from podplane.printers.spec import Column, RowCondition, TableSpec

M = TypeVar("M", bound=Message)

# An API object (or its ObjectMeta) as Kubernetes' JSON.
Encoder: TypeAlias = Callable[[Message], JSONObject]

META_V1 = "meta.k8s.io/v1"
META_V1BETA1 = "meta.k8s.io/v1beta1"


class IncludeObject(enum.Enum):
    """What each row carries of its object (metav1.IncludeObjectPolicy, ?includeObject=)."""

    NONE = "None"
    # A PartialObjectMetadata: what kubectl needs for --show-labels. The default.
    METADATA = "Metadata"
    # The whole object, as a GET would return it.
    OBJECT = "Object"


class UnknownIncludeObject(ValueError):
    """An includeObject value Kubernetes does not know: a 400 BadRequest."""

    def __init__(self, value: str) -> None:
        super().__init__(
            f"unrecognized includeObject value: {json.dumps(value, ensure_ascii=False)}"
        )


def parse_include_object(value: str) -> IncludeObject:
    """The includeObject query parameter; empty means Metadata."""
    if not value:
        return IncludeObject.METADATA
    try:
        return IncludeObject(value)
    except ValueError:
        raise UnknownIncludeObject(value) from None


def column_definition(column: Column) -> JSONObject:
    return {
        "name": column.name,
        "type": column.type,
        "format": column.format,
        "description": column.description,
        "priority": column.priority,
    }


def _condition(condition: RowCondition) -> dict[str, str]:
    out = {"type": condition.type, "status": condition.status}
    if condition.reason:
        out["reason"] = condition.reason
    if condition.message:
        out["message"] = condition.message
    return out


def partial_object_metadata(
    obj: Message, encode: Encoder, group_version: str = META_V1
) -> JSONObject:
    """meta.AsPartialObjectMetadata: the object's whole ObjectMeta, under the Table's group
    version."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": group_version,
        "metadata": encode(object_meta(obj)),
    }


def _row_object(
    resource: Resource[M] | ComputedResource[M],
    obj: M,
    include: IncludeObject,
    encode: Encoder,
    group_version: str,
) -> JSONObject | None:
    if include is IncludeObject.NONE:
        return None
    if include is IncludeObject.METADATA:
        return partial_object_metadata(obj, encode, group_version)
    encoded = encode(obj)
    # Converted to the resource's version, as a GET answers: with its apiVersion and kind.
    return {
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        **{k: v for k, v in encoded.items() if k not in ("apiVersion", "kind")},
    }


def table_row(
    resource: Resource[M] | ComputedResource[M],
    spec: TableSpec[M],
    obj: M,
    now: datetime,
    *,
    include_object: IncludeObject,
    encode: Encoder,
    group_version: str = META_V1,
) -> JSONObject:
    """metav1.TableRow: every column's cell (wide ones too), the row's conditions, the object."""
    row: JSONObject = {"cells": spec.row(obj, now)}
    conditions = spec.conditions(obj) if spec.conditions else ()
    if conditions:
        row["conditions"] = [_condition(c) for c in conditions]
    row["object"] = _row_object(resource, obj, include_object, encode, group_version)
    return row


def build_table(
    resource: Resource[M] | ComputedResource[M],
    objects: Sequence[M],
    *,
    encode: Encoder,
    include_object: IncludeObject = IncludeObject.METADATA,
    resource_version: str = "",
    continue_token: str = "",
    remaining_item_count: int | None = None,
    no_headers: bool = False,
    group_version: str = META_V1,
    now: datetime | None = None,
    spec: TableSpec[M] | None = None,
) -> JSONObject:
    """The metav1.Table of `objects` (a list's items, or the one object of a GET or a watch
    event) as a JSON-ready dict.

    resource_version, continue_token and remaining_item_count are the list's ListMeta (for one
    object, its resourceVersion). no_headers leaves the column definitions out (null), as the
    apiserver does for every watch event after the first. group_version is the Table's
    (meta.k8s.io/v1, or v1beta1 if that is what the client accepted). `spec` is the kind's table
    when the printers' registry has none (a custom resource's printer columns)."""
    spec = spec or table_for(resource)
    if spec.order is not None:
        objects = spec.order(objects)
    at = now or datetime.now(UTC)
    metadata: JSONObject = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining_item_count is not None:
        metadata["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": group_version,
        "metadata": metadata,
        "columnDefinitions": (None if no_headers else [column_definition(c) for c in spec.columns]),
        "rows": [
            table_row(
                resource,
                spec,
                obj,
                at,
                include_object=include_object,
                encode=encode,
                group_version=group_version,
            )
            for obj in objects
        ],
    }
