"""A pod's status as the kubelet reports it, from the desired Pod, what the runtime reports and why
containers are waiting (kubelet_pods.go generateAPIPodStatus), and the probes' verdicts on
started and ready. A pure function of those: no I/O."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from kubelet.container_statuses import Reasons, container_statuses
from kubelet.ephemeral_containers import ephemeral_statuses
from kubelet.pod_actions import TERMINAL_PHASES
from kubelet.pod_conditions import kubelet_conditions, merge_conditions
from kubelet.pod_phase import get_phase
from kubelet.runtime_pod import RuntimePod
from podplane.api.core.v1 import core_pb2

# Sets started and ready of the running app containers from the probe results.
ProbeVerdicts = Callable[[core_pb2.Pod, Sequence[core_pb2.ContainerStatus]], None]


def generate_pod_status(pod: core_pb2.Pod, rp: RuntimePod, reasons: Reasons, host_ip: str,
                        now: str, probes: ProbeVerdicts | None = None) -> core_pb2.PodStatus:
    old = pod.status
    spec = pod.spec
    init_statuses = container_statuses(pod, spec.init_containers, rp,
                                       old.init_container_statuses, reasons, is_init=True)
    statuses = container_statuses(pod, spec.containers, rp, old.container_statuses, reasons,
                                  is_init=False)
    if probes is not None:
        probes(pod, statuses)
    phase = get_phase(spec, init_statuses, statuses)
    if old.phase in TERMINAL_PHASES:
        phase = old.phase  # a finished pod never runs again
    sandbox = rp.latest_sandbox()
    sandbox_ready = sandbox is not None and sandbox.ready

    status = core_pb2.PodStatus(
        phase=phase, message=old.message, reason=old.reason,
        nominated_node_name=old.nominated_node_name, qos_class=old.qos_class,
        start_time=old.start_time or now, host_ip=host_ip)
    status.host_ips.add(ip=host_ip)
    pod_ip = (host_ip if spec.host_network else sandbox.ip) if sandbox_ready and sandbox else ""
    if pod_ip:
        status.pod_ip = pod_ip
        status.pod_ips.add(ip=pod_ip)
    else:  # the sandbox is gone (e.g. a finished pod): the pod keeps the IP it had
        status.pod_ip = old.pod_ip
        status.pod_ips.extend(old.pod_ips)
    status.init_container_statuses.extend(init_statuses)
    status.container_statuses.extend(statuses)
    status.ephemeral_container_statuses.extend(ephemeral_statuses(pod, rp, reasons))
    conditions = kubelet_conditions(spec, sandbox_ready, init_statuses, statuses, phase)
    status.conditions.extend(merge_conditions(old.conditions, conditions, now))
    return status
