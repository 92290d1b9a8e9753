"""`Pods.Exec` end to end on the host: the real apiserver (over real etcd) proxies it to a real
kubelet, which runs the command in the container on the real Docker engine."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually


@pytest_asyncio.fixture
async def sleeper(
    kubelet: Kubelet, client: Client, pod_namespace: str, docker_runtime: DockerRuntime
) -> AsyncIterator[core_pb2.Pod]:
    """A running pod with one long-lived container, bound to the test's kubelet."""
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "sleeper", "namespace": pod_namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    created = await client.pods.create(pod)

    async def running() -> core_pb2.Pod | None:
        p = await client.pods.get("sleeper", pod_namespace)
        statuses = p.status.container_statuses
        return p if statuses and statuses[0].state.HasField("running") else None

    ready = await eventually(running, timeout=30, what="pod sleeper running")
    assert ready is not None
    yield ready
    await client.pods.delete("sleeper", pod_namespace)

    async def removed() -> bool:
        return not await docker_runtime.list_containers(created.metadata.uid)

    await eventually(removed, timeout=30, what="the pod's containers to be removed")


async def run_exec(
    client: Client, pod: core_pb2.Pod, *command: str
) -> tuple[bytes, bytes, int | None, int]:
    """(stdout, stderr, exit code, chunks with an exit code)."""
    out, err, code, finals = b"", b"", None, 0
    async for chunk in client.pod_exec(pod.metadata.namespace, pod.metadata.name, command):
        if chunk.stream == "stderr":
            err += chunk.data
        else:
            out += chunk.data
        if chunk.HasField("exit_code"):
            code, finals = chunk.exit_code, finals + 1
    return out, err, code, finals


async def test_echo_prints_and_exits_zero(client: Client, sleeper: core_pb2.Pod) -> None:
    assert await run_exec(client, sleeper, "echo", "hi") == (b"hi\n", b"", 0, 1)


async def test_exit_code_and_stderr_come_back(client: Client, sleeper: core_pb2.Pod) -> None:
    assert await run_exec(client, sleeper, "sh", "-c", "exit 3") == (b"", b"", 3, 1)
    assert await run_exec(client, sleeper, "sh", "-c", "echo out; echo err >&2; exit 1") == (
        b"out\n",
        b"err\n",
        1,
        1,
    )


async def test_stdin_reaches_the_command(client: Client, sleeper: core_pb2.Pod) -> None:
    chunks = [
        c
        async for c in client.pod_exec(
            sleeper.metadata.namespace,
            "sleeper",
            ["sh", "-c", "cat; echo done >&2"],
            stdin=b"one\ntwo\n",
        )
    ]
    assert b"".join(c.data for c in chunks if c.stream == "stdout") == b"one\ntwo\n"
    assert b"".join(c.data for c in chunks if c.stream == "stderr") == b"done\n"
    assert chunks[-1].exit_code == 0


async def test_refusals(client: Client, sleeper: core_pb2.Pod) -> None:
    namespace = sleeper.metadata.namespace
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        async for _ in client.pod_exec(namespace, "sleeper", ["true"], container="nope"):
            pass
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert unknown.value.details() == "container nope is not valid for pod sleeper"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        async for _ in client.pod_exec(namespace, "absent", ["true"]):
            pass
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as no_command:
        async for _ in client.pod_exec(namespace, "sleeper", []):
            pass
    assert no_command.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_finished_container_is_refused(
    kubelet: Kubelet, client: Client, pod_namespace: str
) -> None:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "done", "namespace": pod_namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:latest",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["true"],
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    await client.pods.create(pod)

    async def succeeded() -> bool:
        return (await client.pods.get("done", pod_namespace)).status.phase == "Succeeded"

    await eventually(succeeded, timeout=30, what="pod done Succeeded")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in client.pod_exec(pod_namespace, "done", ["true"]):
            pass
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        "cannot exec into a container in a completed pod; current phase is Succeeded"
    )
    await client.pods.delete("done", pod_namespace)
