"""A kubectl table: upper-case headers, tab-aligned cells, optional NAMESPACE and LABELS columns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TextIO, TypeAlias, TypeVar

from google.protobuf.message import Message

from podctl.printers.tabwriter import kubectl_table_writer
from podplane.apimachinery.meta import object_meta

T = TypeVar("T", bound=Message)

# A row's cells for one object at a moment in time (ages are relative to `now`).
RowFunc: TypeAlias = Callable[[T, datetime], list[str]]


@dataclass(frozen=True)
class Column:
    name: str
    # Shown only with -o wide (kubectl's priority > 0).
    wide: bool = False


@dataclass(frozen=True)
class TableSpec(Generic[T]):
    """The table of one kind, whose objects are T."""

    columns: tuple[Column, ...]
    # Every column's cell, wide ones included, in column order.
    row: RowFunc[T]


def format_labels(labels: Mapping[str, str]) -> str:
    """kubectl's labels.FormatLabels: sorted key=value pairs, or <none>."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


@dataclass
class TableOptions:
    wide: bool = False
    with_namespace: bool = False
    no_headers: bool = False
    show_labels: bool = False


class TablePrinter(Generic[T]):
    """Prints rows as they come (a list, then watch events), aligned like kubectl: the header once,
    column widths that only ever grow."""

    def __init__(
        self,
        out: TextIO,
        spec: TableSpec[T],
        options: TableOptions,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = kubectl_table_writer(out)
        self._spec = spec
        self._options = options
        self._clock = clock
        self._printed_header = options.no_headers
        self._shown = [i for i, c in enumerate(spec.columns) if options.wide or not c.wide]

    def header(self) -> list[str]:
        cells = [self._spec.columns[i].name.upper() for i in self._shown]
        if self._options.with_namespace:
            cells.insert(0, "NAMESPACE")
        if self._options.show_labels:
            cells.append("LABELS")
        return cells

    def row(self, obj: T, now: datetime) -> list[str]:
        all_cells = self._spec.row(obj, now)
        cells = [all_cells[i] for i in self._shown]
        if self._options.with_namespace:
            cells.insert(0, object_meta(obj).namespace)
        if self._options.show_labels:
            cells.append(format_labels(object_meta(obj).labels))
        return cells

    def print_objects(self, objects: Iterable[T]) -> None:
        now = self._clock()
        lines = [self.row(obj, now) for obj in objects]
        if not self._printed_header:
            lines.insert(0, self.header())
            self._printed_header = True
        for cells in lines:
            self._writer.write("\t".join(cells) + "\n")
        self._writer.flush()
