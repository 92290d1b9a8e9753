"""Probe results by container id (pkg/kubelet/prober/results): a change of result calls back with
the pod's key, so the pod is synced again."""

from __future__ import annotations

import enum
from collections.abc import Callable


class ProbeType(enum.Enum):
    LIVENESS = "Liveness"
    READINESS = "Readiness"
    STARTUP = "Startup"


class Result(enum.Enum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


# What a worker holds before its first probe: a live container is alive and not ready.
INITIAL_RESULT = {
    ProbeType.LIVENESS: Result.SUCCESS,
    ProbeType.READINESS: Result.FAILURE,
    ProbeType.STARTUP: Result.UNKNOWN,
}


class ResultsCache:
    def __init__(self, on_change: Callable[[str], None] = lambda key: None) -> None:
        self.on_change = on_change
        self._results: dict[str, Result] = {}

    def get(self, container_id: str) -> Result | None:
        return self._results.get(container_id)

    def set(self, container_id: str, result: Result, pod_key: str) -> None:
        if self._results.get(container_id) != result:
            self._results[container_id] = result
            self.on_change(pod_key)

    def remove(self, container_id: str) -> None:
        self._results.pop(container_id, None)
