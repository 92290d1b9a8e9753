"""The kubelet's CRI runtime (kubelet/runtime/cri) against a real containerd's CRI plugin (the
test host's private one, scripts/cri-containerd.sh): what the runtime interface promises, and the
kubelet's pod logic on top of it as on Docker: containers share the sandbox's network, hostname
and emptyDir; exit codes become terminated states and phases; a crashed container is restarted
as a new container with its last state; logs are the CRI's files under the pod's log directory."""

from __future__ import annotations

import asyncio
import glob
import gzip
import ipaddress
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from kubelet.logs.rotation import ContainerLogManager, LogPolicy
from kubelet.runtime import labels as L
from kubelet.runtime.cri.runtime import CriRuntime
from kubelet.runtime.cri.streaming import CriProcess
from kubelet.runtime.streams import PortForwardError, StreamOptions, TerminalSize
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ExecTimeout,
    LogOptions,
    PodRef,
    SandboxConfig,
)
from podplane.api.core.v1 import core_pb2
from tests.integration.cri_containerd import SUBNET
from tests.integration.kubelet_docker import make_pod
from tests.integration.syncer_node import Node
from tests.support import eventually, within

PAUSE = "podplane/pause:3.9"
BUSYBOX = "busybox:latest"


async def remove_node_sandboxes(runtime: CriRuntime) -> None:
    """Every sandbox the runtime's node made goes, with its containers (RemovePodSandbox)."""
    for sandbox in await runtime.list_pod_sandboxes():
        await runtime.stop_pod_sandbox(sandbox.id, 0)
        await runtime.remove_pod_sandbox(sandbox.id)


@pytest_asyncio.fixture(scope="module")
async def cri_runtime(
    cri_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CriRuntime]:
    """A CRI runtime of its own node on the private containerd; its pods' logs in a tmp folder."""
    logs = tmp_path_factory.mktemp("pod-logs")
    runtime = await CriRuntime.connect(cri_endpoint, f"it-cri-{uuid.uuid4().hex[:8]}", str(logs))
    yield runtime
    await remove_node_sandboxes(runtime)
    await runtime._channel.close()


def pod_ref() -> PodRef:
    return PodRef(uid=str(uuid.uuid4()), name=f"p-{uuid.uuid4().hex[:6]}", namespace="it-cri")


