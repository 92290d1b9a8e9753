"""What a controller expects its informer to show after its own writes (kubernetes
pkg/controller/controller_utils.go ControllerExpectations, UIDTrackingControllerExpectations).

A controller that has just created or deleted pods must not act on a cache that does not show
them yet, or it would create or delete them again. Before writing it records how many creations
and which deletions it expects for the owner; informer events lower the count; until they are all
seen (or the expectations time out, in case an event was never going to come) the owner's pods are
not managed. A fresh process has no expectations: its informers list first, so its cache already
shows whatever a previous process wrote."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# How long expectations hold before the owner is managed again anyway (ExpectationsTimeout).
EXPECTATIONS_TIMEOUT = 5 * 60.0


@dataclass
class _Expected:
    adds: int
    # Keys (namespace/name) of the pods whose deletion has not been observed yet.
    deletes: set[str] = field(default_factory=set)
    since: float = 0.0

    @property
    def fulfilled(self) -> bool:
        return self.adds <= 0 and not self.deletes


class Expectations:
    def __init__(
        self, *, timeout: float = EXPECTATIONS_TIMEOUT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._timeout = timeout
        self._clock = clock
        self._by_owner: dict[str, _Expected] = {}

    def expect_creations(self, owner: str, count: int) -> None:
        self._by_owner[owner] = _Expected(adds=count, since=self._clock())

    def expect_deletions(self, owner: str, pod_keys: Iterable[str]) -> None:
        previous = self._by_owner.get(owner)
        if previous is not None and previous.deletes:
            log.warning("%s: replacing expected deletions %s", owner, sorted(previous.deletes))
        self._by_owner[owner] = _Expected(adds=0, deletes=set(pod_keys), since=self._clock())

    def expect(self, owner: str, creations: int, pod_keys: Iterable[str]) -> None:
        """Creations and deletions at once (a DaemonSet's pass may do both)."""
        self._by_owner[owner] = _Expected(
            adds=creations, deletes=set(pod_keys), since=self._clock()
        )

    def creation_observed(self, owner: str) -> None:
        e = self._by_owner.get(owner)
        if e is not None:
            e.adds -= 1

    def deletion_observed(self, owner: str, pod_key: str) -> None:
        """A deletion counts once, whether seen as a deletionTimestamp or as the pod's removal."""
        e = self._by_owner.get(owner)
        if e is not None:
            e.deletes.discard(pod_key)

    def satisfied(self, owner: str) -> bool:
        """True when the owner's pods may be managed: nothing expected, all of it seen, or the
        expectations are too old to wait for."""
        e = self._by_owner.get(owner)
        return e is None or e.fulfilled or self._clock() - e.since > self._timeout

    def expires_in(self, owner: str) -> float | None:
        """Seconds until pending expectations time out; None when satisfied."""
        e = self._by_owner.get(owner)
        if e is None or e.fulfilled:
            return None
        return max(0.0, e.since + self._timeout - self._clock())

    def delete(self, owner: str) -> None:
        self._by_owner.pop(owner, None)

    def pending(self, owner: str) -> tuple[int, int]:
        """(creations, deletions) still expected: for logs and tests."""
        e = self._by_owner.get(owner)
        return (0, 0) if e is None else (max(e.adds, 0), len(e.deletes))
