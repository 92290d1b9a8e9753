"""A kubectl table: upper-case headers, tab-aligned cells, optional NAMESPACE and LABELS columns.
The columns and cells are each kind's shared table (podplane/printers/), as the apiserver serves
them; this prints them as kubectl's table printer does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TextIO, TypeVar

from google.protobuf.message import Message

from podctl.printers.tabwriter import kubectl_table_writer
from podplane.apimachinery.meta import object_meta
from podplane.printers.labels import format_labels
from podplane.printers.spec import Cell, TableSpec

T = TypeVar("T", bound=Message)


def cell_text(cell: Cell) -> str:
    """A cell as kubectl prints it (Go's %v: integers in decimal, booleans as true/false)."""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if cell is None:
        return "<none>"
    return str(cell)


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
        # Columns of priority above 0 only with -o wide.
        self._shown = [i for i, c in enumerate(spec.columns) if options.wide or c.priority == 0]

    def header(self) -> list[str]:
        cells = [self._spec.columns[i].name.upper() for i in self._shown]
        if self._options.with_namespace:
            cells.insert(0, "NAMESPACE")
        if self._options.show_labels:
            cells.append("LABELS")
        return cells

    def row(self, obj: T, now: datetime) -> list[str]:
        all_cells = self._spec.row(obj, now)
        cells = [cell_text(all_cells[i]) for i in self._shown]
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
