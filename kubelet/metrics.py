"""The kubelet's metrics, under the kubelet's names (pkg/kubelet/metrics): the pods and containers
running here (from the PLEG's relist), how long pods take to start and to sync, and the node
name."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Gauge, Histogram

from podplane.api.core.v1 import core_pb2

NODE_NAME = Gauge("kubelet_node_name", "The node's name. The count is always 1.", ["node"])
RUNNING_PODS = Gauge("kubelet_running_pods", "Number of pods that have a running pod sandbox")
RUNNING_CONTAINERS = Gauge(
    "kubelet_running_containers", "Number of containers currently running", ["container_state"]
)
POD_START_DURATION = Histogram(
    "kubelet_pod_start_duration_seconds",
    "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
    buckets=(
        0.5,
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        10,
        20,
        30,
        45,
        60,
        120,
        180,
        240,
        300,
        360,
        480,
        600,
        900,
        1200,
        1800,
        2700,
        3600,
    ),
)
POD_WORKER_DURATION = Histogram(
    "kubelet_pod_worker_duration_seconds",
    "Duration in seconds to sync a single pod. Broken down by operation type: create, update, "
    "sync or kill",
    ["operation"],
)

CONTAINER_STATES = ("created", "running", "exited", "unknown")


def set_running(pods: int, containers_by_state: dict[str, int]) -> None:
    RUNNING_PODS.set(pods)
    for state in CONTAINER_STATES:
        RUNNING_CONTAINERS.labels(state).set(containers_by_state.get(state, 0))


class PodStartTracker:
    """kubelet_pod_start_duration_seconds: from the first sight of a pending pod bound here to the
    first sight of it Running. Pods first seen already running (adopted after a restart) and pods
    that finish without running are not observed, as in the kubelet."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first_seen: dict[str, float] = {}
        self._done: set[str] = set()

    def seen(self, pod: core_pb2.Pod) -> None:
        uid, phase = pod.metadata.uid, pod.status.phase
        if uid in self._done:
            return
        if phase in ("", "Pending"):
            self._first_seen.setdefault(uid, self._clock())
            return
        self._done.add(uid)
        first = self._first_seen.pop(uid, None)
        if phase == "Running" and first is not None:
            POD_START_DURATION.observe(self._clock() - first)

    def forget(self, pod: core_pb2.Pod) -> None:
        self._first_seen.pop(pod.metadata.uid, None)
        self._done.discard(pod.metadata.uid)