async def wait_state(
    runtime: CriRuntime, pod: PodRef, name: str, state: ContainerState, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        latest = [c for c in await runtime.list_containers(pod.uid) if c.name == name]
        if latest and latest[0].state == state:
            return
        assert time.monotonic() < deadline, f"{name} never {state}: {latest}"
        await asyncio.sleep(0.2)


async def test_the_runtime_names_itself_and_its_handlers(cri_runtime: CriRuntime) -> None:
    assert (await cri_runtime.version()).startswith("containerd://1.7")
    handlers = [h.name for h in await cri_runtime.runtime_handlers()]
    assert handlers[0] == "" and {"runc", "crun"} <= set(handlers)
    assert await cri_runtime.inspect_image(BUSYBOX) is not None
    assert await cri_runtime.inspect_image("nothing/here:1") is None


async def test_a_sandbox_and_its_containers_through_the_cri(cri_runtime: CriRuntime) -> None:
    pod = pod_ref()
    sandbox = await cri_runtime.run_pod_sandbox(
        SandboxConfig(pod=pod, attempt=0, hostname=pod.name, image=PAUSE)
    )
    [status] = await cri_runtime.list_pod_sandboxes(pod.uid)
    assert (status.id, status.pod, status.ready) == (sandbox, pod, True)
    # On the CNI bridge's subnet (this test process's containerd's).
    assert ipaddress.ip_address(status.ip) in ipaddress.ip_network(SUBNET)

    config = ContainerConfig(
        pod=pod,
        name="main",
        image=BUSYBOX,
        restart_count=0,
        entrypoint=("sh", "-c"),
        cmd=("echo out; echo err >&2; echo host=$(hostname); sleep 30",),
        env=(("GREETING", "hi"),),
        termination_grace_seconds=1,
    )
    container = await cri_runtime.create_container(sandbox, config)
    await cri_runtime.start_container(container)
    await wait_state(cri_runtime, pod, "main", ContainerState.RUNNING)
    code, output = await cri_runtime.exec_in_container(container, ["sh", "-c", "echo $GREETING"], 5)
    assert (code, output) == (0, "hi\n")
    code, _ = await cri_runtime.exec_in_container(container, ["sh", "-c", "exit 7"], 5)
    assert code == 7
    with pytest.raises(ExecTimeout):
        await cri_runtime.exec_in_container(container, ["sleep", "10"], 1)

    logs = b""
    deadline = time.monotonic() + 10
    while len(logs.splitlines()) < 3 and time.monotonic() < deadline:
        logs = b"".join([c async for c in cri_runtime.container_logs(container, LogOptions())])
        await asyncio.sleep(0.1)
    # stdout and stderr are two pipes, copied by the runtime as they come: their lines' order
    # between the two streams is not the order they were written in (on Kubernetes neither).
    assert sorted(logs.splitlines()) == sorted([b"out", b"err", f"host={pod.name}".encode()])
    log_file = next(Path(cri_runtime._pod_logs_root).glob(f"*_{pod.uid}/main/0.log")).read_text()
    assert " stderr F err\n" in log_file and " stdout F out\n" in log_file
    tail = [c async for c in cri_runtime.container_logs(container, LogOptions(tail_lines=1))]
    assert b"".join(tail) == logs.splitlines(keepends=True)[-1]

    await cri_runtime.stop_container(container, 1)
    [stopped] = await cri_runtime.list_containers(pod.uid)
    assert stopped.state == ContainerState.EXITED and stopped.exit_code == 137
    assert stopped.container_uri == f"containerd://{container}"
    assert stopped.finished_at >= stopped.started_at > ""
    await cri_runtime.stop_pod_sandbox(sandbox, 1)
    [sandbox_status] = await cri_runtime.list_pod_sandboxes(pod.uid)
    assert not sandbox_status.ready
    await cri_runtime.remove_pod_sandbox(sandbox)
    assert await cri_runtime.list_containers(pod.uid) == []
    assert await cri_runtime.list_pod_sandboxes(pod.uid) == []


async def test_a_missing_handler_fails_the_sandbox_in_containerds_words(
    cri_runtime: CriRuntime,
) -> None:
    pod = pod_ref()
    config = SandboxConfig(pod=pod, attempt=0, hostname="h", image=PAUSE, runtime_handler="kata")
    with pytest.raises(Exception, match='no runtime for "kata" is configured'):
        await cri_runtime.run_pod_sandbox(config)


async def test_a_failed_pull_keeps_the_runtimes_grpc_status_as_the_kubelet_shows_it(
    cri_runtime: CriRuntime,
) -> None:
    # Kubernetes' event: Failed to pull image "...": rpc error: code = ... desc = failed to pull
    # and unpack image ... (a registry on a closed port of this host: refused at once).
    image = "127.0.0.1:1/nothing:1"
    with pytest.raises(ContainerRuntimeError) as failed:
        await cri_runtime.pull_image(image)
    assert str(failed.value).startswith(
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
    ), failed.value
    assert "connection refused" in str(failed.value)


async def test_a_restarted_kubelet_creates_containers_in_a_sandbox_it_did_not_start(
    cri_runtime: CriRuntime, cri_endpoint: str, tmp_path: Path
) -> None:
    """The CRI asks for the sandbox's config with each container; a new runtime object (a
    restarted kubelet) makes it again from what containerd reports."""
    pod = pod_ref()
    sandbox = await cri_runtime.run_pod_sandbox(
        SandboxConfig(pod=pod, attempt=0, hostname="h", image=PAUSE)
    )
    node = cri_runtime._node_labels[L.NODE_NAME]
    again = await CriRuntime.connect(cri_endpoint, node, cri_runtime._pod_logs_root)
    try:
        config = ContainerConfig(
            pod=pod, name="c", image=BUSYBOX, restart_count=0, cmd=("echo", "adopted")
        )
        container = await again.create_container(sandbox, config)
        await again.start_container(container)
        await wait_state(again, pod, "c", ContainerState.EXITED)
        logs = b"".join([c async for c in again.container_logs(container, LogOptions())])
        assert logs == b"adopted\n"
    finally:
        await again._channel.close()
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


# ---------------------------------------------------------------- the kubelet's pod logic on CRI


def state(pod: core_pb2.Pod, container: str) -> core_pb2.ContainerState:
    for s in pod.status.container_statuses:
        if s.name == container:
            return s.state
    raise AssertionError(f"no status for {container}")


async def test_pods_share_localhost_hostname_and_volumes_on_cri(
    cri_runtime: CriRuntime, tmp_path: Path
) -> None:
    node = Node(cri_runtime, tmp_path)
    busybox = {"image": BUSYBOX, "imagePullPolicy": "IfNotPresent"}
    pod = make_pod(
        "it-cri",
        "shared",
        {
            "volumes": [{"name": "www", "emptyDir": {}}],
            "containers": [
                {
                    "name": "server",
                    **busybox,
                    "volumeMounts": [{"name": "www", "mountPath": "/www"}],
                    "command": [
                        "sh",
                        "-c",
                        "hostname > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www",
                    ],
                },
                {
                    "name": "client",
                    **busybox,
                    "volumeMounts": [{"name": "www", "mountPath": "/www", "readOnly": True}],
                    "command": [
                        "sh",
                        "-c",
                        "until wget -qO /tmp/got http://localhost:8080/index.html 2>/dev/null;"
                        " do sleep 0.2; done; echo via-http: $(cat /tmp/got);"
                        " touch /www/x 2>/dev/null && echo writable || echo read-only; sleep 3600",
                    ],
                },
            ],
        },
    )
    await node.sync_until(
        pod,
        lambda p: p.status.phase == "Running" and all(s.ready for s in p.status.container_statuses),
        "both containers running",
    )
    [sandbox] = await cri_runtime.list_pod_sandboxes(pod.metadata.uid)
    assert pod.status.pod_ip == sandbox.ip != ""
    for status in pod.status.container_statuses:
        assert status.container_id.startswith("containerd://")
        assert status.image_id.startswith("sha256:") or "@sha256:" in status.image_id
    deadline = time.monotonic() + 20
    while "read-only" not in (output := await node.logs(pod, "client")):
        assert time.monotonic() < deadline, output
        await asyncio.sleep(0.3)
    assert output == "via-http: shared\nread-only\n"
    log_dir = Path(cri_runtime._pod_logs_root) / f"it-cri_shared_{pod.metadata.uid}"
    assert (log_dir / "client" / "0.log").is_file()

    await node.syncer.sync("it-cri/shared", None)  # the pod is deleted
    assert await cri_runtime.list_containers(pod.metadata.uid) == []
    assert await cri_runtime.list_pod_sandboxes(pod.metadata.uid) == []


async def test_exit_codes_and_restarts_on_cri(cri_runtime: CriRuntime, tmp_path: Path) -> None:
    node = Node(cri_runtime, tmp_path)
    failed = make_pod(
        "it-cri",
        "exit-1",
        {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": BUSYBOX,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "echo bye; exit 1"],
                }
            ],
        },
    )
    await node.sync_until(failed, lambda p: p.status.phase == "Failed", "exit-1 to fail")
    terminated = state(failed, "main").terminated
    assert (terminated.exit_code, terminated.reason) == (1, "Error")
    assert terminated.started_at and terminated.finished_at
    assert await node.logs(failed, "main") == "bye\n"

    crash = make_pod(
        "it-cri",
        "crash",
        {
            "containers": [
                {
                    "name": "main",
                    "image": BUSYBOX,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "sleep 1; exit 3"],
                }
            ]
        },
    )

    def restarted(p: core_pb2.Pod) -> bool:
        s = p.status.container_statuses
        return bool(s) and s[0].restart_count >= 1 and s[0].last_state.HasField("terminated")

    await node.sync_until(crash, restarted, "a restart")
    assert crash.status.container_statuses[0].last_state.terminated.exit_code == 3
    instances = await cri_runtime.list_containers(crash.metadata.uid)
    assert {c.restart_count for c in instances} == {0, 1}  # a new container per restart
    assert len({c.id for c in instances}) == 2
    for pod in (failed, crash):
        await node.syncer.sync(f"it-cri/{pod.metadata.name}", None)


