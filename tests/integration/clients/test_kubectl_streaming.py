"""The project's kubectl through the apiserver's REST door to the test's kubelet on the real
Docker engine: `kubectl exec` (v5.channel.k8s.io, with stdin, its end, a terminal and its
resizes), `kubectl attach` and `kubectl port-forward` (SPDY tunnelled over a WebSocket)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import signal
import struct
import termios
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import tools
from tests.kubeconfig import write_kubeconfig
from tests.support import eventually


class Kubectl:
    def __init__(self, apiserver: APIServer, home: Path, namespace: str) -> None:
        server = f"http://127.0.0.1:{apiserver.rest_port}"
        config = write_kubeconfig(home / "kubeconfig", server, namespace=namespace)
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "KUBECONFIG": str(config),
        }

    async def run(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> tuple[int, bytes, bytes]:
        proc = await asyncio.create_subprocess_exec(
            tools.kubectl(),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**self.env, **(env or {})},
        )
        async with asyncio.timeout(60):
            out, err = await proc.communicate(stdin or b"")
        assert proc.returncode is not None
        return proc.returncode, out, err


@pytest_asyncio.fixture
async def kubectl(
    apiserver: APIServer, streams_pod: core_pb2.Pod, tmp_path: Path
) -> AsyncIterator[Kubectl]:
    yield Kubectl(apiserver, tmp_path, streams_pod.metadata.namespace)


async def test_exec_prints_output_and_exits_with_the_commands_code(kubectl: Kubectl) -> None:
    code, out, err = await kubectl.run(
        "exec", "streams", "-c", "shell", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3"
    )
    assert (code, out, err) == (3, b"hi\n", b"oops\ncommand terminated with exit code 3\n")


async def test_exec_reads_stdin_to_its_end(kubectl: Kubectl) -> None:
    code, out, _ = await kubectl.run(
        "exec",
        "-i",
        "streams",
        "-c",
        "shell",
        "--",
        "sh",
        "-c",
        "cat; echo done",
        stdin=b"one\ntwo\n",
    )
    assert (code, out) == (0, b"one\ntwo\ndone\n")


async def test_attach_gets_the_output_of_the_line_it_sends(kubectl: Kubectl) -> None:
    code, out, _ = await kubectl.run("attach", "-i", "streams", "-c", "reader", stdin=b"x\n")
    assert (code, out) == (0, b"got x\n")


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


async def test_exec_in_a_terminal_follows_its_size(kubectl: Kubectl) -> None:
    """kubectl exec -it under a pseudo-terminal: the shell sees the terminal's size at the
    start and after a resize (SIGWINCH), and kubectl exits with the shell's code."""
    master, slave = pty.openpty()
    set_size(slave, 45, 123)
    proc = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        "exec",
        "-it",
        "streams",
        "-c",
        "shell",
        "--",
        "sh",
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=kubectl.env,
        start_new_session=True,
    )
    os.close(slave)
    os.set_blocking(master, False)
    seen = bytearray()
    loop = asyncio.get_running_loop()

    async def until(pattern: bytes, timeout: float = 30) -> None:
        deadline = loop.time() + timeout
        while not re.search(pattern, bytes(seen)):
            assert loop.time() < deadline, f"no {pattern!r} in {bytes(seen)!r}"
            with contextlib.suppress(BlockingIOError):
                seen.extend(os.read(master, 65536))
            await asyncio.sleep(0.05)

    async def size_shown(size: bytes) -> None:
        """`stty size` typed until the shell prints `size` (ten tries, 2 s each)."""
        for _ in range(10):
            os.write(master, b"stty size\r")
            try:
                await until(size, timeout=2)
                return
            except AssertionError:
                continue
        await until(size)

    try:
        # The exec's terminal takes kubectl's size once its session is up: a command typed
        # before that may see none (`stty: standard input`); asked again, the shell sees it.
        await until(rb"# ")
        await size_shown(rb"45 123")
        set_size(master, 50, 130)
        proc.send_signal(signal.SIGWINCH)
        # kubectl passes the new size on: a command typed before it has arrived sees the old
        # one; asked again, the shell sees the new one.
        await size_shown(rb"50 130")
        os.write(master, b"exit 3\r")
        async with asyncio.timeout(30):
            assert await proc.wait() == 3
    finally:
        if proc.returncode is None:
            proc.kill()
        os.close(master)


