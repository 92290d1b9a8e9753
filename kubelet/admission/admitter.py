"""Which pods this node has taken (kubelet HandlePodAdditions and canAdmitPod): a pod that has not
started here is admitted only if it fits beside the pods already taken; one that has started (a
restarted kubelet finds it running, or its status says so) is taken as it is. Admission is
decided once per pod; checking and recording happen without a pause, so two pods synced at once
never both take the last room."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kubelet.admission.resources import Rejection, insufficient_resource
from kubelet.status.conditions import KUBELET_CONDITIONS
from kubelet.status.phase import TERMINAL_PHASES
from podplane.api.core.v1 import core_pb2

# The message of a rejected pod's status, before the rejection's own.
REJECTED = "Pod was rejected: "


class PodAdmitter:
    def __init__(
        self, allocatable: Mapping[str, str], pods: Callable[[], Iterable[core_pb2.Pod]]
    ) -> None:
        self.allocatable = allocatable
        # Every pod bound to this node (API and static).
        self.pods = pods
        self._admitted: set[str] = set()

    def _counts(self, pod: core_pb2.Pod) -> bool:
        """Whether a pod takes room on the node: it was admitted or has started, and has not
        finished."""
        started = pod.metadata.uid in self._admitted or bool(pod.status.start_time)
        return started and pod.status.phase not in TERMINAL_PHASES

    def admit(self, pod: core_pb2.Pod, started: bool) -> Rejection | None:
        """None if the pod may run here (from now on it counts), else why not. `started`: the
        runtime already has something of it."""
        uid = pod.metadata.uid
        if uid in self._admitted:
            return None
        if not (started or pod.status.start_time):
            others = (p for p in self.pods() if p.metadata.uid != uid and self._counts(p))
            rejection = insufficient_resource(pod, others, self.allocatable)
            if rejection is not None:
                return rejection
        self._admitted.add(uid)
        return None

    def forget(self, uid: str) -> None:
        self._admitted.discard(uid)


def rejected_status(pod: core_pb2.Pod, rejection: Rejection) -> core_pb2.PodStatus:
    """The status of a pod the node refused (rejectPod): Failed, with the rejection's reason; the
    conditions the kubelet does not own (PodScheduled) stay."""
    status = core_pb2.PodStatus(
        phase="Failed",
        reason=rejection.reason,
        message=REJECTED + rejection.message,
        qos_class=pod.status.qos_class,
    )
    status.conditions.extend(c for c in pod.status.conditions if c.type not in KUBELET_CONDITIONS)
    return status
