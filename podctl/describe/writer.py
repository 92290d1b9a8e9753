"""kubectl describe's PrefixWriter: indentation levels of two spaces over a tab-aligning writer."""

from __future__ import annotations

import io

from podctl.printers.tabwriter import describe_writer

LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3 = 0, 1, 2, 3


class PrefixWriter:
    def __init__(self) -> None:
        self._out = io.StringIO()
        self._tabs = describe_writer(self._out)

    def write(self, level: int, text: str) -> None:
        self._tabs.write("  " * level + text)

    def write_line(self, text: str) -> None:
        """Text and a newline with no indentation (kubectl's WriteLine)."""
        self._tabs.write(text + "\n")

    def flush(self) -> None:
        """Ends the current alignment block: what follows is aligned on its own."""
        self._tabs.flush()

    def text(self) -> str:
        self._tabs.flush()
        return self._out.getvalue()
