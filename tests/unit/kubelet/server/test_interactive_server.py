"""The kubelet API's bidirectional streams over real gRPC, on the hollow runtime (whose
interactive processes behave as `cat` and whose listening pod ports echo): interactive exec and
attach, port-forward, the errors a caller gets, and who may call them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.streams import TerminalSize
from kubelet.runtime.types import ContainerRuntimeError, ContainerState
from kubelet.server.authorization import KubeletAPIAuthorizer
from kubelet.server.servicer import SERVICE_NAME, KubeletServicer
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc
from podplane.componentbase.serving import Server
from podplane.streaming.sessions import (
    ContainerSession,
    KubeletStreamError,
    PortForwardConnection,
)
from tests.pki_support import make_pki
from tests.support import within
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.synctest import SyncHarness


class Node:
    def __init__(
        self, runtime: HollowRuntime, stub: kubelet_pb2_grpc.KubeletStub, web: core_pb2.Pod
    ) -> None:
        self.runtime, self.stub, self.web = runtime, stub, web


async def serve(
    runtime: HollowRuntime,
    pods: dict[str, core_pb2.Pod],
    authorize: bool = False,
    credentials: grpc.ServerCredentials | None = None,
) -> Server:
    servicer = KubeletServicer(runtime, pods.get)
    server = Server(
        "127.0.0.1:0",
        lambda s: kubelet_pb2_grpc.add_KubeletServicer_to_server(servicer, s),
        [SERVICE_NAME],
        credentials=credentials,
        interceptors=[KubeletAPIAuthorizer()] if authorize else [],
    )
    await server.start()
    return server


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    h = SyncHarness(tmp_path)
    web = pod("main", container("term", tty=True, stdin=True))
    await h.sync(web)
    server = await serve(h.runtime, {"default/web": web})
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Node(h.runtime, kubelet_pb2_grpc.KubeletStub(channel), web)
    await server.stop(0)


async def output(session: ContainerSession) -> bytes:
    return b"".join([data async for _, data in session])


async def test_an_interactive_exec_with_a_terminal(node: Node) -> None:
    session = await ContainerSession.exec(
        node.stub,
        namespace="default",
        pod_name="web",
        container="main",
        command=["sh"],
        stdin=True,
        tty=True,
    )
    assert session.tty
    await session.resize(120, 40)
    await session.send_stdin(b"echo hi\n")
    await session.close_stdin()
    async with asyncio.timeout(5):
        assert await output(session) == b"echo hi\n"
    assert session.exit_code == 0
    [process] = node.runtime.processes
    assert process.resizes == [TerminalSize(120, 40)] and process.closed


async def test_ending_the_requests_ends_stdin(node: Node) -> None:
    session = await ContainerSession.exec(
        node.stub,
        namespace="default",
        pod_name="web",
        container="main",
        command=["cat"],
        stdin=True,
    )
    await session.send_stdin(b"one")
    await session._call.done_writing()
    async with asyncio.timeout(5):
        assert await output(session) == b"one"
    assert session.exit_code == 0


async def test_the_call_waits_for_the_callers_last_writes_after_the_exit_code(node: Node) -> None:
    """A caller's write racing the process's end (kubectl's end of stdin as a short command
    exits) must not fail the call: the kubelet keeps it open after the exit code until the caller
    half-closes, so the write lands, the exit code is kept and the call ends OK."""
    session = await ContainerSession.exec(
        node.stub,
        namespace="default",
        pod_name="web",
        container="main",
        command=["cat"],
        stdin=True,
    )
    await session.send_stdin(b"one")
    await session.close_stdin()
    call = session._call.call
    kinds = []
    while (message := await within(5, call.read())) is not grpc.aio.EOF:
        kinds.append(message.WhichOneof("kind"))
        if kinds[-1] == "exit":
            break
    assert kinds == ["stdout", "exit"]
    await asyncio.sleep(0.3)  # time enough for the kubelet to end a call it did not keep open
    await call.write(kubelet_pb2.InteractiveRequest(resize=kubelet_pb2.TerminalSize(width=1)))
    await call.done_writing()
    async with asyncio.timeout(5):
        assert await call.read() is grpc.aio.EOF
    assert await call.code() == grpc.StatusCode.OK


async def test_a_session_half_closes_once_it_has_the_exit_code(node: Node) -> None:
    session = await ContainerSession.exec(
        node.stub,
        namespace="default",
        pod_name="web",
        container="main",
        command=["cat"],
        stdin=True,
    )
    await session.send_stdin(b"one")
    await session.close_stdin()
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(5):
        assert await output(session) == b"one"
    assert session.exit_code == 0
    # Told at once: the kubelet does not wait out its HALF_CLOSE_WAIT (2 s).
    assert asyncio.get_running_loop().time() - started < 1.0


async def test_an_attach_takes_the_containers_own_terminal(node: Node) -> None:
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="term", stdin=True
    )
    assert session.tty
    await session.send_stdin(b"ls\n")
    await session.close_stdin()
    async with asyncio.timeout(5):
        assert await output(session) == b"ls\n"
    plain = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main"
    )
    assert not plain.tty
    await plain.close()


async def test_an_attach_to_a_container_that_ended_while_shown_running_ends_at_once(
    node: Node,
) -> None:
    """The pod's status still shows the container running (the relist has not reported its end
    yet): the attach gets the output from then on, none, and ends, rather than being refused;
    once its end is reported, it is refused, as the kubelet's GetAttach refuses it."""
    node.runtime.exit_container(node.runtime.by_name("main")[0].id, 3)
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main", stdin=True
    )
    async with asyncio.timeout(5):
        assert await output(session) == b"" and session.exit_code == 3
    shown = next(s for s in node.web.status.container_statuses if s.name == "main")
    shown.state.ClearField("running")
    shown.state.terminated.exit_code = 3
    with pytest.raises(KubeletStreamError) as refused:
        await ContainerSession.attach(
            node.stub, namespace="default", pod_name="web", container="main"
        )
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "container main not found in pod web_default" in refused.value.message


