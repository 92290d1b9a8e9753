"""A stand-in for the apiserver's REST front door, just enough for the real kubectl's `exec`,
`attach` and `port-forward` against one kubelet: discovery, GET of the pods it is given, and the
streaming subresources, upgraded by hand (a minimal RFC 6455 WebSocket server, and the plain
SPDY/3.1 upgrade) and handed to podplane.streaming as the apiserver's handlers will hand them.
Test scaffolding only: it checks the protocol modules against kubectl, not an apiserver."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import struct
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from podplane.api.core.v1 import core_pb2
from podplane.streaming import port_forward, remotecommand
from podplane.streaming.exec_relay import StreamOptions, relay_remotecommand
from podplane.streaming.sessions import ContainerSession, PortForwardConnection

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_RESOURCES = [
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
     "verbs": ["get", "list"], "shortNames": ["po"]},
    {"name": "pods/attach", "singularName": "", "namespaced": True, "kind": "PodAttachOptions",
     "verbs": ["create", "get"]},
    {"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions",
     "verbs": ["create", "get"]},
    {"name": "pods/portforward", "singularName": "", "namespaced": True,
     "kind": "PodPortForwardOptions", "verbs": ["create", "get"]},
]


class WebSocket:
    """Server side of RFC 6455 on an upgraded connection: whole messages in and out."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed = False

    async def receive(self) -> bytes | str | None:
        """The next data message; None once the client has closed or gone."""
        message, text = b"", False
        while not self.closed:
            try:
                head = await self.reader.readexactly(2)
                size = head[1] & 0x7F
                if size == 126:
                    size = struct.unpack(">H", await self.reader.readexactly(2))[0]
                elif size == 127:
                    size = struct.unpack(">Q", await self.reader.readexactly(8))[0]
                mask = await self.reader.readexactly(4) if head[1] & 0x80 else b"\0" * 4
                payload = await self.reader.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.closed = True
                return None
            if size:
                key = (mask * (size // 4 + 1))[:size]
                payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(
                    size, "big")
            opcode = head[0] & 0x0F
            if opcode == 0x8:
                await self.close()
                return None
            if opcode == 0x9:
                await self._send_frame(0xA, payload)
                continue
            if opcode in (0x1, 0x2, 0x0):
                text = text or opcode == 0x1
                message += payload
                if head[0] & 0x80:
                    return message.decode() if text else message
        return None

    async def receive_bytes(self) -> bytes:
        """The next non-empty message as bytes, for a byte tunnel; b"" once closed."""
        while (message := await self.receive()) is not None:
            if message:
                return message if isinstance(message, bytes) else message.encode()
        return b""

    async def send(self, message: bytes | str) -> None:
        if isinstance(message, str):
            await self._send_frame(0x1, message.encode())
        else:
            await self._send_frame(0x2, message)

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            head = struct.pack(">BB", 0x80 | opcode, size)
        elif size < 65536:
            head = struct.pack(">BBH", 0x80 | opcode, 126, size)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 127, size)
        self.writer.write(head + payload)
        await self.writer.drain()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(ConnectionError):
                await self._send_frame(0x8, struct.pack(">H", 1000))


def pod_json(pod: core_pb2.Pod) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod.metadata.name, "namespace": pod.metadata.namespace,
                         "uid": pod.metadata.uid},
            "spec": {"containers": [{"name": c.name, "image": c.image, "stdin": c.stdin,
                                     "tty": c.tty} for c in pod.spec.containers]},
            "status": {"phase": "Running"}}


