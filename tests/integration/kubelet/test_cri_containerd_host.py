"""The test host's private containerd answers the CRI (runtime.v1) as the kubelet's CRI runtime will
call it: it names itself, knows the pod images, and runs a pod sandbox on its CNI network, with
either runtime handler, whose container's output lands in the CRI log format."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from podplane.api.cri import api_pb2, api_pb2_grpc
from tests.integration.cri_containerd import POD_IMAGES, SUBNET
from tests.integration.pod_images import BUSYBOX, PAUSE
from tests.support import eventually


@pytest_asyncio.fixture
async def channel(cri_endpoint: str) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(cri_endpoint) as channel:
        yield channel


@pytest.fixture
def runtime(channel: grpc.aio.Channel) -> api_pb2_grpc.RuntimeServiceStub:
    return api_pb2_grpc.RuntimeServiceStub(channel)


@pytest.fixture
def images(channel: grpc.aio.Channel) -> api_pb2_grpc.ImageServiceStub:
    return api_pb2_grpc.ImageServiceStub(channel)


async def test_the_runtime_is_containerd_speaking_cri_v1(
    runtime: api_pb2_grpc.RuntimeServiceStub,
) -> None:
    version = await runtime.Version(api_pb2.VersionRequest(version="v1"))
    assert version.runtime_name == "containerd"
    assert version.runtime_api_version == "v1"


@pytest.mark.parametrize("image", [BUSYBOX, PAUSE])
async def test_the_pod_images_resolve_under_their_normalized_names(
    images: api_pb2_grpc.ImageServiceStub, image: str
) -> None:
    status = await images.ImageStatus(
        api_pb2.ImageStatusRequest(image=api_pb2.ImageSpec(image=image))
    )
    assert status.image.id.startswith("sha256:")
    assert POD_IMAGES[image] in status.image.repo_tags


@pytest.mark.parametrize("handler", ["", "runc", "crun"], ids=["default", "runc", "crun"])
async def test_a_pod_sandbox_gets_an_ip_and_its_container_logs_in_cri_format(
    runtime: api_pb2_grpc.RuntimeServiceStub, tmp_path: Path, handler: str
) -> None:
    uid = uuid.uuid4().hex
    log_directory = tmp_path / "pod-logs"
    log_directory.mkdir()
    sandbox_config = api_pb2.PodSandboxConfig(
        metadata=api_pb2.PodSandboxMetadata(
            name="hello", namespace=f"cri-it-{uid[:8]}", uid=uid, attempt=0
        ),
        hostname="hello",
        log_directory=str(log_directory),
    )
    sandbox = await runtime.RunPodSandbox(
        api_pb2.RunPodSandboxRequest(config=sandbox_config, runtime_handler=handler)
    )
    sandbox_id = sandbox.pod_sandbox_id
    try:
        status = await runtime.PodSandboxStatus(
            api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)
        )
        assert status.status.state == api_pb2.SANDBOX_READY
        assert status.status.runtime_handler == handler
        assert ipaddress.ip_address(status.status.network.ip) in ipaddress.ip_network(SUBNET)

        container = await runtime.CreateContainer(
            api_pb2.CreateContainerRequest(
                pod_sandbox_id=sandbox_id,
                config=api_pb2.ContainerConfig(
                    metadata=api_pb2.ContainerMetadata(name="c", attempt=0),
                    image=api_pb2.ImageSpec(image=BUSYBOX),
                    command=["sh", "-c", "echo hello; sleep 30"],
                    log_path="c_0.log",
                ),
                sandbox_config=sandbox_config,
            )
        )
        await runtime.StartContainer(
            api_pb2.StartContainerRequest(container_id=container.container_id)
        )
        log_file = log_directory / "c_0.log"

        async def logged() -> list[str]:
            lines = log_file.read_text().splitlines() if log_file.exists() else []
            return [line for line in lines if line.endswith(" stdout F hello")]

        # <RFC 3339 time> <stream> <P(artial)|F(ull)> <line>, as the kubelet reads it back.
        (line,) = await eventually(logged, timeout=30, what=f"'hello' in {log_file}")
        assert line.split(" ", 1)[1] == "stdout F hello"
    finally:
        await runtime.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))
        await runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
