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