async def test_an_attach_to_an_ended_container_gives_what_the_log_read_before_it_missed(
    node: Node,
) -> None:
    """kubectl run -i reads the running container's log, then attaches: what the command wrote
    between that read and its end comes through the attach, once; what the read gave, not
    again; with no read made first, an attach gives nothing written before it."""
    main = node.runtime.by_name("main")[0].id
    node.runtime.logs[main] = b"before\n"
    request = kubelet_pb2.ContainerLogsRequest(
        namespace="default", pod_name="web", container="main"
    )
    assert b"".join([c.data async for c in node.stub.ContainerLogs(request)]) == b"before\n"
    node.runtime.logs[main] += b"after-the-read\n"
    node.runtime.exit_container(main, 0)
    for _ in range(2):  # an attach is not a read: the second gives the same
        session = await ContainerSession.attach(
            node.stub, namespace="default", pod_name="web", container="main", stdin=True
        )
        async with asyncio.timeout(5):
            assert await output(session) == b"after-the-read\n" and session.exit_code == 0
    tail = kubelet_pb2.ContainerLogsRequest(
        namespace="default", pod_name="web", container="main", tail_lines=1
    )
    assert [c.data async for c in node.stub.ContainerLogs(tail)]  # not a whole read: not counted
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main"
    )
    async with asyncio.timeout(5):
        assert await output(session) == b"after-the-read\n"
    assert b"".join([c.data async for c in node.stub.ContainerLogs(request)])
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main"
    )
    async with asyncio.timeout(5):
        assert await output(session) == b"" and session.exit_code == 0