# ---------------------------------------------------------------- streaming: exec, attach, ports


async def output_of(process: CriProcess) -> tuple[bytes, bytes, int | None]:
    out, err, code = b"", b"", None
    async for item in process.output():
        if item.exit_code is not None:
            code = item.exit_code
        elif item.stream == "stderr":
            err += item.data
        else:
            out += item.data
    return out, err, code


async def running_pod(
    runtime: CriRuntime, command: str, *, stdin: bool = False, stdin_once: bool | None = None
) -> tuple[str, str]:
    """(sandbox id, container id) of a pod whose one container runs `command`."""
    pod = pod_ref()
    sandbox = await runtime.run_pod_sandbox(
        SandboxConfig(pod=pod, attempt=0, hostname=pod.name, image=PAUSE)
    )
    config = ContainerConfig(
        pod=pod,
        name="main",
        image=BUSYBOX,
        restart_count=0,
        entrypoint=("sh", "-c"),
        cmd=(command,),
        stdin=stdin,
        stdin_once=stdin if stdin_once is None else stdin_once,
        termination_grace_seconds=1,
    )
    container = await runtime.create_container(sandbox, config)
    await runtime.start_container(container)
    await wait_state(runtime, pod, "main", ContainerState.RUNNING)
    return sandbox, container