async def port_forward(kubectl: Kubectl, remote: int) -> tuple[asyncio.subprocess.Process, int]:
    """kubectl port-forward to a random local port; (the process, that port)."""
    proc = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        "port-forward",
        "pod/streams",
        f"0:{remote}",
        "--address",
        "127.0.0.1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=kubectl.env,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        line = await proc.stdout.readline()
    match = re.match(rb"Forwarding from 127\.0\.0\.1:(\d+) -> " + str(remote).encode(), line)
    assert match, line
    return proc, int(match.group(1))


def http_get(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
        return bytes(answer.read())


async def test_port_forward_to_the_pods_web_server(kubectl: Kubectl) -> None:
    proc, port = await port_forward(kubectl, 80)
    try:
        for _ in range(3):  # one forwarded connection each, on one session
            assert await asyncio.to_thread(http_get, port) == b"hello-from-pod\n"
    finally:
        proc.terminate()
        await proc.wait()


async def test_port_forward_to_a_port_nothing_listens_on(kubectl: Kubectl) -> None:
    proc, port = await port_forward(kubectl, 81)
    try:
        with pytest.raises(OSError):
            await asyncio.to_thread(http_get, port)
        # kubectl prints the kubelet's error and gives up the session.
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            err = await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    assert re.search(
        rb"an error occurred forwarding \d+ -> 81: error forwarding port 81 to "
        rb"pod \w+, uid : failed to connect to localhost:81 inside namespace",
        err,
    )


# ------------------------------------------------------------------ attach as `kubectl run -i`
# uses it: a short command may be over before the attach arrives (refused: kubectl prints the log)
# or may have written part of its output before the attach (kubectl printed the log first).


async def attach_pod(
    client: Client, kubelet: Kubelet, namespace: str, name: str, script: str
) -> core_pb2.Pod:
    """A pod whose container `main` is made to be attached to (stdin open, as `kubectl run -i`
    makes it) and runs `script`, bound to the test's kubelet; a second container keeps the pod
    running (kubectl attaches to no container of a pod that has completed)."""
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "terminationGracePeriodSeconds": 0,
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "stdin": True,
                        "stdinOnce": True,
                        "command": ["sh", "-c", script],
                    },
                    {
                        "name": "sleeper",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                    },
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return await client.pods.create(pod)


async def container_state(client: Client, namespace: str, name: str, state: str) -> bool:
    """Whether the pod's container `main` is in `state` (running, terminated)."""
    pod = await client.pods.get(name, namespace)
    return any(s.name == "main" and s.state.HasField(state) for s in pod.status.container_statuses)


async def test_attach_to_a_container_that_has_ended_is_refused_as_the_kubelet_refuses_it(
    kubectl: Kubectl, client: Client, kubelet: Kubelet, streams_pod: core_pb2.Pod
) -> None:
    """The kubelet attaches to a running container only (GetAttach finds running containers):
    an ended one is not found, and its output is in its log."""
    namespace = streams_pod.metadata.namespace
    await attach_pod(client, kubelet, namespace, "ended", "echo out-1; echo err-1 >&2; exit 4")
    await eventually(
        lambda: container_state(client, namespace, "ended", "terminated"),
        timeout=60,
        what="the container to end",
    )
    code, out, err = await kubectl.run("attach", "-i", "ended", "-c", "main", stdin=b"ignored\n")
    assert code == 1 and out == b"", err
    refused = f"unable to upgrade connection: container main not found in pod ended_{namespace}"
    assert refused.encode() in err, err
    code, out, err = await kubectl.run("logs", "ended", "-c", "main")
    # Both streams, in the order the engine timestamped lines from two pipes.
    assert (code, sorted(out.splitlines())) == (0, [b"err-1", b"out-1"]), err


