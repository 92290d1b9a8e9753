"""The Services a container learns of through its environment (kubelet_pods.go
getServiceEnvVarMap and pkg/kubelet/envvars FromServices): WEB_SERVICE_HOST, WEB_SERVICE_PORT,
WEB_SERVICE_PORT_<PORT NAME> and Docker links' WEB_PORT, WEB_PORT_80_TCP, ..._PROTO, ..._PORT,
..._ADDR, for every Service of the pod's namespace that has a cluster IP (unless the pod says
enableServiceLinks: false) and, always, the `kubernetes` Service of `default`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from kubelet.container.env import ContainerConfigError
from kubelet.staticpod.manifests import is_static_pod
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.apimachinery import service as svc_helper

# The services whose variables every pod gets, whatever its namespace (kubelet's masterServices).
MASTER_SERVICES = ("kubernetes",)
MASTER_NAMESPACE = "default"


class ServiceLister(Protocol):
    """The kubelet's view of every Service (its service informer)."""

    @property
    def has_synced(self) -> bool: ...

    def list(self) -> list[service_pb2.Service]: ...


def env_name(name: str) -> str:
    """makeEnvVariableName: upper case, dashes to underscores."""
    return name.replace("-", "_").upper()


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def link_variables(svc: service_pb2.Service) -> list[tuple[str, str]]:
    """Docker links' variables (makeLinkVariables); the first port also as <NAME>_PORT."""
    prefix = env_name(svc.metadata.name)
    out: list[tuple[str, str]] = []
    for i, port in enumerate(svc.spec.ports):
        protocol = port.protocol or "TCP"
        url = f"{protocol.lower()}://{_join_host_port(svc.spec.cluster_ip, port.port)}"
        if i == 0:
            out.append((f"{prefix}_PORT", url))
        port_prefix = f"{prefix}_PORT_{port.port}_{protocol.upper()}"
        out += [
            (port_prefix, url),
            (f"{port_prefix}_PROTO", protocol.lower()),
            (f"{port_prefix}_PORT", str(port.port)),
            (f"{port_prefix}_ADDR", svc.spec.cluster_ip),
        ]
    return out


def from_services(services: Iterable[service_pb2.Service]) -> list[tuple[str, str]]:
    """envvars.FromServices: the variables of each Service with a cluster IP, in order."""
    out: list[tuple[str, str]] = []
    for svc in services:
        if not svc_helper.is_ip_set(svc) or not svc.spec.ports:
            continue
        name = env_name(svc.metadata.name)
        out.append((f"{name}_SERVICE_HOST", svc.spec.cluster_ip))
        out.append((f"{name}_SERVICE_PORT", str(svc.spec.ports[0].port)))
        out += [
            (f"{name}_SERVICE_PORT_{env_name(p.name)}", str(p.port))
            for p in svc.spec.ports
            if p.name
        ]
        out += link_variables(svc)
    return out


def service_env_map(
    services: Iterable[service_pb2.Service], namespace: str, enable_service_links: bool
) -> dict[str, str]:
    """getServiceEnvVarMap: the Services of `namespace` with links enabled, and the master
    services of `default` in any case (a Service of the pod's own namespace with the same name
    wins over it)."""
    chosen: dict[str, service_pb2.Service] = {}
    for svc in sorted(services, key=lambda s: (s.metadata.namespace, s.metadata.name)):
        if not svc_helper.is_ip_set(svc):
            continue
        name = svc.metadata.name
        if svc.metadata.namespace == MASTER_NAMESPACE and name in MASTER_SERVICES:
            chosen.setdefault(name, svc)
        elif svc.metadata.namespace == namespace and enable_service_links:
            chosen[name] = svc
    return dict(from_services(chosen[name] for name in sorted(chosen)))


def pod_service_env(pod: core_pb2.Pod, lister: ServiceLister | None) -> Mapping[str, str]:
    """The service variables of the pod's containers; none without a lister (a kubelet without
    an apiserver). A pod from the API waits until the Services have been read once, so that a
    restarted kubelet does not start containers without KUBERNETES_SERVICE_HOST."""
    if lister is None:
        return {}
    if not is_static_pod(pod) and not lister.has_synced:
        raise ContainerConfigError(
            "services have not yet been read at least once, cannot construct envvars"
        )
    links = pod.spec.enable_service_links if pod.spec.HasField("enable_service_links") else True
    return service_env_map(lister.list(), pod.metadata.namespace, links)