async def test_exec_streams_stdin_output_and_the_exit_code(cri_runtime: CriRuntime) -> None:
    sandbox, container = await running_pod(cri_runtime, "sleep 300")
    try:
        streams = StreamOptions(stdin=True, stdout=True, stderr=True)
        process = await cri_runtime.exec_interactive(
            container, ["sh", "-c", "cat; echo done >&2; exit 3"], streams
        )
        await process.write_stdin(b"piped ")
        await process.write_stdin(b"in\n")
        await process.close_stdin()  # cat reads end-of-file
        async with asyncio.timeout(20):
            assert await output_of(process) == (b"piped in\n", b"done\n", 3)
        await process.close()

        tty = await cri_runtime.exec_interactive(
            container, ["sh", "-c", "sleep 1; stty size"], StreamOptions(stdin=True, tty=True)
        )
        await tty.resize(TerminalSize(width=91, height=17))
        async with asyncio.timeout(20):
            out, err, code = await output_of(tty)
        assert code == 0 and err == b""
        assert out == b"17 91\r\n"  # the terminal, resized before the command asks
        await tty.close()

        with pytest.raises(ContainerRuntimeError, match="no-such-binary"):
            missing = await cri_runtime.exec_interactive(
                container, ["no-such-binary"], StreamOptions()
            )
            async with asyncio.timeout(20):
                await output_of(missing)
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


async def test_attach_reaches_the_containers_own_process(cri_runtime: CriRuntime) -> None:
    sandbox, container = await running_pod(
        cri_runtime, "read line; echo got $line; exit 4", stdin=True
    )
    try:
        process = await cri_runtime.attach_interactive(
            container, StreamOptions(stdin=True, stdout=True, stderr=True)
        )
        await process.write_stdin(b"hello\n")
        async with asyncio.timeout(20):
            out, _, code = await output_of(process)
        assert (out, code) == (b"got hello\n", 4)
        await process.close()
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


@pytest.mark.parametrize("stdin_once", [False, True])
async def test_attach_with_stdin_gets_both_streams_whole(
    cri_runtime: CriRuntime, stdin_once: bool
) -> None:
    """containerd stops an attach's stdin copy when its stdout or stderr ends, and for a container
    that is not stdinOnce that detaches the other stream: the one still draining at the exit would
    lose its tail. Here stdout still has tens of KiB to copy, a line at a time into the log file,
    when the process exits and stderr ends. A stdinOnce container's (kubectl run -i, debug -i)
    stderr comes in the same attach as the stdin that makes the process write it.

    43 KB: what a FIFO holds. containerd's shim waits at most 2 s for its copies into the FIFOs
    once the process has exited (runc shim's Init.delete), so more than that, drained a line at a
    time on a busy host, loses its tail in containerd itself (168 KB did once in CI, 116 KiB
    arriving)."""
    sandbox, container = await running_pod(
        cri_runtime,
        "read w; echo err $w >&2; seq 9000",
        stdin=True,
        stdin_once=stdin_once,
    )
    try:
        process = await cri_runtime.attach_interactive(
            container, StreamOptions(stdin=True, stdout=True, stderr=True)
        )
        await process.write_stdin(b"w\n")
        await process.close_stdin()
        async with asyncio.timeout(30):
            out, err, code = await output_of(process)
        await process.close()
        expected = "".join(f"{n}\n" for n in range(1, 9001)).encode()
        assert (len(out), out[-12:], err, code) == (len(expected), expected[-12:], b"err w\n", 0)
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


