"""The pods and namespaces the agent reasons about: a pod as its address, labels and named ports
(PodInfo), read from the API's Pod; pods without an address of their own (not yet started,
hostNetwork, finished) take part in no policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2

TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class PodInfo:
    namespace: str
    name: str
    ip: str
    node: str
    labels: Mapping[str, str] = field(default_factory=dict)
    # (name, protocol) -> containerPort, over every container's ports.
    named_ports: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def port_named(self, name: str, protocol: str) -> int | None:
        return self.named_ports.get((name, protocol))


def pod_info(pod: core_pb2.Pod) -> PodInfo | None:
    """The pod as policies see it, or None when it has no pod-network address to judge."""
    if pod.spec.host_network or not pod.status.pod_ip or pod.status.phase in TERMINAL_PHASES:
        return None
    ports = {
        (p.name, p.protocol or "TCP"): p.container_port
        for c in [*pod.spec.init_containers, *pod.spec.containers]
        for p in c.ports
        if p.name
    }
    return PodInfo(
        namespace=pod.metadata.namespace,
        name=pod.metadata.name,
        ip=pod.status.pod_ip,
        node=pod.spec.node_name,
        labels=dict(pod.metadata.labels),
        named_ports=ports,
    )
