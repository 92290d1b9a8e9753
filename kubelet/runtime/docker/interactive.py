"""Interactive exec and attach on Docker (kubectl exec -it, kubectl attach -it): the engine's
exec start or container attach, hijacked into a raw connection that carries stdin one way and the
output the other (raw through a terminal, multiplexed without one); resizes through the engine's
exec and container resize calls; the exit code from exec inspect or the container's state.

Closing the write side of the connection closes a command's stdin without a terminal; with one,
the engine would end the output instead and leave the process running, so a terminal is sent its
end-of-file character."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import ParamSpec, Protocol, TypeVar

from kubelet.runtime.docker.attach import attach_container
from kubelet.runtime.docker.hijack import MultiplexedStream, take_over
from kubelet.runtime.docker.sdk import APIClient
from kubelet.runtime.socket_connection import SocketConnection
from kubelet.runtime.streams import StreamOptions, TerminalSize, wait_for_exit
from kubelet.runtime.types import ContainerRuntimeError, ExecOutput

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class Call(Protocol):
    """Calls a blocking SDK function off the event loop, SDK errors as ContainerRuntimeError."""

    def __call__(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]: ...


_TERMINAL_EOF = b"\x04"


class DockerProcess:
    """An exec'd command or a container's process on its hijacked connection."""

    def __init__(
        self,
        connection: SocketConnection,
        leftover: bytes,
        tty: bool,
        resize: Callable[[TerminalSize], Awaitable[None]],
        exit_code: Callable[[], Awaitable[int | None]],
        *,
        stdin_open: bool = True,
    ) -> None:
        self._connection = connection
        self._leftover = leftover
        self._tty = tty
        self._resize = resize
        self._exit_code = exit_code
        # An attach without stdin: what the caller sends is dropped.
        self._stdin_closed = not stdin_open

    @property
    def tty(self) -> bool:
        return self._tty

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin_closed:
            return
        try:
            await self._connection.write(data)
        except (ConnectionError, OSError):
            self._stdin_closed = True  # the process is gone; its output says how it ended

    async def close_stdin(self) -> None:
        if self._stdin_closed:
            return
        if self._tty:
            await self.write_stdin(_TERMINAL_EOF)
        else:
            await self._connection.close_write()
        self._stdin_closed = True

    async def resize(self, size: TerminalSize) -> None:
        if not self._tty or size.width <= 0 or size.height <= 0:
            return
        try:
            await self._resize(size)
        except ContainerRuntimeError as e:  # ended meanwhile, or not started yet
            log.debug("resize to %sx%s: %s", size.width, size.height, e)

    async def output(self) -> AsyncIterator[ExecOutput]:
        demux = None if self._tty else MultiplexedStream()
        data, self._leftover = self._leftover, b""
        while True:
            if not data:
                data = await self._connection.read()
                if not data:
                    break
            if demux is None:
                yield ExecOutput("stdout", data)
            else:
                for stream, piece in demux.feed(data):
                    yield ExecOutput(stream, piece)
            data = b""
        code = await self._exit_code()
        if code is not None:
            yield ExecOutput("", b"", code)

    async def close(self) -> None:
        await self._connection.close()


async def exec_interactive(
    api: APIClient, call: Call, container_id: str, cmd: Sequence[str], streams: StreamOptions
) -> DockerProcess:
    def start() -> tuple[str, tuple[socket.socket, bytes]]:
        created = api.exec_create(
            container_id,
            list(cmd),
            stdin=streams.stdin,
            stdout=streams.stdout,
            stderr=streams.stderr,
            tty=streams.tty,
        )
        exec_id = str(created["Id"])
        return exec_id, take_over(api.exec_start(exec_id, socket=True, tty=streams.tty))

    exec_id, (sock, leftover) = await call(start)

    async def resize(size: TerminalSize) -> None:
        await call(api.exec_resize, exec_id, height=size.height, width=size.width)

    async def status() -> tuple[bool, int | None]:
        info = await call(api.exec_inspect, exec_id)
        code = info.get("ExitCode")
        return bool(info.get("Running")), int(code) if code is not None else None

    async def exit_code() -> int | None:
        return await wait_for_exit(status)

    return DockerProcess(
        await SocketConnection.open(sock), leftover, streams.tty, resize, exit_code
    )


async def attach_interactive(
    api: APIClient, call: Call, container_id: str, streams: StreamOptions
) -> DockerProcess:
    """Attaches to the container's running process: its output from the attach on, as a CRI
    runtime's attach gives it (what it wrote before is in its log: kubectl run -i prints that log
    before it attaches, since kubectl 1.35). A process that has ended by the time the engine has
    the attach is an error, as on a CRI runtime, and kubectl then falls back to the log."""

    def start() -> tuple[bool, tuple[socket.socket, bytes]]:
        info = api.inspect_container(container_id)
        config = info.get("Config") or {}
        running, sock = attach_container(
            api,
            container_id,
            info,
            stdin=streams.stdin,
            stdout=streams.stdout,
            stderr=streams.stderr,
            replay=False,
        )
        if not running:
            sock.close()
            raise ContainerRuntimeError(f"container {container_id[:12]} is not running")
        return bool(config.get("Tty")), take_over(sock)

    tty, (sock, leftover) = await call(start)

    async def resize(size: TerminalSize) -> None:
        await call(api.resize, container_id, height=size.height, width=size.width)

    async def status() -> tuple[bool, int | None]:
        state = (await call(api.inspect_container, container_id)).get("State") or {}
        return bool(state.get("Running")), int(state.get("ExitCode") or 0)

    async def exit_code() -> int | None:
        return await wait_for_exit(status)

    return DockerProcess(
        await SocketConnection.open(sock),
        leftover,
        tty,
        resize,
        exit_code,
        stdin_open=streams.stdin,
    )
