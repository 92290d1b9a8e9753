"""Attaching to a Docker container's own process (docker attach, kubectl attach without a
terminal): its output from the start (logs=1, so nothing written before the attach is lost), then
its exit code once it ends. Standard input, when given, is written whole and then closed: with
`StdinOnce` (Kubernetes' stdinOnce, set by `podctl debug -i`) Docker then closes the process's
stdin, so a shell reading a script from it runs the script and exits."""

from __future__ import annotations

import importlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from kubelet.runtime.docker.sdk import APIClient
from kubelet.runtime.docker.thread_stream import Emit, Track, stream_in_thread
from kubelet.runtime.types import ExecOutput

docker_socket: Any = importlib.import_module("docker.utils.socket")  # frames_iter, untyped
# What a terminal sends for end-of-file: with a TTY, closing the socket's write side does not
# close the process's stdin, so the line discipline is told instead (after a newline, ^D).
_TTY_EOF = b"\n\x04"


class _Attached:
    """The raw attach socket; close() (from the consumer's side) ends the blocking reads."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.raw = getattr(sock, "_sock", sock)

    def send_stdin(self, data: bytes, tty: bool) -> None:
        if tty:
            self.raw.sendall(data + _TTY_EOF)
        else:
            self.raw.sendall(data)
            self.raw.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()
        if self.raw is not self.sock:
            self.raw.close()


async def attach_output(
    api: APIClient, container_id: str, stdin: bytes | None
) -> AsyncIterator[ExecOutput]:
    def running() -> bool:
        return bool((api.inspect_container(container_id).get("State") or {}).get("Running"))

    def attach(stream: bool) -> _Attached:
        params = {"stdout": 1, "stderr": 1, "stream": int(stream), "logs": 1}
        if stdin is not None and stream:
            params["stdin"] = 1
        return _Attached(api.attach_socket(container_id, params=params))

    def produce(emit: Emit[ExecOutput], track: Track) -> None:
        tty = bool((api.inspect_container(container_id).get("Config") or {}).get("Tty"))
        # Docker never ends a stream attached after the container exited: an ended container
        # gets its output replayed alone, and one that ended while being attached to is
        # attached to again that way.
        live = running()
        attached = attach(stream=live)
        if live and not running():
            attached.close()
            live, attached = False, attach(stream=False)
        if not track(attached):
            return
        if stdin is not None and live:
            attached.send_stdin(stdin, tty)
        for stream_id, data in docker_socket.frames_iter(attached.sock, tty=tty):
            name = "stderr" if stream_id == docker_socket.STDERR else "stdout"
            if data and not emit(ExecOutput(name, bytes(data))):
                return
        # The output ends when the process does; its exit code is then known.
        code = api.wait(container_id).get("StatusCode")
        emit(ExecOutput("", b"", int(code) if code is not None else -1))

    async for output in stream_in_thread(f"attach-{container_id[:12]}", produce):
        yield output
