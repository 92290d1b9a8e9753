"""Fixtures for the kubelet's integration tests on the real Docker engine of the test host
(DOCKER_HOST, default unix:///var/run/docker.sock). No engine is a test failure, never a skip.
Every container the tests create carries the test's pod namespace as a label and is removed by
it."""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime import labels
from kubelet.runtime.docker import DockerRuntime
from kubelet.runtime.docker_sdk import sdk
from kubelet.runtime.types import ContainerRuntimeError
from podplane.client.clientset import Client
from tests.integration.pod_images import ensure_pod_images

DOCKER_HOST = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


@pytest_asyncio.fixture(scope="module")
async def docker_runtime() -> AsyncIterator[DockerRuntime]:
    try:
        # Its own node label: a kubelet on the same engine leaves these containers alone.
        runtime = await DockerRuntime.connect(DOCKER_HOST, f"it-node-{uuid.uuid4().hex[:8]}")
        await runtime.version()
    except ContainerRuntimeError as e:
        pytest.fail(f"these tests need a Docker engine at DOCKER_HOST={DOCKER_HOST}: {e}")
    ensure_pod_images(DOCKER_HOST)
    yield runtime
    runtime.close()


def remove_labelled(namespace: str) -> list[str]:
    """Force-removes every container of pods in the namespace; returns their names."""
    api = sdk.APIClient(base_url=DOCKER_HOST, version="auto")
    try:
        found = api.containers(all=True, filters={
            "label": [f"{labels.POD_NAMESPACE}={namespace}"]})
        for c in found:
            api.remove_container(c["Id"], force=True, v=True)
        return [c["Names"][0] for c in found]
    finally:
        api.close()


@pytest.fixture
def pod_namespace(docker_runtime: DockerRuntime) -> Iterator[str]:
    namespace = f"kubelet-it-{uuid.uuid4().hex[:8]}"
    yield namespace
    remove_labelled(namespace)


@contextlib.asynccontextmanager
async def running_kubelet(apiserver: APIServer, client: Client, runtime: DockerRuntime,
                          root_dir: str, **config: Any) -> AsyncIterator[Kubelet]:
    """A whole kubelet for a fresh node on the test host's engine, against the real apiserver;
    `config` overrides KubeletConfig fields. Its Node is deleted afterwards."""
    node_name = f"it-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {"pod_cidr": "10.244.9.0/24", "port": 0,
                                "node_status_update_frequency": 1.0, **config}
    kubelet = Kubelet(KubeletConfig(server=f"127.0.0.1:{apiserver.port}", node_name=node_name,
                                    root_dir=root_dir, docker_host=DOCKER_HOST, **settings),
                      runtime, client, host_ip="127.0.0.1", listen_host="127.0.0.1")
    await kubelet.start()
    try:
        yield kubelet
    finally:
        await kubelet.stop()
        await client.nodes.delete(node_name)
