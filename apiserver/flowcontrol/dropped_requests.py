"""The Retry-After a rejected request is answered with, per priority level
(k8s.io/apiserver/pkg/util/flowcontrol/dropped_requests_tracker.go): 1 s while rejections are
rare; doubled (up to 32 s) when a level rejected at least 3 requests per second of the current
hint over the last hint's worth of seconds, as TCP backs off; lowered by one second at a time when
it rejected fewer than one per second of it. Clients that honour it spread their retries out
instead of coming back together and being rejected again."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_RETRY_AFTER = 32


@dataclass
class _LevelDrops:
    retry_after: int = 1
    updated_at: int = 0
    current_second: int = 0
    current_count: int = 0
    # (second, rejections) of the seconds before the current one.
    history: list[tuple[int, int]] = field(default_factory=list)

    def record(self, second: int) -> None:
        if second == self.current_second:
            self.current_count += 1
            return
        self._keep(self.current_second, self.current_count)
        self.current_second, self.current_count = second, 1
        self._update(second)

    def _keep(self, second: int, count: int) -> None:
        self.history.append((second, count))
        horizon = min(2 * self.retry_after, MAX_RETRY_AFTER)
        self.history = [(s, n) for s, n in self.history if second - s <= horizon]

    def _update(self, now: int) -> None:
        dropped = sum(n for s, n in self.history if now - s <= self.retry_after and s < now)
        if now - self.updated_at >= self.retry_after and dropped >= 3 * self.retry_after:
            self.retry_after = min(2 * self.retry_after, MAX_RETRY_AFTER)
            self.updated_at = now
        elif dropped < self.retry_after and self.retry_after > 1:
            self.retry_after -= 1


class DroppedRequests:
    def __init__(self) -> None:
        self._levels: dict[str, _LevelDrops] = {}

    def record(self, priority_level: str, unix_second: int) -> None:
        self._levels.setdefault(priority_level, _LevelDrops()).record(unix_second)

    def retry_after(self, priority_level: str) -> int:
        level = self._levels.get(priority_level)
        return 1 if level is None else level.retry_after