async def test_an_attach_taken_before_the_exit_is_recorded_gives_what_the_log_read_missed(
    node: Node,
) -> None:
    """containerd's CRI takes an attach until it has recorded the exit, after the output went to
    the log: kubectl run -i read the log before the command wrote, attached after, and the
    attach ends with the process having given nothing. What the read missed comes before the
    exit, once; an attach that gave output of its own gets nothing more."""
    main = node.runtime.by_name("main")[0].id
    node.runtime.logs[main] = b""
    request = kubelet_pb2.ContainerLogsRequest(
        namespace="default", pod_name="web", container="main"
    )
    assert b"".join([c.data async for c in node.stub.ContainerLogs(request)]) == b""
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main", stdin=True
    )
    node.runtime.logs[main] += b"hi-13\n"
    node.runtime.exit_container(main, 0)
    await session.close_stdin()  # the hollow process ends: its attach gave nothing
    async with asyncio.timeout(5):
        assert await output(session) == b"hi-13\n" and session.exit_code == 0

    node.runtime.containers[main] = replace(
        node.runtime.containers[main], state=ContainerState.RUNNING
    )
    talking = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main", stdin=True
    )
    await talking.send_stdin(b"its own\n")
    node.runtime.exit_container(main, 0)
    await talking.close_stdin()
    async with asyncio.timeout(5):
        assert await output(talking) == b"its own\n"


async def test_an_attach_to_an_ended_container_whose_log_was_never_read_gives_nothing(
    node: Node,
) -> None:
    main = node.runtime.by_name("main")[0].id
    node.runtime.logs[main] = b"written before the attach\n"
    node.runtime.exit_container(main, 0)
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main"
    )
    async with asyncio.timeout(5):
        assert await output(session) == b"" and session.exit_code == 0


async def test_an_attach_that_finds_the_task_gone_before_the_exit_is_recorded_ends_at_once(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """containerd deletes an ended process's task before it records the exit: an attach in
    between fails while the container still shows running. The kubelet judges it once the exit
    is recorded, as an attach to a container that ended while shown running, not as an error."""
    main = node.runtime.by_name("main")[0].id

    async def task_gone(container_id: str, streams: object) -> None:
        asyncio.get_running_loop().call_later(0.2, node.runtime.exit_container, main, 4)
        raise ContainerRuntimeError("failed to load task: no running task found: not found")

    monkeypatch.setattr(node.runtime, "attach_interactive", task_gone)
    session = await ContainerSession.attach(
        node.stub, namespace="default", pod_name="web", container="main"
    )
    async with asyncio.timeout(5):
        assert await output(session) == b"" and session.exit_code == 4


@pytest.mark.parametrize(
    ("open_fields", "code", "message"),
    [
        (
            {"pod_name": "nope", "container": "main", "command": ["sh"]},
            grpc.StatusCode.NOT_FOUND,
            'pods "nope" not found',
        ),
        (
            {"pod_name": "web", "container": "nope", "command": ["sh"]},
            grpc.StatusCode.INVALID_ARGUMENT,
            "container nope is not valid for pod web",
        ),
        (
            {"pod_name": "web", "container": "main", "command": []},
            grpc.StatusCode.INVALID_ARGUMENT,
            "you must specify at least one command for the container",
        ),
    ],
)
async def test_an_exec_that_cannot_start(
    node: Node, open_fields: dict[str, object], code: grpc.StatusCode, message: str
) -> None:
    with pytest.raises(KubeletStreamError) as refused:
        await ContainerSession.exec(node.stub, namespace="default", **open_fields)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.message) == (code, message)


