"""A pod for the streaming tests (test_interactive_streams.py, test_kubectl_streaming.py), bound
to the test's kubelet on the real Docker engine, and a stub for that kubelet's gRPC port."""
from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest_asyncio

from kubelet.kubelet import Kubelet
from kubelet.runtime.docker import DockerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually

WEB = ("mkdir -p /www && echo hello-from-pod > /www/index.html && "
       "httpd -p 127.0.0.1:8081 -h /www && exec httpd -f -p 80 -h /www")


@pytest_asyncio.fixture
async def streams_pod(kubelet: Kubelet, client: Client, pod_namespace: str,
                      docker_runtime: DockerRuntime) -> AsyncIterator[core_pb2.Pod]:
    """A running pod: a shell to exec into, a container that reads a line from its stdin, and a
    web server on port 80 (and on 127.0.0.1:8081), ready."""
    await client.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(
        name=pod_namespace)))
    busybox = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}
    pod = manifest.from_dict({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "streams", "namespace": pod_namespace},
        "spec": {"nodeName": kubelet.config.node_name, "terminationGracePeriodSeconds": 0,
                 "restartPolicy": "Never",
                 "containers": [
                     {"name": "shell", **busybox, "command": ["sleep", "3600"]},
                     {"name": "reader", **busybox, "stdin": True, "stdinOnce": True,
                      "command": ["sh", "-c", 'read line; echo "got $line"; exit 5']},
                     {"name": "web", **busybox, "command": ["sh", "-c", WEB],
                      "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}}]}})
    assert isinstance(pod, core_pb2.Pod)
    created = await client.pods.create(pod)

    async def running() -> core_pb2.Pod | None:
        p = await client.pods.get("streams", pod_namespace)
        statuses = p.status.container_statuses
        # Running, and the web server answering (its readiness probe).
        ok = len(statuses) == 3 and all(s.state.HasField("running") for s in statuses) and all(
            s.ready for s in statuses if s.name == "web")
        return p if ok else None
    yield await eventually(running, timeout=60, what="pod streams running")
    await client.pods.delete("streams", pod_namespace)

    async def removed() -> bool:
        return not await docker_runtime.list_containers(created.metadata.uid)
    await eventually(removed, timeout=30, what="the pod's containers to be removed")


@pytest_asyncio.fixture
async def stub(kubelet: Kubelet) -> AsyncIterator[kubelet_pb2_grpc.KubeletStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{kubelet.port}") as channel:
        yield kubelet_pb2_grpc.KubeletStub(channel)
