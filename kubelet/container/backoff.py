"""Per-key exponential back-off for container restarts and image pulls (client-go's
flowcontrol.Backoff, as the kubelet uses it): 10 s, doubling, capped at 5 min; an entry untouched
for twice the cap starts over. Times are wall-clock seconds, as container exit times are."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass
class _Entry:
    duration: float
    last_update: float


class Backoff:
    def __init__(
        self,
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, at: float) -> bool:
        return at - entry.last_update > 2 * self.maximum

    def duration(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.duration if entry else 0.0

    def remaining(self, key: str, since: float) -> float:
        """Seconds left of the back-off that started at `since` (e.g. the container's exit), 0 if
        none is in force."""
        entry = self._entries.get(key)
        now = self.clock()
        if entry is None or self._expired(entry, now):
            return 0.0
        return max(entry.duration - (now - since), 0.0)

    def remaining_since_update(self, key: str) -> float:
        """Seconds left of the back-off that started at the last recorded failure."""
        entry = self._entries.get(key)
        return 0.0 if entry is None else self.remaining(key, entry.last_update)

    def next(self, key: str, at: float | None = None) -> None:
        """Records one more failure at `at` (default now): the back-off doubles."""
        at = self.clock() if at is None else at
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, at):
            self._entries[key] = _Entry(self.initial, at)
        else:
            entry.duration = min(entry.duration * 2, self.maximum)
            entry.last_update = at

    def forget(self, key_prefix: str) -> None:
        """Drops every entry whose key starts with key_prefix (e.g. a removed pod's uid)."""
        for key in [k for k in self._entries if k.startswith(key_prefix)]:
            del self._entries[key]
