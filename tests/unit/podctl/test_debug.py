"""`podctl debug` against an in-memory apiserver: the ephemeral container it adds (name, image,
target, command after `--`, stdin), the attach with -i and its exit code, and its refusals."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from podctl.__main__ import run
from podctl.describe.pod import describe_pod
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from tests.unit.podctl.fakes import FakeClient, obj, rpc_error


class DebugCluster(FakeClient):
    """Stores ephemeral containers as the apiserver does and reports them running, as a kubelet
    would; answers Attach with scripted chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.pods.store[("default", "web")] = obj(
            core_pb2.Pod,
            {
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx"}]},
                "status": {"phase": "Running"},
            },
        )
        self.attached: list[tuple[str, bytes | None]] = []
        self.answer = [
            core_pb2.ExecChunk(stream="stdout", data=b"PID USER\n"),
            core_pb2.ExecChunk(exit_code=0),
        ]
        self.conflicts = 0

    async def update_ephemeral_containers(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        if self.conflicts:
            self.conflicts -= 1
            raise rpc_error(grpc.StatusCode.ABORTED, "the object has been modified")
        wanted = list(pod.spec.ephemeral_containers)
        live = core_pb2.Pod()
        live.CopyFrom(self.pods.store[("default", pod.metadata.name)])
        live.spec.ClearField("ephemeral_containers")
        live.spec.ephemeral_containers.extend(wanted)
        self.pods.store[("default", pod.metadata.name)] = live
        live.status.ClearField("ephemeral_container_statuses")
        for ec in pod.spec.ephemeral_containers:
            live.status.ephemeral_container_statuses.add(name=ec.name).state.running.SetInParent()
        return live

    async def pod_attach(
        self, namespace: str, name: str, *, container: str = "", stdin: bytes | None = None
    ) -> AsyncIterator[core_pb2.ExecChunk]:
        self.attached.append((container, stdin))
        for chunk in self.answer:
            yield chunk


@pytest.fixture
def cluster() -> DebugCluster:
    return DebugCluster()


def podctl(cluster: FakeClient, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


def added(cluster: DebugCluster) -> Any:
    return cluster.pods.store[("default", "web")].spec.ephemeral_containers


def test_adds_a_named_debugger_with_target_and_command(
    cluster: DebugCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        podctl(
            cluster, "debug", "web", "--image", "busybox", "--target", "app", "--", "sleep", "1d"
        )
        == 0
    )
    [ec] = added(cluster)
    assert ec.name.startswith("debugger-") and len(ec.name) == len("debugger-") + 5
    assert (ec.image, ec.target_container_name, list(ec.command)) == (
        "busybox",
        "app",
        ["sleep", "1d"],
    )
    assert not ec.stdin and not ec.tty
    assert capsys.readouterr().err == f"Defaulting debug container name to {ec.name}.\n"
    assert cluster.attached == []  # without -i, nothing is attached


def test_with_stdin_attaches_and_passes_the_input_and_exit_code(
    cluster: DebugCluster,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"ps\nexit 4\n")))
    cluster.answer = [
        core_pb2.ExecChunk(stream="stdout", data=b"1 root sleep\n"),
        core_pb2.ExecChunk(stream="stderr", data=b"oops\n"),
        core_pb2.ExecChunk(exit_code=4),
    ]
    assert podctl(cluster, "debug", "web", "-i", "--image", "busybox", "-c", "dbg", "--", "sh") == 4
    [ec] = added(cluster)
    assert ec.name == "dbg" and ec.stdin and ec.stdin_once
    assert cluster.attached == [("dbg", b"ps\nexit 4\n")]
    out = capsysbinary.readouterr()
    assert out.out == b"1 root sleep\n" and out.err == b"oops\n"


def test_a_concurrent_write_is_retried(cluster: DebugCluster) -> None:
    cluster.conflicts = 2
    assert podctl(cluster, "debug", "web", "--image", "busybox", "-c", "dbg") == 0
    assert [ec.name for ec in added(cluster)] == ["dbg"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--target", "nope"], 'error: container "nope" not found in pod "web"'),
        (["-t"], "error: -i/--stdin is required for containers with -t/--tty=true"),
        (["--env", "novalue"], 'error: --env: invalid env: "novalue" (KEY=VALUE)'),
    ],
)
def test_refusals_name_the_problem(
    cluster: DebugCluster, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert podctl(cluster, "debug", "web", "--image", "busybox", "-c", "dbg", *argv) == 1
    assert message in capsys.readouterr().err
    assert list(added(cluster)) == []


def test_a_completed_pod_is_refused(
    cluster: DebugCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.pods.store[("default", "web")].status.phase = "Succeeded"
    assert podctl(cluster, "debug", "web", "--image", "busybox") == 1
    assert "cannot debug a completed pod; current phase is Succeeded" in capsys.readouterr().err


def test_describe_and_yaml_show_the_ephemeral_container(cluster: DebugCluster) -> None:
    assert (
        podctl(cluster, "debug", "web", "--image", "busybox", "-c", "dbg", "--target", "app") == 0
    )
    pod = cluster.pods.store[("default", "web")]
    text = describe_pod(pod, None, datetime.now(UTC))
    section = text[text.index("Ephemeral Containers:") :]
    assert "  dbg:\n" in section and "Image:" in section and "busybox" in section
    assert "Running" in section
    shown = manifest.to_dict(pod)
    assert shown["spec"]["ephemeralContainers"][0]["targetContainerName"] == "app"
    assert shown["status"]["ephemeralContainerStatuses"][0]["name"] == "dbg"
