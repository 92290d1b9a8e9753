"""One progress line per step on stderr, with the time since the run began."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def step(self, message: str) -> None:
        print(f"[{self.elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def bar(self, label: str, done: int, total: int, detail: str = "", width: int = 30) -> None:
        """A progress bar redrawn in place on a terminal; on a pipe, one line per call."""
        filled = width * done // total if total else width
        line = (
            f"[{self.elapsed:6.1f}s] {label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{total} {detail}"
        )
        if sys.stderr.isatty():
            print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def end_bar(self) -> None:
        if sys.stderr.isatty():
            print(file=sys.stderr, flush=True)
