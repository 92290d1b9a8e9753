"""The kubelet's interactive streams on the real Docker engine, called over its gRPC port as the
apiserver calls them (podplane.streaming.sessions): an exec in a terminal (stdin, a resize that
`stty size` reports, the exit code), an exec without one, an attach to a container reading
stdin, and port-forward to a busybox httpd, to a server bound to the pod's localhost, and to a
port nothing listens on."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2_grpc
from podplane.streaming.sessions import (
    ContainerSession,
    KubeletStreamError,
    PortForwardConnection,
)
from tests.support import within


async def read_all(session: ContainerSession) -> dict[str, bytes]:
    out: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    async for stream, data in session:
        out[stream] += data
    return out


async def test_an_interactive_shell_in_a_terminal(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    session = await ContainerSession.exec(
        stub,
        namespace=streams_pod.metadata.namespace,
        pod_name="streams",
        container="shell",
        command=["sh"],
        stdin=True,
        tty=True,
    )
    assert session.tty
    await session.send_stdin(b"echo hi\n")
    await session.send_stdin(b"exit 3\n")
    async with asyncio.timeout(30):
        out = await read_all(session)
    assert b"hi\r\n" in out["stdout"] and out["stderr"] == b""
    assert session.exit_code == 3


async def test_a_resize_is_what_stty_reports(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    session = await ContainerSession.exec(
        stub,
        namespace=streams_pod.metadata.namespace,
        pod_name="streams",
        container="shell",
        command=["sh"],
        stdin=True,
        tty=True,
    )
    await session.resize(123, 45)
    await session.send_stdin(b"stty size; exit\n")
    async with asyncio.timeout(30):
        out = await read_all(session)
    assert b"45 123" in out["stdout"]
    assert session.exit_code == 0


async def test_an_exec_without_a_terminal_reads_stdin_to_its_end(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    session = await ContainerSession.exec(
        stub,
        namespace=streams_pod.metadata.namespace,
        pod_name="streams",
        container="shell",
        command=["sh", "-c", "cat; echo done >&2; exit 4"],
        stdin=True,
    )
    assert not session.tty
    await session.send_stdin(b"one\n")
    await session.send_stdin(b"two\n")
    await session.close_stdin()
    async with asyncio.timeout(30):
        assert await read_all(session) == {
            "stdout": b"one\ntwo\n",
            "stderr": b"done\n",
        }
    assert session.exit_code == 4


async def test_an_attach_to_a_container_reading_stdin(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    session = await ContainerSession.attach(
        stub,
        namespace=streams_pod.metadata.namespace,
        pod_name="streams",
        container="reader",
        stdin=True,
    )
    await session.send_stdin(b"x\n")
    async with asyncio.timeout(30):
        out = await read_all(session)
    assert out["stdout"] == b"got x\n"
    assert session.exit_code == 5


async def http_get(stub: kubelet_pb2_grpc.KubeletStub, namespace: str, port: int) -> bytes:
    connection = await PortForwardConnection.open(
        stub, namespace=namespace, pod_name="streams", port=port
    )
    await connection.write(b"GET / HTTP/1.0\r\n\r\n")
    answer = b""
    while data := await within(30, connection.read()):
        answer += data
    await connection.close()
    return answer


async def test_port_forward_to_a_web_server(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    answer = await http_get(stub, streams_pod.metadata.namespace, 80)
    assert answer.startswith(b"HTTP/1.") and answer.endswith(b"hello-from-pod\n")


async def test_port_forward_reaches_the_pods_localhost(
    stub: kubelet_pb2_grpc.KubeletStub, streams_pod: core_pb2.Pod
) -> None:
    # Bound to 127.0.0.1 in the pod: reachable inside its network namespace only.
    assert (await http_get(stub, streams_pod.metadata.namespace, 8081)).endswith(
        b"hello-from-pod\n"
    )


async def test_port_forward_to_a_port_nothing_listens_on(
    stub: kubelet_pb2_grpc.KubeletStub, docker_runtime: DockerRuntime, streams_pod: core_pb2.Pod
) -> None:
    with pytest.raises(KubeletStreamError) as refused:
        await PortForwardConnection.open(
            stub, namespace=streams_pod.metadata.namespace, pod_name="streams", port=81
        )
    [sandbox] = await docker_runtime.list_pod_sandboxes(streams_pod.metadata.uid)
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert refused.value.message.startswith(
        f"error forwarding port 81 to pod {sandbox.id}, uid : failed to connect to "
        f'localhost:81 inside namespace "{sandbox.id}", IPv4: dial tcp4 127.0.0.1:81: '
        "connect: connection refused"
    )
