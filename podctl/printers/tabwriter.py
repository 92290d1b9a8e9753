"""A port of Go's text/tabwriter (with liggitt/tabwriter's RememberWidths), so that tables and
describe output align exactly as kubectl's do.

Cells are tab-terminated; the text after a line's last tab is not part of any column. A column's
width is that of its widest cell in a block of consecutive lines that all have the column, plus
padding.
"""

from __future__ import annotations

from typing import TextIO

Line = list[str]


class TabWriter:
    def __init__(
        self, out: TextIO, *, minwidth: int = 0, padding: int = 1, remember_widths: bool = False
    ) -> None:
        self._out = out
        self._minwidth = minwidth
        self._padding = padding
        self._remember_widths = remember_widths
        self._max_widths: list[int] = []
        self._buffer: list[str] = []

    def write(self, text: str) -> None:
        self._buffer.append(text)

    def flush(self) -> None:
        """Formats and writes everything written so far; column widths restart (unless
        remembered)."""
        text = "".join(self._buffer)
        self._buffer.clear()
        if not text:
            return
        lines = [line.split("\t") for line in text.split("\n")]
        chunks: list[str] = []
        self._format(lines, [], 0, len(lines), chunks)
        self._out.write("".join(chunks))
        self._out.flush()

    def _format(
        self, lines: list[Line], widths: list[int], line0: int, line1: int, out: list[str]
    ) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            # A block of consecutive lines that all have a cell in this column begins here.
            self._write_lines(lines, widths, line0, this, out)
            line0 = this
            width = self._minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self._padding)
                this += 1
            width = self._remembered(column, width)
            widths.append(width)
            self._format(lines, widths, line0, this, out)
            widths.pop()
            line0 = this
        self._write_lines(lines, widths, line0, line1, out)

    def _remembered(self, column: int, width: int) -> int:
        if not self._remember_widths:
            return width
        if column >= len(self._max_widths):
            self._max_widths.extend([0] * (column + 1 - len(self._max_widths)))
        self._max_widths[column] = max(self._max_widths[column], width)
        return self._max_widths[column]

    @staticmethod
    def _write_lines(
        lines: list[Line], widths: list[int], line0: int, line1: int, out: list[str]
    ) -> None:
        for i in range(line0, line1):
            for j, cell in enumerate(lines[i]):
                out.append(cell)
                if j < len(widths):
                    out.append(" " * (widths[j] - len(cell)))
            if i + 1 < len(lines):
                out.append("\n")


def kubectl_table_writer(out: TextIO) -> TabWriter:
    """The writer `kubectl get` prints tables with (cli-runtime's printers.GetNewTabWriter)."""
    return TabWriter(out, minwidth=6, padding=3, remember_widths=True)


def describe_writer(out: TextIO) -> TabWriter:
    """The writer `kubectl describe` formats with (describe.tabbedString)."""
    return TabWriter(out, minwidth=0, padding=2)
