"""Lifecycle hooks (pkg/kubelet/lifecycle): postStart runs right after the container starts and a
failure kills it (FailedPostStartHook, then PostStartHookError until it is started again); an
httpGet hook fails only when the request cannot be made."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from kubelet.container.lifecycle_hooks import HookError, run_hook
from kubelet.runtime.types import ContainerStatus
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import SyncHarness, state_of, status_of


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def record(self, obj: core_pb2.Pod, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


def post_start(*command: str) -> core_pb2.Lifecycle:
    return core_pb2.Lifecycle(
        post_start=core_pb2.LifecycleHandler(exec=core_pb2.ExecAction(command=list(command)))
    )


@pytest.fixture
def h(tmp_path: Path) -> SyncHarness:
    harness = SyncHarness(tmp_path)
    harness.syncer.recorder = Recorder()  # type: ignore[assignment]
    return harness


async def test_post_start_runs_in_the_container_right_after_it_starts(h: SyncHarness) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def hook(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        seen.append((c.state.value, list(cmd)))
        return 0, ""

    h.runtime.exec_handler = hook
    p = pod(container("app", lifecycle=post_start("sh", "-c", "warm-up")))
    await h.sync(p)
    assert seen == [("running", ["sh", "-c", "warm-up"])]
    assert state_of(p, "app") == "running" and h.runtime.stops == []


async def test_a_failed_post_start_hook_kills_the_container_which_is_started_again(
    h: SyncHarness,
) -> None:
    answers = [(1, "not yet"), (0, "")]

    async def hook(c: ContainerStatus, cmd: Sequence[str]) -> tuple[int, str]:
        return answers.pop(0)

    h.runtime.exec_handler = hook
    p = pod(container("app", lifecycle=post_start("warm-up")), termination_grace_period_seconds=3)
    requeue = await h.sync(p)
    first = h.runtime.by_name("app")[0]
    assert h.runtime.stops == [(first.id, 3)]
    assert state_of(p, "app") == "PostStartHookError"
    assert "exited with 1: not yet" in status_of(p, "app").state.waiting.message
    recorder = h.syncer.recorder
    assert isinstance(recorder, Recorder)
    assert [r for _, r, _ in recorder.events if r == "FailedPostStartHook"] == [
        "FailedPostStartHook"
    ]
    assert requeue is not None and requeue <= 1.0
    await h.sync(p)
    assert state_of(p, "app") == "running" and status_of(p, "app").restart_count == 1


class Server:
    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        self.paths.append(head.split(" ")[1])
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def server_500() -> AsyncIterator[tuple[Server, int]]:
    s = Server(500)
    server = await asyncio.start_server(s.handle, "127.0.0.1", 0)
    yield s, int(server.sockets[0].getsockname()[1])
    server.close()


async def test_an_http_hook_fails_only_when_the_request_cannot_be_made(
    h: SyncHarness, server_500: tuple[Server, int]
) -> None:
    server, port = server_500
    app = container("app", ports=[core_pb2.ContainerPort(name="admin", container_port=port)])
    p = pod(app)
    handler = core_pb2.LifecycleHandler(
        http_get=core_pb2.HTTPGetAction(path="/drain", port="admin")
    )
    await run_hook(h.runtime, p, app, "c1", handler, "127.0.0.1")  # a 500 is no failure
    assert server.paths == ["/drain"]
    closed = core_pb2.LifecycleHandler(http_get=core_pb2.HTTPGetAction(path="/", port="1"))
    with pytest.raises(HookError, match="connection refused"):
        await run_hook(h.runtime, p, app, "c1", closed, "127.0.0.1")


async def test_a_sleep_hook_sleeps_and_tcp_socket_is_refused(h: SyncHarness) -> None:
    app = container("app")
    loop = asyncio.get_running_loop()
    started = loop.time()
    sleep = core_pb2.LifecycleHandler(sleep=core_pb2.SleepAction(seconds=1))
    await run_hook(h.runtime, pod(app), app, "c1", sleep, "127.0.0.1")
    assert loop.time() - started >= 0.9
    tcp = core_pb2.LifecycleHandler(tcp_socket=core_pb2.TCPSocketAction(port="80"))
    with pytest.raises(HookError, match="tcpSocket is not supported"):
        await run_hook(h.runtime, pod(app), app, "c1", tcp, "127.0.0.1")
