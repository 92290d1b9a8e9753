"""Which pods this node has taken (kubelet HandlePodAdditions and canAdmitPod): a pod that has not
started here is admitted only if its sysctls are allowed (sysctls.py), its OS is the node's
(pod_os.py), it fits beside the pods already taken (resources.py) and the node can enforce its
AppArmor profiles (apparmor.py), checked in that order, as the kubelet's admit handlers are; one
that has started (a restarted kubelet finds it running, or its status says so) is taken as it is.
Admission is decided once per pod; checking and recording happen without a pause, so two pods
synced at once never both take the last room."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kubelet.admission.apparmor import AppArmorAdmission
from kubelet.admission.pod_os import os_rejection
from kubelet.admission.rejection import Rejection
from kubelet.admission.resources import insufficient_resource
from kubelet.admission.sysctls import SysctlAllowlist, safe_sysctls
from kubelet.status.conditions import KUBELET_CONDITIONS
from kubelet.status.phase import TERMINAL_PHASES
from podplane.api.core.v1 import core_pb2

# The message of a rejected pod's status, before the rejection's own.
REJECTED = "Pod was rejected: "


class PodAdmitter:
    def __init__(
        self,
        allocatable: Mapping[str, str],
        pods: Callable[[], Iterable[core_pb2.Pod]],
        sysctls: SysctlAllowlist | None = None,
        apparmor: AppArmorAdmission | None = None,
    ) -> None:
        self.allocatable = allocatable
        # Every pod bound to this node (API and static).
        self.pods = pods
        # The safe sysctls (with --allowed-unsafe-sysctls); whether the host enforces AppArmor.
        self.sysctls = sysctls or SysctlAllowlist(safe_sysctls((99, 0)))
        self.apparmor = apparmor or AppArmorAdmission(host_enabled=False)
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
            rejection = self._check(pod)
            if rejection is not None:
                return rejection
        self._admitted.add(uid)
        return None

    def _check(self, pod: core_pb2.Pod) -> Rejection | None:
        uid = pod.metadata.uid
        rejection = self.sysctls.admit(pod) or os_rejection(pod)
        if rejection is None:
            others = (p for p in self.pods() if p.metadata.uid != uid and self._counts(p))
            rejection = insufficient_resource(pod, others, self.allocatable)
        return rejection or self.apparmor.admit(pod)

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
