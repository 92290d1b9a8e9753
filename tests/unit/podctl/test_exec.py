"""`podctl exec` against an in-memory apiserver: the command after `--`, output on the right stream,
the exit code as podctl's, and kubectl's refusals."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
import pytest

from podctl.__main__ import run
from podctl.cmd.exec import split_command
from podplane.api.core.v1 import core_pb2
from tests.unit.podctl.fakes import FakeClient, obj, rpc_error


class ExecCluster(FakeClient):
    """Answers Exec with scripted chunks and records what was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.execs: list[tuple[str, str, str, list[str]]] = []
        self.stdins: list[bytes | None] = []
        self.answer: list[core_pb2.ExecChunk] = [core_pb2.ExecChunk(exit_code=0)]
        self.error: grpc.aio.AioRpcError | None = None

    async def pod_exec(
        self,
        namespace: str,
        name: str,
        command: Sequence[str],
        *,
        container: str = "",
        stdin: bytes | None = None,
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        self.execs.append((namespace, name, container, list(command)))
        self.stdins.append(stdin)
        if self.error is not None:
            raise self.error
        for chunk in self.answer:
            yield chunk


def pod(
    name: str,
    containers: Sequence[str] = ("app",),
    phase: str = "Running",
    namespace: str = "default",
) -> Any:
    return obj(
        core_pb2.Pod,
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": "node-1",
                "containers": [{"name": c, "image": "busybox"} for c in containers],
            },
            "status": {"phase": phase},
        },
    )


@pytest.fixture
def cluster() -> ExecCluster:
    c = ExecCluster()
    c.pods.store[("default", "web")] = pod("web")
    return c


def podctl(cluster: FakeClient, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["exec", "web", "--", "ls", "-l"], (["exec", "web"], ["ls", "-l"])),
        (
            ["-n", "x", "exec", "web", "-c", "app", "--", "sh", "-c", "exit 3"],
            (["-n", "x", "exec", "web", "-c", "app"], ["sh", "-c", "exit 3"]),
        ),
        (["exec", "web", "--", "echo", "--", "-c"], (["exec", "web"], ["echo", "--", "-c"])),
        (["logs", "--", "web"], (["logs", "--", "web"], None)),
        (["exec", "web", "ls"], (["exec", "web", "ls"], None)),
    ],
)
def test_the_command_is_everything_after_the_first_dashes(
    argv: list[str], expected: tuple[list[str], list[str] | None]
) -> None:
    assert split_command(argv) == expected


def test_stdout_and_stderr_go_to_their_streams(
    cluster: ExecCluster, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    cluster.answer = [
        core_pb2.ExecChunk(stream="stdout", data=b"hi\n"),
        core_pb2.ExecChunk(stream="stderr", data=b"warn\n"),
        core_pb2.ExecChunk(stream="stdout", data=b"\xff\x00raw\n"),
        core_pb2.ExecChunk(exit_code=0),
    ]
    assert podctl(cluster, "exec", "web", "--", "sh", "-c", "echo hi; echo warn >&2") == 0
    captured = capsysbinary.readouterr()
    assert captured.out == b"hi\n\xff\x00raw\n"
    assert captured.err == b"warn\n"
    assert cluster.execs == [("default", "web", "app", ["sh", "-c", "echo hi; echo warn >&2"])]


def test_a_failing_command_exits_with_its_code(
    cluster: ExecCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.answer = [core_pb2.ExecChunk(exit_code=3)]
    assert podctl(cluster, "exec", "web", "--", "sh", "-c", "exit 3") == 3
    assert capsys.readouterr().err == "command terminated with exit code 3\n"


def test_namespace_and_container_flags(
    cluster: ExecCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.pods.store[("team", "db")] = pod("db", ("main", "sidecar"), namespace="team")
    assert podctl(cluster, "exec", "db", "-n", "team", "-c", "sidecar", "--", "true") == 0
    assert podctl(cluster, "-n", "team", "exec", "db", "--", "true") == 0
    assert cluster.execs == [("team", "db", "sidecar", ["true"]), ("team", "db", "main", ["true"])]
    assert capsys.readouterr().err == 'Defaulted container "main" out of: main, sidecar\n'


def test_the_form_without_dashes_still_runs_with_a_warning(
    cluster: ExecCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert podctl(cluster, "exec", "web", "date") == 0
    assert cluster.execs[0][3] == ["date"]
    assert "is DEPRECATED" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "stored", "message"),
    [
        (
            ["exec", "web"],
            pod("web"),
            "error: you must specify at least one command for the container\n",
        ),
        (
            ["exec", "web", "--", "true"],
            pod("web", phase="Succeeded"),
            "error: cannot exec into a container in a completed pod; current phase is Succeeded\n",
        ),
        (
            ["exec", "web", "-c", "nope", "--", "true"],
            pod("web"),
            "error: container nope is not valid for pod web\n",
        ),
        (
            ["exec", "gone", "--", "true"],
            pod("web"),
            'Error from server (NotFound): pods "gone" not found\n',
        ),
    ],
)
def test_refusals_before_anything_runs(
    cluster: ExecCluster,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stored: Any,
    message: str,
) -> None:
    cluster.pods.store[("default", "web")] = stored
    assert podctl(cluster, *argv) == 1
    assert capsys.readouterr().err == message
    assert cluster.execs == []


def test_a_container_that_is_not_running_is_refused_as_kubectl_words_it(
    cluster: ExecCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.error = rpc_error(
        grpc.StatusCode.INVALID_ARGUMENT,
        'unable to upgrade connection: container not found ("app")',
    )
    assert podctl(cluster, "exec", "web", "--", "true") == 1
    assert capsys.readouterr().err == (
        'error: unable to upgrade connection: container not found ("app")\n'
    )


def test_stdin_is_passed_only_with_dash_i(
    cluster: ExecCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"line 1\nline 2\n")))
    assert podctl(cluster, "exec", "web", "--", "cat") == 0
    assert podctl(cluster, "exec", "-i", "web", "--", "cat") == 0
    assert cluster.stdins == [None, b"line 1\nline 2\n"]