async def test_port_forward_dials_localhost_in_the_pod(cri_runtime: CriRuntime) -> None:
    sandbox, container = await running_pod(
        cri_runtime, "echo hi > /tmp/i; exec httpd -f -p 127.0.0.1:8080 -h /tmp"
    )
    try:
        # The container runs before httpd listens: 127.0.0.1:8080 (0100007F:1F90) in LISTEN (0A).
        listening = ["grep", "-q", "0100007F:1F90 00000000:0000 0A", "/proc/net/tcp"]

        async def httpd_listens() -> bool:
            code, _ = await cri_runtime.exec_in_container(container, listening, 10)
            return code == 0

        await eventually(httpd_listens, 30, what="httpd listening on 127.0.0.1:8080")
        connection = await cri_runtime.dial_pod_port(sandbox, 8080)
        await connection.write(b"GET /i HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := await within(10, connection.read()):
            answer += chunk
        await connection.close()
        assert answer.startswith(b"HTTP/1.") and answer.endswith(b"\r\n\r\nhi\n")
        with pytest.raises(PortForwardError, match="connection refused"):
            await cri_runtime.dial_pod_port(sandbox, 9)
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


async def test_exec_and_attach_streams_as_podctl_uses_them(cri_runtime: CriRuntime) -> None:
    """The kubelet's ContainerExec and ContainerAttach (no terminal): stdin given whole, then the
    output as it comes and the exit code."""
    # Not stdinOnce (as kubectl debug -i makes its container): the output goes on after the
    # caller's stdin has ended.
    sandbox, container = await running_pod(
        cri_runtime,
        "read line; echo attached $line; sleep 0.5; echo still here; exit 5",
        stdin=True,
        stdin_once=False,
    )
    try:
        items = [
            i async for i in cri_runtime.exec_stream(container, ["sh", "-c", "cat; exit 2"], b"x\n")
        ]
        assert b"".join(i.data for i in items) == b"x\n" and items[-1].exit_code == 2
        attached = [i async for i in cri_runtime.attach_stream(container, b"in\n")]
        assert b"".join(i.data for i in attached) == b"attached in\nstill here\n"
        assert attached[-1].exit_code == 5  # the process's, read once it has ended
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


async def test_a_full_log_is_rotated_and_the_container_writes_on_in_a_new_file(
    cri_runtime: CriRuntime,
) -> None:
    """kubelet/logs/rotation.py with containerd's ReopenContainerLog: the full log is renamed
    with its time, the container's next lines land in a new file under the old name, and a
    followed log reads on across the rotation; the next rotation gzips the older one."""
    sandbox, container = await running_pod(
        cri_runtime, "seq 20000; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done"
    )
    try:
        [(_, path)] = [
            (cid, p) for cid, p in await cri_runtime.running_container_logs() if cid == container
        ]
        deadline = time.monotonic() + 20
        while b" tick " not in Path(path).read_bytes():  # seq is done
            assert time.monotonic() < deadline, "seq 20000 never reached the log"
            await asyncio.sleep(0.1)
        followed: list[bytes] = []

        async def follow() -> None:
            async for chunk in cri_runtime.container_logs(container, LogOptions(follow=True)):
                followed.append(chunk)

        reader = asyncio.create_task(follow())
        # The follower has the old file open before the rotation renames it (one that opens
        # the path between the rename and the runtime's reopen finds no file, as Kubernetes'
        # reader does then).
        deadline = time.monotonic() + 10
        while not followed:
            assert not reader.done() and time.monotonic() < deadline, "the follower read nothing"
            await asyncio.sleep(0.05)
        rotation = ContainerLogManager(cri_runtime, LogPolicy(max_size=64 * 1024, max_files=3))
        await rotation.rotate_logs()
        rotated = glob.glob(glob.escape(path) + ".*")
        assert len(rotated) == 1 and b" F 20000\n" in gzip_or_plain(rotated[0]), rotated

        async def new_file_written() -> str | None:
            text = Path(path).read_text()
            return text if " stdout F tick " in text else None

        async def follower_on_the_current_file() -> bool:
            # The first tick the container wrote into the current file, read by the follower.
            ticks = re.findall(r" stdout F (tick \d+)$", Path(path).read_text(), re.M)
            return bool(ticks) and f"{ticks[0]}\n".encode() in b"".join(followed)

        new_file = await eventually(new_file_written, 20, what="a tick in the reopened log")
        assert " F 20000\n" not in new_file
        # The follower on the reopened file before it rotates too: a reader still on the first
        # file would reopen the path after the second rotation and skip the file between, as
        # Kubernetes' follower would.
        await eventually(follower_on_the_current_file, 20, what="the follower on the new file")
        current = b"".join([c async for c in cri_runtime.container_logs(container, LogOptions())])
        assert current.startswith(b"tick ") and b"20000" not in current

        # A second rotation (the new file made full by hand): the first rotated one is gzipped.
        with open(path, "a") as f:
            f.write("2024-05-01T10:00:00.000000000Z stdout F padding\n" * 2000)
        rotation.now = lambda: time.time() + 1  # another second, another name
        await rotation.rotate_logs()
        names = sorted(os.path.basename(p) for p in glob.glob(glob.escape(path) + ".*"))
        assert len(names) == 2 and names[0].endswith(".gz") and not names[1].endswith(".gz")

        await eventually(follower_on_the_current_file, 20, what="the follower on the third file")
        reader.cancel()
        seen = b"".join(followed)
        ticks = [int(line.split()[1]) for line in seen.splitlines() if line.startswith(b"tick ")]
        # Every tick once and in order, across both rotations.
        assert b"20000\n" in seen and ticks == list(range(ticks[0], ticks[0] + len(ticks)))
    finally:
        await cri_runtime.stop_pod_sandbox(sandbox, 0)
        await cri_runtime.remove_pod_sandbox(sandbox)


def gzip_or_plain(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith(".gz") else data


async def test_the_runtime_reports_each_change_of_a_pod_as_it_happens(
    cri_runtime: CriRuntime,
) -> None:
    """GetContainerEvents, which the kubelet follows with the EventedPLEG gate: the sandbox's and
    its container's creation, start, exit and removal, each as it happens (the stream may
    first bring events of earlier tests, which no one read)."""
    seen: list[str] = []
    arrived = asyncio.Event()

    async def follow() -> None:
        async for container_id in cri_runtime.container_events():
            seen.append(container_id)
            arrived.set()

    async def until_seen(container_id: str, times: int) -> None:
        async with asyncio.timeout(20):
            while seen.count(container_id) < times:
                arrived.clear()
                await arrived.wait()

    follower = asyncio.create_task(follow())
    pod = pod_ref()
    sandbox = await cri_runtime.run_pod_sandbox(
        SandboxConfig(pod=pod, attempt=0, hostname=pod.name, image=PAUSE)
    )
    await until_seen(sandbox, 2)  # created, started
    container = await cri_runtime.create_container(
        sandbox,
        ContainerConfig(
            pod=pod, name="main", image=BUSYBOX, restart_count=0, cmd=("sh", "-c", "exit 3")
        ),
    )
    await until_seen(container, 1)  # created
    await cri_runtime.start_container(container)
    await until_seen(container, 3)  # started, stopped (it exits at once)
    [exited] = await cri_runtime.list_containers(pod.uid)
    assert (exited.state, exited.exit_code) == (ContainerState.EXITED, 3)
    await cri_runtime.remove_container(container)
    await until_seen(container, 4)  # removed
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    await cri_runtime.stop_pod_sandbox(sandbox, 0)
    await cri_runtime.remove_pod_sandbox(sandbox)
