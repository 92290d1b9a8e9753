"""A command's output streamed from a Docker exec as it comes (exec_stream): stdout and stderr
demultiplexed, then the exit code. The SDK's stream blocks, so a thread reads it; when the
consumer stops, the stream's socket is closed (the command itself runs on: Docker cannot cancel
an exec)."""

from __future__ import annotations

import importlib
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from types import ModuleType

from kubelet.runtime.docker.sdk import APIClient
from kubelet.runtime.docker.thread_stream import Emit, Track, stream_in_thread
from kubelet.runtime.types import ExecOutput

docker_socket: ModuleType = importlib.import_module("docker.utils.socket")  # frames_iter, untyped


class _StdinExec:
    """An exec attached through its raw socket: `stdin` is written and the write side shut, then
    the multiplexed output is read as (stdout, stderr) pairs, as exec_start(demux=True) yields."""

    def __init__(self, api: APIClient, exec_id: str, stdin: bytes) -> None:
        self._sock = api.exec_start(exec_id, socket=True)
        raw = getattr(self._sock, "_sock", self._sock)
        raw.sendall(stdin)
        raw.shutdown(socket.SHUT_WR)

    def __iter__(self) -> Iterator[tuple[bytes | None, bytes | None]]:
        for stream_id, data in docker_socket.frames_iter(self._sock, tty=False):
            yield (data, None) if stream_id != docker_socket.STDERR else (None, data)

    def close(self) -> None:
        self._sock.close()
        raw = getattr(self._sock, "_sock", None)
        if raw is not None:
            raw.close()


def _exec_with_stdin(api: APIClient, exec_id: str, stdin: bytes) -> _StdinExec:
    return _StdinExec(api, exec_id, stdin)


async def exec_output(
    api: APIClient, container_id: str, cmd: Sequence[str], stdin: bytes | None = None
) -> AsyncIterator[ExecOutput]:
    """stdout and stderr as they come, then a last item with the exit code; `stdin`, when given,
    is written to the command's standard input, which is then closed."""

    def produce(emit: Emit[ExecOutput], track: Track) -> None:
        created = api.exec_create(
            container_id, list(cmd), stdout=True, stderr=True, stdin=stdin is not None
        )
        if stdin is None:
            stream = api.exec_start(created["Id"], stream=True, demux=True)
        else:
            stream = _exec_with_stdin(api, created["Id"], stdin)
        if not track(stream):
            return
        for out, err in stream:
            if out and not emit(ExecOutput("stdout", bytes(out))):
                return
            if err and not emit(ExecOutput("stderr", bytes(err))):
                return
        code = api.exec_inspect(created["Id"]).get("ExitCode")
        emit(ExecOutput("", b"", int(code) if code is not None else -1))

    async for output in stream_in_thread(f"exec-{container_id[:12]}", produce):
        yield output
