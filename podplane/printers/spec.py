"""A kind's table: its column definitions and the function that gives an object's row, as
pkg/printers' TableHandler(columnDefinitions, printFunc) pairs them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeAlias, TypeVar

from google.protobuf.message import Message

T = TypeVar("T", bound=Message)

# A cell as the Table carries it in JSON: a string, or an integer where Kubernetes' printer puts an
# int64 (DESIRED, DATA, COUNT, ...); a custom resource's printer column may also give a number, a
# boolean or nothing (null: kubectl prints <none>).
Cell: TypeAlias = str | int | float | bool | None

# A row's cells for one object at a moment in time (ages are relative to `now`), every column's
# cell, wide ones included, in column order (the apiserver prints with Wide: true).
RowFunc: TypeAlias = Callable[[T, datetime], list[Cell]]

# The descriptions every table's NAME and AGE columns share (metav1.ObjectMeta's swagger docs).
OBJECT_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_TIMESTAMP_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
    "the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


@dataclass(frozen=True)
class Column:
    """metav1.TableColumnDefinition."""

    name: str
    # An OpenAPI type: string, integer, number, boolean, date.
    type: str
    description: str
    # "name" on the column that names the object.
    format: str = ""
    # 0 for every output; above 0 only with -o wide.
    priority: int = 0


@dataclass(frozen=True)
class RowCondition:
    """metav1.TableRowCondition: what a client may do with a row (Completed: show it less)."""

    type: str
    status: str
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class TableSpec(Generic[T]):
    """The table of one kind, whose objects are T."""

    columns: tuple[Column, ...]
    row: RowFunc[T]
    # The row's conditions, for the kinds that have any (pods).
    conditions: Callable[[T], Sequence[RowCondition]] | None = None
    # The rows' order, for the kinds whose list printer sorts (flow schemas: by precedence).
    order: Callable[[Sequence[T]], Sequence[T]] | None = None


def name_column() -> Column:
    return Column("Name", "string", OBJECT_NAME_DOC, format="name")


def age_column() -> Column:
    return Column("Age", "string", CREATION_TIMESTAMP_DOC)