class KubectlFrontDoor:
    def __init__(self, stub: Any, pods: dict[tuple[str, str], core_pb2.Pod]) -> None:
        self.stub = stub
        self.pods = pods
        self.port = 0
        self.upgrades: list[str] = []  # "websocket <protocol>" or "SPDY/3.1", in order
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        key = name.strip().lower()
                        headers[key] = (headers[key] + ", " if key in headers else "") + (
                            value.strip())
                if int(headers.get("content-length", "0")):
                    await reader.readexactly(int(headers["content-length"]))
                if "upgrade" in headers.get("connection", "").lower():
                    await self._upgrade(method, target, headers, reader, writer)
                    return
                await self._plain(target, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _plain(self, target: str, writer: asyncio.StreamWriter) -> None:
        path = urlsplit(target).path.rstrip("/")
        body: Any = None
        if path == "/api":
            body = {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}]}
        elif path == "/apis":
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        elif path == "/api/v1":
            body = {"kind": "APIResourceList", "groupVersion": "v1", "resources": _RESOURCES}
        else:
            parts = path.split("/")
            if len(parts) == 7 and parts[:4] == ["", "api", "v1", "namespaces"]:
                pod = self.pods.get((parts[4], parts[6]))
                body = pod_json(pod) if pod is not None else None
        status = "200 OK" if body is not None else "404 Not Found"
        data = json.dumps(body if body is not None else {
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
            "code": 404}).encode()
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()

    async def _upgrade(self, method: str, target: str, headers: dict[str, str],
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        url = urlsplit(target)
        parts = url.path.split("/")  # /api/v1/namespaces/NS/pods/NAME/SUB
        namespace, name, sub = parts[4], parts[6], parts[7]
        query = parse_qs(url.query)
        if headers.get("upgrade", "").lower() == "websocket":
            requested = remotecommand.requested_protocols([headers.get(
                "sec-websocket-protocol", "")])
            if sub == "portforward":
                chosen = port_forward.negotiate(requested)
            else:
                protocol = remotecommand.negotiate(requested)
                chosen = protocol.name if protocol is not None else None
            if chosen is None:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            accept = base64.b64encode(hashlib.sha1(
                (headers["sec-websocket-key"] + _WS_GUID).encode()).digest()).decode()
            writer.write((
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n"
                + (f"Sec-WebSocket-Protocol: {chosen}\r\n" if chosen else "") + "\r\n").encode())
            await writer.drain()
            self.upgrades.append(f"websocket {chosen}")
            socket = WebSocket(reader, writer)
            if sub == "portforward":
                await self._port_forward(namespace, name, socket.receive_bytes,
                                         socket.send)
            else:
                await self._remotecommand(sub, namespace, name, query, chosen or "", socket)
            await socket.close()
            return
        # kubectl's fallback: the plain SPDY/3.1 upgrade (port-forward only here).
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                     b"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n")
        await writer.drain()
        self.upgrades.append("SPDY/3.1")

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()
        await self._port_forward(namespace, name, lambda: reader.read(65536), write)

    async def _remotecommand(self, sub: str, namespace: str, name: str,
                             query: dict[str, list[str]], chosen: str, socket: WebSocket) -> None:
        def flag(key: str) -> bool:
            return query.get(key, ["false"])[0] in ("true", "1")
        options = StreamOptions(stdin=flag("stdin"), stdout=flag("stdout"),
                                stderr=flag("stderr"), tty=flag("tty"))
        container = query.get("container", [""])[0]

        async def open_session() -> ContainerSession:
            if sub == "attach":
                return await ContainerSession.attach(
                    self.stub, namespace=namespace, pod_name=name, container=container,
                    stdin=options.stdin, stdout=options.stdout, stderr=options.stderr)
            return await ContainerSession.exec(
                self.stub, namespace=namespace, pod_name=name, container=container,
                command=query.get("command", []), stdin=options.stdin, stdout=options.stdout,
                stderr=options.stderr, tty=options.tty)
        protocol = remotecommand.negotiate([chosen] if chosen else [])
        assert protocol is not None
        await relay_remotecommand(protocol, options, open_session, socket.receive, socket.send,
                                  attach=sub == "attach")

    async def _port_forward(self, namespace: str, name: str,
                            read: Callable[[], Awaitable[bytes]],
                            write: Callable[[bytes], Awaitable[None]]) -> None:
        async def dial(port: int) -> PortForwardConnection:
            return await PortForwardConnection.open(self.stub, namespace=namespace,
                                                    pod_name=name, port=port)
        await port_forward.serve_port_forward(read, write, dial)
