"""usageNanoCores from two readings of a cumulative CPU time, as the kubelet's CRI stats
provider computes it (cri_stats_provider.go getAndUpdateContainerUsageNanoCores): the CPU time
used between the last reading and this one over the time between them. The first reading of
an id, and one whose CPU time went back (a new container under an old id), give none yet."""

from __future__ import annotations

from collections.abc import Iterable

SECOND_NS = 1_000_000_000


class NanoCoresCache:
    def __init__(self) -> None:
        # id -> (timestamp, cumulative CPU time), both in ns; and the last usage worked out.
        self._readings: dict[str, tuple[int, int]] = {}
        self._usage: dict[str, int] = {}

    def update(self, key: str, timestamp_ns: int, usage_core_ns: int) -> int | None:
        """The usage since the last reading of `key`, which this reading replaces. The same
        reading again (the runtime's cached stats) gives the usage worked out last."""
        last = self._readings.get(key)
        if last is None or usage_core_ns < last[1]:
            self._readings[key] = (timestamp_ns, usage_core_ns)
            self._usage.pop(key, None)
            return None
        interval = timestamp_ns - last[0]
        if interval <= 0:
            return self._usage.get(key)
        usage = int((usage_core_ns - last[1]) / interval * SECOND_NS)
        self._readings[key] = (timestamp_ns, usage_core_ns)
        self._usage[key] = usage
        return usage

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forgets the ids no longer running (cleanupOutdatedCaches)."""
        wanted = set(keys)
        for key in [k for k in self._readings if k not in wanted]:
            del self._readings[key]
            self._usage.pop(key, None)
