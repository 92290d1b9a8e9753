"""Connections to a pod's port on Docker: the sandbox's network namespace is the engine's sandbox
key (/var/run/docker/netns/<id>); kubelet/runtime/pod_port.py dials in it."""

from __future__ import annotations

import logging

from kubelet.runtime.pod_port import NamespaceUnavailable, connect_in_namespace, connect_pod_ip
from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import PortForwardError
from podplane.apimachinery.json_types import JSONObject

log = logging.getLogger(__name__)


async def dial(inspect: JSONObject, port: int) -> SocketConnection:
    """Connects to `port` of the sandbox whose inspect data is given."""
    sandbox_id = str(inspect.get("Id", ""))
    if not (inspect.get("State") or {}).get("Running"):
        raise PortForwardError(f'pod sandbox "{sandbox_id}" is not running')
    networks = inspect.get("NetworkSettings") or {}
    netns = networks.get("SandboxKey") or ""
    try:
        if not netns:
            raise NamespaceUnavailable("the engine reports no network namespace")
        sock = await connect_in_namespace(netns, port, sandbox_id)
    except NamespaceUnavailable as e:
        ip = networks.get("IPAddress") or "127.0.0.1"  # host network: the node's own localhost
        log.debug("port-forward to %s: %s; dialling %s", sandbox_id[:12], e, ip)
        sock = await connect_pod_ip(ip, port, sandbox_id)
    return await SocketConnection.open(sock)
