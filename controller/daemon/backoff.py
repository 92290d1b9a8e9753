"""The back-off between replacements of a node's failed daemon pod (client-go's
flowcontrol.Backoff, as kube-controller-manager makes it for the DaemonSet controller: 1 s,
doubling to 15 min), so that the controller does not fight a kubelet that keeps rejecting the
pod. Keyed by DaemonSet uid, observed generation and node: a new template starts afresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 1.0
MAX = 15 * 60.0


@dataclass
class _Entry:
    delay: float
    last_update: float


class FailedPodBackoff:
    def __init__(
        self,
        *,
        initial: float = INITIAL,
        maximum: float = MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial = initial
        self.maximum = maximum
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def remaining(self, key: str) -> float | None:
        """IsInBackOffSinceUpdate: the seconds left of the key's back-off since its last
        failure, or None when it is not backing off."""
        e = self._entries.get(key)
        if e is None:
            return None
        left = e.last_update + e.delay - self.clock()
        return left if left > 0 else None

    def next(self, key: str) -> None:
        """Next: a failure now; the delay doubles, or starts again after a long quiet spell."""
        now = self.clock()
        e = self._entries.get(key)
        if e is None or now - e.last_update > 2 * self.maximum:
            self._entries[key] = _Entry(self.initial, now)
            return
        e.delay = min(e.delay * 2, self.maximum)
        e.last_update = now

    def gc(self) -> None:
        """Forgets the keys quiet for twice the longest delay."""
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.maximum]:
            del self._entries[key]
