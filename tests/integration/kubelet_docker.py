"""Fixtures for the kubelet's integration tests on the real Docker engine of the test host
(DOCKER_HOST, default unix:///var/run/docker.sock). No engine is a test failure, never a skip.
Every container the tests create carries the test's pod namespace as a label and is removed by
it."""
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from kubelet.runtime import labels
from kubelet.runtime.docker import DockerRuntime
from kubelet.runtime.docker_sdk import sdk
from kubelet.runtime.types import ContainerRuntimeError
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
