"""Connections to a pod's port on Docker: the sandbox's network namespace is the engine's sandbox
key (/var/run/docker/netns/<id>); kubelet/runtime/pod_port.py dials in it."""

from __future__ import annotations

from kubelet.runtime.pod_port import dial_sandbox
from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import PortForwardError
from podplane.apimachinery.json_types import JSONObject


async def dial(inspect: JSONObject, port: int) -> SocketConnection:
    """Connects to `port` of the sandbox whose inspect data is given."""
    sandbox_id = str(inspect.get("Id", ""))
    if not (inspect.get("State") or {}).get("Running"):
        raise PortForwardError(f'pod sandbox "{sandbox_id}" is not running')
    networks = inspect.get("NetworkSettings") or {}
    netns, ip = networks.get("SandboxKey") or "", networks.get("IPAddress") or ""
    return await dial_sandbox(str(netns), str(ip), port, sandbox_id)