async def test_the_stream_must_open_first(node: Node) -> None:
    call = node.stub.ContainerExecInteractive()
    await call.write(kubelet_pb2.InteractiveRequest(stdin=b"x"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call.read()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_forwarded_connection_echoes_and_half_closes(node: Node) -> None:
    node.runtime.listening_ports.add(8080)
    connection = await PortForwardConnection.open(
        node.stub, namespace="default", pod_name="web", port=8080
    )
    await connection.write(b"ping")
    async with asyncio.timeout(5):
        assert await connection.read() == b"ping"
    await connection.close_write()
    async with asyncio.timeout(5):
        assert await connection.read() == b""
    sandbox = next(iter(node.runtime.sandboxes))
    assert ("dial_pod_port", f"{sandbox}:8080") in node.runtime.calls


async def test_large_writes_go_up_in_pieces(node: Node) -> None:
    node.runtime.listening_ports.add(8080)
    connection = await PortForwardConnection.open(
        node.stub, namespace="default", pod_name="web", port=8080
    )
    payload = bytes(range(256)) * 20_000  # 5 MB: more than one gRPC message may carry
    await connection.write(payload)
    await connection.close_write()
    echoed = b""
    while data := await within(5, connection.read()):
        echoed += data
    assert echoed == payload


async def test_a_port_nothing_listens_on(node: Node) -> None:
    with pytest.raises(KubeletStreamError) as refused:
        await PortForwardConnection.open(node.stub, namespace="default", pod_name="web", port=80)
    sandbox = next(iter(node.runtime.sandboxes))
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    assert refused.value.message == (
        f"error forwarding port 80 to pod {sandbox}, uid : failed to connect to localhost:80 "
        f'inside namespace "{sandbox}", IPv4: dial tcp4 127.0.0.1:80: connect: connection '
        "refused IPv6 dial tcp6 [::1]:80: connect: connection refused"
    )


async def test_a_pod_without_a_running_sandbox(node: Node) -> None:
    for sandbox in list(node.runtime.sandboxes):
        node.runtime.kill_sandbox(sandbox)
    with pytest.raises(KubeletStreamError) as refused:
        await PortForwardConnection.open(node.stub, namespace="default", pod_name="web", port=80)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.message == "failed to find sandboxID for pod web_default(uid-1)"


async def test_only_the_apiserver_may_open_streams(tmp_path: Path) -> None:
    h = SyncHarness(tmp_path)
    web = pod("main")
    await h.sync(web)
    server = await serve(h.runtime, {"default/web": web}, authorize=True)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = kubelet_pb2_grpc.KubeletStub(channel)
            with pytest.raises(KubeletStreamError) as refused:
                await ContainerSession.exec(
                    stub, namespace="default", pod_name="web", container="main", command=["sh"]
                )
            assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
            assert refused.value.message == (
                "Forbidden (user=system:anonymous, verb=create, resource=nodes, subresource=proxy)"
            )
            h.runtime.listening_ports.add(80)
            with pytest.raises(KubeletStreamError):
                await PortForwardConnection.open(stub, namespace="default", pod_name="web", port=80)
            assert h.runtime.processes == [] and not any(
                c[0] == "dial_pod_port" for c in h.runtime.calls
            )
    finally:
        await server.stop(0)


def tls_channel(pki: Path, port: int, client: str) -> grpc.aio.Channel:
    read = [(pki / name).read_bytes() for name in ("ca.crt", f"{client}.key", f"{client}.crt")]
    return grpc.aio.secure_channel(
        f"127.0.0.1:{port}",
        grpc.ssl_channel_credentials(*read),
        options=[("grpc.ssl_target_name_override", "node-1")],
    )


async def test_on_tls_the_apiservers_identity_streams_and_a_nodes_does_not(tmp_path: Path) -> None:
    folder = make_pki(tmp_path / "pki")
    h = SyncHarness(tmp_path)
    web = pod("main")
    await h.sync(web)
    key, cert, ca = (
        folder / n for n in ("node-1-kubelet-server.key", "node-1-kubelet-server.crt", "ca.crt")
    )
    credentials = grpc.ssl_server_credentials(
        [(key.read_bytes(), cert.read_bytes())],
        root_certificates=ca.read_bytes(),
        require_client_auth=True,
    )
    server = await serve(h.runtime, {"default/web": web}, authorize=True, credentials=credentials)
    try:
        async with tls_channel(folder, server.port, "apiserver-kubelet-client") as channel:
            session = await ContainerSession.exec(
                kubelet_pb2_grpc.KubeletStub(channel),
                namespace="default",
                pod_name="web",
                container="main",
                command=["cat"],
                stdin=True,
            )
            await session.send_stdin(b"allowed")
            await session.close_stdin()
            async with asyncio.timeout(5):
                assert await output(session) == b"allowed"
        async with tls_channel(folder, server.port, "node-1") as channel:
            with pytest.raises(KubeletStreamError) as refused:
                await ContainerSession.exec(
                    kubelet_pb2_grpc.KubeletStub(channel),
                    namespace="default",
                    pod_name="web",
                    container="main",
                    command=["cat"],
                )
            assert refused.value.message == (
                "Forbidden (user=system:node:node-1, verb=create, "
                "resource=nodes, subresource=proxy)"
            )
    finally:
        await server.stop(0)
