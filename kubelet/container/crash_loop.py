"""CrashLoopBackOff (kuberuntime_manager.go doBackOff): a container whose newest instance exited
gets its next one only when the back-off since that exit has run out (backoff.py: 10 s, doubling,
capped at 5 min); until then it waits as CrashLoopBackOff and the pod gets a BackOff event."""

from __future__ import annotations

from dataclasses import dataclass

from kubelet.container.backoff import Backoff
from kubelet.runtime.types import ContainerStatus
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil


@dataclass(frozen=True)
class CrashLoopBackOff:
    """A restart that must wait: how long, the waiting message and the BackOff event's."""

    remaining: float
    message: str
    event_message: str


def _epoch(rfc3339: str) -> float:
    t = timeutil.parse(rfc3339)
    return t.timestamp() if t else 0.0


def crash_loop_back_off(
    backoff: Backoff, pod: core_pb2.Pod, name: str, exited: ContainerStatus
) -> CrashLoopBackOff | None:
    """The back-off the container `name` is in, its newest instance `exited`; None when it may
    restart now, and the back-off counts that restart (the next one waits twice as long)."""
    uid = pod.metadata.uid
    key = f"{uid}/{name}"
    exited_at = _epoch(exited.finished_at or exited.created_at)
    remaining = backoff.remaining(key, exited_at)
    if remaining <= 0:
        backoff.next(key, exited_at)
        return None
    seconds = int(backoff.duration(key))
    where = f"{pod.metadata.name}_{pod.metadata.namespace}({uid})"
    return CrashLoopBackOff(
        remaining,
        f"back-off {seconds}s restarting failed container={name} pod={where}",
        f"Back-off restarting failed container {name} in pod {where}",
    )
