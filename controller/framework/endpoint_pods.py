"""What the endpoints and endpoint slice controllers read of a Service's pods (kubernetes
staging/src/k8s.io/endpointslice/util and pkg/controller/util/endpoint): which pods it selects,
which of them are endpoints, their addresses, and which pod changes matter to endpoints."""

from __future__ import annotations

from controller.framework import pod_state
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import IPV4, IPV6


def selects(svc: service_pb2.Service, pod: core_pb2.Pod) -> bool:
    """The Service's selector (a map: every key with that value) matches the pod's labels; a
    Service without selector selects nothing."""
    selector = svc.spec.selector
    return bool(selector) and all(pod.metadata.labels.get(k) == v for k, v in selector.items())


def services_selecting(services: list[service_pb2.Service], *pods: core_pb2.Pod) -> set[str]:
    """The keys of those of `services` that select any of `pods` (a pod before and after a
    change), to sync when the pod changes."""
    return {
        f"{svc.metadata.namespace}/{svc.metadata.name}"
        for svc in services
        if any(selects(svc, pod) for pod in pods)
    }


def should_be_in_endpoints(pod: core_pb2.Pod, include_terminating: bool) -> bool:
    """ShouldPodBeInEndpoints: a pod that has an IP and has not finished (nor, unless
    `include_terminating`, is being deleted)."""
    if pod.status.phase in pod_state.TERMINAL_PHASES:
        return False
    if not pod.status.pod_ip and not pod.status.pod_ips:
        return False
    return include_terminating or not pod.metadata.deletion_timestamp


def should_set_hostname(pod: core_pb2.Pod, svc: service_pb2.Service) -> bool:
    """A pod whose subdomain is the Service's name gets its hostname published (DNS records of
    the form <hostname>.<service>.<namespace>.svc)."""
    return (
        bool(pod.spec.hostname)
        and pod.spec.subdomain == svc.metadata.name
        and pod.metadata.namespace == svc.metadata.namespace
    )


def addresses(pod: core_pb2.Pod, family: str) -> list[str]:
    """The pod's IPs of one family (status.podIPs, or podIP when that is all it reports)."""
    ips = [p.ip for p in pod.status.pod_ips] or ([pod.status.pod_ip] if pod.status.pod_ip else [])
    return [ip for ip in ips if svc_helper.ip_family(ip) == family]


def address_families(svc: service_pb2.Service) -> list[str]:
    """The address types a Service's endpoints are published in (getAddressTypesForService): its
    IP families; without them, its cluster IP's; a headless Service without either, both."""
    families = [f for f in (IPV4, IPV6) if f in svc.spec.ip_families]
    if families:
        return families
    if svc_helper.is_ip_set(svc):
        return [svc_helper.ip_family(svc.spec.cluster_ip) or IPV4]
    return [IPV4, IPV6]


def endpoints_changed(old: core_pb2.Pod, new: core_pb2.Pod) -> bool:
    """Whether a pod update can change its endpoints: its labels (which Services select it), IPs,
    readiness, phase, deletion, node, hostname or ports."""
    # The single fields first, the maps and lists last.
    return (
        old.spec.node_name != new.spec.node_name
        or old.status.phase != new.status.phase
        or old.status.pod_ip != new.status.pod_ip
        or old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        or old.spec.hostname != new.spec.hostname
        or old.spec.subdomain != new.spec.subdomain
        or pod_state.is_ready(old) != pod_state.is_ready(new)
        or old.status.pod_ips != new.status.pod_ips
        or old.metadata.labels != new.metadata.labels
        or [list(c.ports) for c in old.spec.containers]
        != [list(c.ports) for c in new.spec.containers]
    )
