"""Connections to a pod's port (kubectl port-forward), dialled as Kubernetes' runtimes do: to
localhost inside the pod sandbox's network namespace, so a server listening on 127.0.0.1 in the
pod is reachable too. A throwaway thread enters the namespace (setns on a path naming it: Docker's
sandbox key, or /proc/<sandbox pid>/ns/net), connects, and ends; the socket stays in the namespace
it was made in.

Entering a namespace needs the runtime's mounts and CAP_SYS_ADMIN, which a kubelet next to its
runtime has (the node container, a host). Without them the pod's IP is dialled instead, which
reaches every server but those bound to localhost."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import socket
import threading

from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import PortForwardError

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
CONNECT_TIMEOUT = 10.0


class NamespaceUnavailable(Exception):
    """This process cannot enter the sandbox's network namespace."""


def _refusal(family: str, address: str, error: OSError) -> str:
    """Go's words for a failed dial, e.g. "dial tcp4 127.0.0.1:80: connect: connection refused"."""
    reason = os.strerror(error.errno).lower() if error.errno else str(error)
    if isinstance(error, TimeoutError):
        reason = "i/o timeout"
    return f"dial {family} {address}: connect: {reason}"


def _connect(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect((host, port))
        sock.settimeout(None)
        return sock
    except BaseException:
        sock.close()
        raise


def connect_localhost(port: int, namespace: str) -> socket.socket:
    """127.0.0.1:port, else [::1]:port, in the current network namespace; the error names both
    attempts as containerd's port forwarding does."""
    try:
        return _connect(socket.AF_INET, "127.0.0.1", port)
    except OSError as e4:
        ipv4 = _refusal("tcp4", f"127.0.0.1:{port}", e4)
    try:
        return _connect(socket.AF_INET6, "::1", port)
    except OSError as e6:
        ipv6 = _refusal("tcp6", f"[::1]:{port}", e6)
    raise PortForwardError(
        f"failed to connect to localhost:{port} inside namespace "
        f'"{namespace}", IPv4: {ipv4} IPv6 {ipv6}'
    )


def _enter(netns_path: str) -> None:
    """Moves the calling thread into the network namespace at `netns_path`."""
    try:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NamespaceUnavailable(f"{netns_path}: {e.strerror}") from None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise NamespaceUnavailable(f"setns {netns_path}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


async def connect_in_namespace(netns_path: str, port: int, sandbox_id: str) -> socket.socket:
    """Connects to localhost:port inside the namespace, from a thread that exists for this alone
    (a thread moved into a pod's namespace is never reused)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[socket.socket] = loop.create_future()

    def connected(sock: socket.socket) -> None:
        if done.cancelled():
            sock.close()
        else:
            done.set_result(sock)

    def failed(error: BaseException) -> None:
        if not done.cancelled():
            done.set_exception(error)

    def run() -> None:
        try:
            _enter(netns_path)
            sock = connect_localhost(port, sandbox_id)
        except BaseException as e:  # noqa: BLE001 - handed to the loop, raised there
            loop.call_soon_threadsafe(failed, e)
            return
        loop.call_soon_threadsafe(connected, sock)

    threading.Thread(target=run, name=f"portforward-{sandbox_id[:12]}", daemon=True).start()
    return await done


async def connect_pod_ip(ip: str, port: int, sandbox_id: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        return await asyncio.to_thread(_connect, family, ip, port)
    except OSError as e:
        address = f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}"
        dial = _refusal("tcp6" if family == socket.AF_INET6 else "tcp4", address, e)
        raise PortForwardError(
            f'failed to connect to {address} of pod sandbox "{sandbox_id}": {dial}'
        ) from None


async def dial_sandbox(netns_path: str, ip: str, port: int, sandbox_id: str) -> SocketConnection:
    """`port` on localhost in the sandbox's network namespace (`netns_path`, "" where the runtime
    names none), or at the sandbox's `ip` where it cannot be entered ("" for a host-network
    sandbox: the node's own localhost)."""
    try:
        if not netns_path:
            raise NamespaceUnavailable("the runtime reports no network namespace")
        sock = await connect_in_namespace(netns_path, port, sandbox_id)
    except NamespaceUnavailable as e:
        ip = ip or "127.0.0.1"
        log.debug("port-forward to %s: %s; dialling %s", sandbox_id[:12], e, ip)
        sock = await connect_pod_ip(ip, port, sandbox_id)
    return await SocketConnection.open(sock)
