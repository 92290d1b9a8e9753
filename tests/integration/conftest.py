"""Integration fixtures: a real etcd process and the real apiserver on a real gRPC port (started by
control_plane.py); for the kubelet's tests, the test host's real Docker engine, a pod namespace
whose containers are removed afterwards, and a whole kubelet (helpers in kubelet_docker.py); for
the kubelet's CRI runtime, a private containerd's CRI endpoint (helpers in cri_containerd.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.types import ContainerRuntimeError
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests import longest_first
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.cri_containerd import running_containerd
from tests.integration.kubelet_docker import (
    DOCKER_HOST,
    remove_labelled,
    remove_node_containers,
    running_kubelet,
)
from tests.integration.pod_images import ensure_pod_images
from tests.support import EtcdProcess, eventually


@pytest.fixture(scope="session")
def etcd() -> Iterator[EtcdProcess]:
    with etcd_process() as process:
        yield process


@pytest_asyncio.fixture(scope="session")
async def apiserver(etcd: EtcdProcess) -> AsyncIterator[APIServer]:
    async with running_apiserver(etcd) as server:
        yield server


@pytest_asyncio.fixture(scope="session")
async def client(apiserver: APIServer) -> AsyncIterator[Client]:
    c = Client(f"127.0.0.1:{apiserver.port}", timeout=10)
    yield c
    await c.close()


@pytest_asyncio.fixture(scope="module")
async def docker_runtime() -> AsyncIterator[DockerRuntime]:
    """The test host's Docker engine, with the pod images. No engine is a test failure, never a
    skip."""
    node = f"it-node-{uuid.uuid4().hex[:8]}"
    try:
        # Its own node label: a kubelet on the same engine leaves these containers alone.
        runtime = await DockerRuntime.connect(DOCKER_HOST, node)
        await runtime.version()
    except ContainerRuntimeError as e:
        pytest.fail(f"these tests need a Docker engine at DOCKER_HOST={DOCKER_HOST}: {e}")
    ensure_pod_images(DOCKER_HOST)
    yield runtime
    runtime.close()
    # What the module's kubelets left running (pods of namespaces no fixture removes).
    remove_node_containers(node)


@pytest.fixture(scope="session")
def cri_endpoint() -> Iterator[str]:
    """The CRI endpoint (unix://...) of the test host's private containerd
    (scripts/cri-containerd.sh), with the pod images; stopped after the session if this fixture
    started it. No containerd is a test failure, never a skip."""
    try:
        with running_containerd(DOCKER_HOST) as endpoint:
            yield endpoint
    except RuntimeError as e:
        pytest.fail(f"these tests need the private containerd: {e}")


@pytest.fixture
def pod_namespace(docker_runtime: DockerRuntime) -> Iterator[str]:
    """A namespace for the test's pods; every container of its pods is removed afterwards."""
    namespace = f"kubelet-it-{uuid.uuid4().hex[:8]}"
    yield namespace
    remove_labelled(namespace)


@pytest_asyncio.fixture
async def kubelet(
    apiserver: APIServer, client: Client, docker_runtime: DockerRuntime, tmp_path: Path
) -> AsyncIterator[Kubelet]:
    """A whole kubelet for a fresh node on the test host's engine (running_kubelet)."""
    async with running_kubelet(apiserver, client, docker_runtime, str(tmp_path)) as kubelet:
        yield kubelet


# ------------------------------------------------------------------ streaming (exec, attach,
# port-forward): a pod bound to the test's kubelet, and a stub for that kubelet's gRPC service.
WEB = (
    "mkdir -p /www && echo hello-from-pod > /www/index.html && "
    "httpd -p 127.0.0.1:8081 -h /www && exec httpd -f -p 80 -h /www"
)


@pytest_asyncio.fixture
async def streams_pod(
    kubelet: Kubelet, client: Client, pod_namespace: str, docker_runtime: DockerRuntime
) -> AsyncIterator[core_pb2.Pod]:
    """A running pod: a shell to exec into, a container that reads a line from its stdin, and a
    web server on port 80 (and on 127.0.0.1:8081), ready."""
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    busybox = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "streams", "namespace": pod_namespace},
            "spec": {
                "nodeName": kubelet.config.node_name,
                "terminationGracePeriodSeconds": 0,
                "restartPolicy": "Never",
                "containers": [
                    {"name": "shell", **busybox, "command": ["sleep", "3600"]},
                    {
                        "name": "reader",
                        **busybox,
                        "stdin": True,
                        "stdinOnce": True,
                        "command": ["sh", "-c", 'read line; echo "got $line"; exit 5'],
                    },
                    {
                        "name": "web",
                        **busybox,
                        "command": ["sh", "-c", WEB],
                        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
                    },
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    created = await client.pods.create(pod)

    async def running() -> core_pb2.Pod | None:
        p = await client.pods.get("streams", pod_namespace)
        statuses = p.status.container_statuses
        # Running, and the web server answering (its readiness probe).
        ok = (
            len(statuses) == 3
            and all(s.state.HasField("running") for s in statuses)
            and all(s.ready for s in statuses if s.name == "web")
        )
        return p if ok else None

    yield await eventually(running, timeout=60, what="pod streams running")
    await client.pods.delete("streams", pod_namespace)

    async def removed() -> bool:
        return not await docker_runtime.list_containers(created.metadata.uid)

    await eventually(removed, timeout=30, what="the pod's containers to be removed")


@pytest_asyncio.fixture
async def stub(kubelet: Kubelet) -> AsyncIterator[kubelet_pb2_grpc.KubeletStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{kubelet.grpc_port}") as channel:
        yield kubelet_pb2_grpc.KubeletStub(channel)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    longest_first.reorder(items, longest_first.INTEGRATION)
