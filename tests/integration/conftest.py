"""Integration fixtures: a real etcd process and the real apiserver on a real gRPC port; for the
kubelet's tests, the test host's real Docker engine, a pod namespace whose containers are removed
afterwards, and a whole kubelet (helpers in kubelet_docker.py)."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker import DockerRuntime
from kubelet.runtime.types import ContainerRuntimeError
from podplane.client.clientset import Client
from tests.integration.kubelet_docker import DOCKER_HOST, remove_labelled, running_kubelet
from tests.integration.pod_images import ensure_pod_images
# The streaming tests' pod and kubelet stub (test_interactive_streams.py, test_kubectl_streaming.py).
from tests.integration.streams_pod import streams_pod, stub  # noqa: F401
from tests.support import EtcdProcess


@contextlib.contextmanager
def etcd_process() -> Iterator[EtcdProcess]:
    process = EtcdProcess.start()
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def running_apiserver(etcd: EtcdProcess, address: str = "127.0.0.1:0",
                            **options: Any) -> AsyncIterator[APIServer]:
    """The real apiserver on a loopback port (a free one by default), over `etcd`; `options` are
    APIServer's (watch_cache, compaction_interval)."""
    options.setdefault("rest_address", "127.0.0.1:0")  # the REST door too, on any free port
    server = APIServer([etcd.endpoint], address, **options)
    await server.start(etcd_timeout=20)
    try:
        yield server
    finally:
        await server.stop(0)


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
async def kubelet(apiserver: APIServer, client: Client, docker_runtime: DockerRuntime,
                  tmp_path: Path) -> AsyncIterator[Kubelet]:
    """A whole kubelet for a fresh node on the test host's engine (running_kubelet)."""
    async with running_kubelet(apiserver, client, docker_runtime, str(tmp_path)) as kubelet:
        yield kubelet
