"""A pod in the scheduling queue, with what the queue remembers of its attempts."""

from __future__ import annotations

from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2


def pod_key(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


@dataclass
class QueuedPodInfo:
    pod: core_pb2.Pod
    # When the pod last entered the queue: orders equal priorities and starts its back-off.
    timestamp: float
    initial_attempt_timestamp: float | None = None
    attempts: int = 0
    # The plugins that rejected the pod on its last attempt.
    unschedulable_plugins: set[str] = field(default_factory=set)
    _seq: int = 0
    # When the pod first entered the queue (the start of the scheduling SLI).
    first_enqueued: float = field(init=False)

    def __post_init__(self) -> None:
        self.first_enqueued = self.timestamp

    @property
    def key(self) -> str:
        return pod_key(self.pod)