async def test_attach_gets_what_the_container_writes_from_the_attach_on(
    kubectl: Kubectl, client: Client, kubelet: Kubelet, streams_pod: core_pb2.Pod
) -> None:
    """As a CRI runtime's attach: the process's output from the attach on (what it wrote
    before is in its log, which kubectl run -i prints before attaching), and its stdin."""
    namespace = streams_pod.metadata.namespace
    await attach_pod(client, kubelet, namespace, "early", 'echo early; read l; echo "got $l"')
    await eventually(
        lambda: container_state(client, namespace, "early", "running"),
        timeout=60,
        what="the container to run",
    )
    code, out, err = await kubectl.run("attach", "-i", "early", "-c", "main", stdin=b"x\n")
    assert (code, out) == (0, b"got x\n"), err


# ------------------------------------------------------------------ kubectl run -i and debug -i
# on the Docker runtime, as the e2e tests run them on containerd (tests/e2e/test_kubectl_run.py,
# tests/e2e/test_kubectl_attach.py).


async def test_run_i_prints_a_short_commands_output_once(
    kubectl: Kubectl, kubelet: Kubelet
) -> None:
    """kubectl 1.36 prints the log before it attaches, and all of it again when the attach is
    refused (kubernetes/kubectl#1848; before, every run did): the pod of a command that has
    ended by the PLEG's relist goes from ContainerCreating to Succeeded without Running, and
    kubectl reads its log once; one that a relist found running just before it ended is
    attached to with no output (kubelet/server/attach.py, EndedProcess). Only a pod whose end is
    stored between kubectl's log and its attach is refused: once in the runs at most."""
    on_node = json.dumps({"apiVersion": "v1", "spec": {"nodeName": kubelet.config.node_name}})
    doubled = []
    for i in range(10):
        code, out, err = await kubectl.run(
            "run", f"once-{i}", "-i", "--rm", "--restart=Never", "--image=busybox:latest",
            "--image-pull-policy=IfNotPresent", f"--overrides={on_node}", "--", "echo", f"hi-{i}",
        )  # fmt: skip
        assert code == 0, err
        printed = out.splitlines().count(f"hi-{i}".encode())
        if printed == 2 and b"falling back to streaming logs" in err:
            doubled.append((out, err))
        else:
            assert printed == 1, (out, err)
    assert len(doubled) <= 1, doubled


async def ephemeral_state(client: Client, namespace: str, name: str, state: str) -> bool:
    pod = await client.pods.get("streams", namespace)
    return any(
        s.name == name and s.state.HasField(state) for s in pod.status.ephemeral_container_statuses
    )


async def test_debug_i_with_piped_commands_ends_its_shell(
    kubectl: Kubectl, client: Client, streams_pod: core_pb2.Pod
) -> None:
    """kubectl debug -i's container has stdin without stdinOnce; the kubelet runs it stdinOnce
    (kubelet/pod/start_container.py), so the end of kubectl's stdin ends the shell, and kubectl
    exits by itself with the output once."""
    code, out, err = await kubectl.run(
        "debug", "streams", "-i", "--image=busybox:latest", "--image-pull-policy=IfNotPresent",
        "-c", "piped", "--", "sh", stdin=b"echo hi; echo oops >&2\n",
    )  # fmt: skip
    assert (code, out) == (0, b"hi\n"), err
    assert err.splitlines().count(b"oops") == 1, err
    namespace = streams_pod.metadata.namespace
    await eventually(
        lambda: ephemeral_state(client, namespace, "piped", "terminated"),
        timeout=30,
        what="the debug container to end",
    )
