"""One exec/attach WebSocket relayed to a container session: what kubectl sees on each channel,
what reaches the session, and the final status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import pytest

from podplane.streaming import remotecommand as rc
from podplane.streaming.exec_relay import (
    StreamOptions,
    error_status,
    is_refusal,
    refusal_code,
    refusal_text,
    relay_remotecommand,
)
from podplane.streaming.sessions import KubeletStreamError


class FakeSession:
    """A shell: what it is sent is recorded; its output is scripted by the test."""

    def __init__(self, exit_code: int | None = 0) -> None:
        self.stdin = b""
        self.events: list[object] = []
        self.output: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        self.exit_code: int | None = None
        self._final = exit_code
        self.closed = asyncio.Event()

    async def send_stdin(self, data: bytes) -> None:
        self.stdin += data

    async def resize(self, width: int, height: int) -> None:
        self.events.append(("resize", width, height))

    async def close_stdin(self) -> None:
        self.events.append("stdin closed")

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        return self._out()

    async def _out(self) -> AsyncIterator[tuple[str, bytes]]:
        while (item := await self.output.get()) is not None:
            yield item
        if self.closed.is_set():
            raise KubeletStreamError(grpc.StatusCode.CANCELLED, "cancelled")
        self.exit_code = self._final

    async def close(self) -> None:
        self.closed.set()
        self.output.put_nowait(None)


class Socket:
    def __init__(self) -> None:
        self.from_client: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.to_client: list[bytes | str] = []

    async def receive(self) -> bytes | str | None:
        return await self.from_client.get()

    async def send(self, message: bytes | str) -> None:
        self.to_client.append(message)


def relay(
    socket: Socket,
    session: FakeSession,
    options: StreamOptions,
    protocol: str = rc.V5,
    attach: bool = False,
) -> asyncio.Task[None]:
    async def opened() -> FakeSession:
        return session

    return asyncio.create_task(
        relay_remotecommand(
            rc.PROTOCOLS[protocol], options, opened, socket.receive, socket.send, attach=attach
        )
    )


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_an_interactive_shell_that_exits_3() -> None:
    socket, session = Socket(), FakeSession(exit_code=3)
    task = relay(socket, session, StreamOptions(stdin=True, stdout=True, stderr=False, tty=True))
    socket.from_client.put_nowait(b'\x04{"Width":100,"Height":30}\n')
    socket.from_client.put_nowait(b"\x00echo hi\n")
    socket.from_client.put_nowait(b"\x00exit 3\n")
    await settle()
    session.output.put_nowait(("stdout", b"hi\r\n"))
    session.output.put_nowait(None)
    async with asyncio.timeout(5):
        await task
    assert session.stdin == b"echo hi\nexit 3\n"
    assert session.events == [("resize", 100, 30)]
    connected, output, status = socket.to_client
    assert (connected, output) == (b"\x01", b"\x01hi\r\n")
    assert isinstance(status, bytes) and status[0] == rc.ERROR
    assert json.loads(status[1:])["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}


async def test_stdin_close_and_separate_stderr() -> None:
    socket, session = Socket(), FakeSession()
    task = relay(socket, session, StreamOptions(stdin=True))
    socket.from_client.put_nowait(b"\x00data")
    socket.from_client.put_nowait(bytes([255, 0]))
    await settle()
    assert session.events == ["stdin closed"]
    session.output.put_nowait(("stderr", b"oops\n"))
    session.output.put_nowait(None)
    async with asyncio.timeout(5):
        await task
    assert socket.to_client == [b"\x01", b"\x02oops\n", b'\x03{"metadata":{},"status":"Success"}']


async def test_the_client_going_away_closes_the_session_without_a_status() -> None:
    socket, session = Socket(), FakeSession()
    task = relay(socket, session, StreamOptions(stdin=True, tty=True))
    socket.from_client.put_nowait(None)
    async with asyncio.timeout(5):
        await task
    assert session.closed.is_set()
    assert socket.to_client == [b"\x01"]


async def test_an_attach_ends_in_success_whatever_the_exit_code() -> None:
    socket, session = Socket(), FakeSession(exit_code=1)
    task = relay(socket, session, StreamOptions(), protocol=rc.V4, attach=True)
    session.output.put_nowait(None)
    async with asyncio.timeout(5):
        await task
    assert socket.to_client[-1] == b'\x03{"metadata":{},"status":"Success"}'


async def test_a_session_the_kubelet_refuses_is_the_translators_internal_error() -> None:
    socket = Socket()

    async def refused() -> FakeSession:
        raise KubeletStreamError(
            grpc.StatusCode.FAILED_PRECONDITION,
            'unable to upgrade connection: container not found ("app")',
        )

    async with asyncio.timeout(5):
        await relay_remotecommand(
            rc.PROTOCOLS[rc.V5],
            StreamOptions(stdout=False, stderr=False),
            refused,
            socket.receive,
            socket.send,
        )
    first, status = socket.to_client
    assert first == b"\x03"  # nothing to write on stdout or stderr: the error channel
    assert isinstance(status, bytes)
    message = 'unable to upgrade connection: container not found ("app")'
    assert json.loads(status[1:]) == {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


@pytest.mark.parametrize(
    ("protocol", "code", "kubelet_message", "message"),
    [
        # v5: kube-apiserver's stream translator wraps what its SPDY client saw.
        (
            rc.V5,
            grpc.StatusCode.NOT_FOUND,
            'pods "nope" not found',
            'Internal error occurred: unable to upgrade connection: pods "nope" not found',
        ),
        (
            rc.V5,
            grpc.StatusCode.UNAVAILABLE,
            "error executing command in container: no such file",
            "Internal error occurred: Internal error occurred: error executing command in "
            "container: no such file",
        ),
        # v4: the kubelet's own Status.
        (
            rc.V4,
            grpc.StatusCode.UNAVAILABLE,
            "error executing command in container: no such file",
            "Internal error occurred: error executing command in container: no such file",
        ),
    ],
)
def test_failures_are_internal_errors_as_each_protocols_server_writes_them(
    protocol: str, code: grpc.StatusCode, kubelet_message: str, message: str
) -> None:
    status = error_status(rc.PROTOCOLS[protocol], KubeletStreamError(code, kubelet_message))
    assert (status["reason"], status["code"], status["message"]) == ("InternalError", 500, message)


def test_a_refusal_before_v5_is_the_kubelets_http_error() -> None:
    not_running = KubeletStreamError(
        grpc.StatusCode.FAILED_PRECONDITION,
        'unable to upgrade connection: container not found ("app")',
    )
    assert is_refusal(not_running)
    assert (refusal_code(not_running), refusal_text(not_running)) == (
        500,
        'container not found ("app")',
    )
    gone = KubeletStreamError(grpc.StatusCode.NOT_FOUND, 'pods "nope" not found')
    assert (refusal_code(gone), refusal_text(gone)) == (404, 'pods "nope" not found')
    assert not is_refusal(KubeletStreamError(grpc.StatusCode.UNAVAILABLE, "runtime down"))


async def test_base64_clients_get_text_messages() -> None:
    socket, session = Socket(), FakeSession()
    task = relay(socket, session, StreamOptions(), protocol=rc.V4_BASE64)
    session.output.put_nowait(("stdout", b"hi"))
    session.output.put_nowait(None)
    async with asyncio.timeout(5):
        await task
    assert socket.to_client[:2] == ["1", "1aGk="]
