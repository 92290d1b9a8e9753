"""Where nodes/proxy goes (pkg/registry/core/node/rest/proxy.go, node.ResourceLocation): the
node's kubelet, at its InternalIP and the port its status.daemonEndpoints.kubeletEndpoint
advertises, over HTTPS with the apiserver's kubelet client certificate (plain HTTP when the
apiserver has none, as its gRPC channel to kubelets is then plaintext too). The name may carry
a port, `node-1:10250`, as Kubernetes' does."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver import errors
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import kubelet_client
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import kubelet_endpoints


@dataclass(frozen=True)
class Location:
    scheme: str
    host: str  # IP:port
    node: str  # the name the kubelet's serving certificate is checked for

    def url(self, path: str, query: str) -> str:
        return f"{self.scheme}://{self.host}/{path.lstrip('/')}" + (f"?{query}" if query else "")


async def location(nodes: Store[core_pb2.Node], name_and_port: str) -> Location:
    scheme, name, port = "", name_and_port, ""
    parts = name_and_port.split(":")
    if len(parts) == 3:
        scheme, name, port = parts
    elif len(parts) == 2:
        name, port = parts
    if scheme not in ("", "https", "http") or (port and not port.isdigit()):
        raise errors.bad_request(f"invalid node request {name_and_port!r}")
    node = await nodes.get("", name)
    address = kubelet_endpoints.internal_ip(node)
    if not address:
        raise errors.bad_request(f'node "{name}" has no InternalIP address')
    chosen = int(port) if port else kubelet_endpoints.https_port(node)
    tls = kubelet_client.https_context() is not None
    return Location(
        scheme or ("https" if tls else "http"), kubelet_endpoints.host_port(address, chosen), name
    )
