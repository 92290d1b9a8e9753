"""Integration fixtures: a real etcd process and the real apiserver on a real gRPC port (started by
control_plane.py); for the kubelet's tests, the test host's real Docker engine, a pod namespace
whose containers are removed afterwards, and a whole kubelet (helpers in kubelet_docker.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker import DockerRuntime
from kubelet.runtime.types import ContainerRuntimeError
from podplane.client.clientset import Client
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.kubelet_docker import DOCKER_HOST, remove_labelled, running_kubelet
from tests.integration.pod_images import ensure_pod_images
from tests.support import EtcdProcess


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
    try:
        # Its own node label: a kubelet on the same engine leaves these containers alone.
        runtime = await DockerRuntime.connect(DOCKER_HOST, f"it-node-{uuid.uuid4().hex[:8]}")
        await runtime.version()
    except ContainerRuntimeError as e:
        pytest.fail(f"these tests need a Docker engine at DOCKER_HOST={DOCKER_HOST}: {e}")
    ensure_pod_images(DOCKER_HOST)
    yield runtime
    runtime.close()


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
