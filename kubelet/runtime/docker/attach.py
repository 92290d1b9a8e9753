"""Attaching to a Docker container's own process (docker attach, kubectl attach without a
terminal): its output from the start (logs=1, so nothing written before the attach is lost), then
its exit code once it ends. Standard input, when given, is written whole and then closed: with
`StdinOnce` (Kubernetes' stdinOnce, set by `podctl debug -i`) Docker then closes the process's
stdin, so a shell reading a script from it runs the script and exits. How the engine is attached
to, running or ended, is attach_container, which the interactive attach (interactive.py) uses
too."""

from __future__ import annotations

import importlib
import socket
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from kubelet.runtime.docker.hijack import HijackedSocket
from kubelet.runtime.docker.sdk import APIClient
from kubelet.runtime.docker.thread_stream import Emit, Track, stream_in_thread
from kubelet.runtime.types import ExecOutput
from podplane.apimachinery.json_types import JSONObject

docker_socket: ModuleType = importlib.import_module("docker.utils.socket")  # frames_iter, untyped
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


def _running(info: JSONObject) -> bool:
    return bool((info.get("State") or {}).get("Running"))


def attach_container(
    api: APIClient,
    container_id: str,
    info: JSONObject,
    *,
    stdin: bool,
    stdout: bool = True,
    stderr: bool = True,
    replay: bool,
) -> tuple[bool, HijackedSocket]:
    """The engine's attach connection to the container (`info`, its inspect data), and whether
    it is live: the running process's streams, after what it wrote so far when `replay`. An
    ended container's connection replays its output alone, without stdin, and ends.

    Docker never ends a stream attached after the container exited, so the container is
    inspected again once attached (Docker registers the attach before it answers): ended by then,
    the attach gives way to a replay."""

    def attach(live: bool, logs: bool) -> HijackedSocket:
        params = {
            "stdin": int(stdin and live),
            "stdout": int(stdout),
            "stderr": int(stderr),
            "logs": int(logs),
            "stream": int(live),
        }
        sock: HijackedSocket = api.attach_socket(container_id, params=params)
        return sock

    if _running(info):
        sock = attach(live=True, logs=replay)
        if _running(api.inspect_container(container_id)):
            return True, sock
        _Attached(sock).close()
    return False, attach(live=False, logs=True)


async def attach_output(
    api: APIClient, container_id: str, stdin: bytes | None
) -> AsyncIterator[ExecOutput]:
    def produce(emit: Emit[ExecOutput], track: Track) -> None:
        info = api.inspect_container(container_id)
        tty = bool((info.get("Config") or {}).get("Tty"))
        live, sock = attach_container(api, container_id, info, stdin=stdin is not None, replay=True)
        attached = _Attached(sock)
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
