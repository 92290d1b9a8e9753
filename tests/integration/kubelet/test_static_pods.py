"""Static pods on a real kubelet (real Docker, real etcd and apiserver, no scheduler): a manifest in
the kubelet's --pod-manifest-path runs as `<name>-<node>`; its mirror pod shows it in the API with
its Running status; deleting the mirror does not touch the container and the mirror comes back;
removing the file stops the pod and its mirror goes. The node reports no memory, disk or PID
pressure. A kubelet whose apiserver does not answer yet runs its static pods all the same, and
mirrors them once one does (a self-hosted control plane's boot)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from apiserver.server import APIServer
from kubelet.config import KubeletConfig
from kubelet.kubelet import Kubelet
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.runtime.types import ContainerState
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client, is_not_found, status_code
from tests.integration.control_plane import running_apiserver
from tests.integration.kubelet_docker import DOCKER_HOST, running_kubelet
from tests.support import EtcdProcess, eventually, free_port

MIRROR = "kubernetes.io/config.mirror"
MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: {namespace}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
"""


@pytest_asyncio.fixture
async def static_kubelet(
    apiserver: APIServer,
    client: Client,
    docker_runtime: DockerRuntime,
    pod_namespace: str,
    tmp_path: Path,
) -> AsyncIterator[Kubelet]:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "web.yaml").write_text(MANIFEST.format(namespace=pod_namespace))
    async with running_kubelet(
        apiserver, client, docker_runtime, str(tmp_path / "root"), pod_manifest_path=str(manifests)
    ) as kubelet:
        yield kubelet


async def _running_container(runtime: DockerRuntime, uid: str) -> str | None:
    running = [c for c in await runtime.list_containers(uid) if c.state == ContainerState.RUNNING]
    return running[0].id if running else None


async def test_static_pod_runs_with_a_mirror_that_only_mirrors(
    static_kubelet: Kubelet, client: Client, docker_runtime: DockerRuntime, pod_namespace: str
) -> None:
    node = static_kubelet.config.node_name
    name = f"static-web-{node}"

    async def running_mirror() -> core_pb2.Pod | None:
        try:
            pod = await client.pods.get(name, pod_namespace)
        except grpc.aio.AioRpcError as e:
            if is_not_found(e):
                return None
            raise
        return pod if pod.status.phase == "Running" and MIRROR in pod.metadata.annotations else None

    mirror = await eventually(running_mirror, timeout=60, what="the mirror pod Running")
    static_uid = mirror.metadata.annotations[MIRROR]
    assert mirror.spec.node_name == node and mirror.metadata.uid != static_uid
    [owner] = mirror.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("Node", node, True)
    assert mirror.status.container_statuses[0].ready
    container_id = await eventually(
        lambda: _running_container(docker_runtime, static_uid),
        what="the static pod's container running",
    )

    # Its spec is the manifest's: the API refuses to change it.
    changed = core_pb2.Pod()
    changed.CopyFrom(mirror)
    changed.spec.containers[0].image = "busybox:1.36"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.pods.update(changed)
    assert status_code(refused.value) == grpc.StatusCode.INVALID_ARGUMENT
    assert "mirror pod" in str(refused.value.details())

    # Deleting the mirror is immediate, stops nothing, and the mirror comes back.
    await client.pods.delete(name, pod_namespace)

    async def new_running_mirror() -> core_pb2.Pod | None:
        pod = await running_mirror()
        return pod if pod is not None and pod.metadata.uid != mirror.metadata.uid else None

    again = await eventually(new_running_mirror, timeout=30, what="the mirror pod made again")
    assert again.metadata.annotations[MIRROR] == static_uid
    assert await _running_container(docker_runtime, static_uid) == container_id

    # Removing the manifest stops the pod; its mirror goes.
    Path(static_kubelet.config.pod_manifest_path, "web.yaml").unlink()

    async def gone() -> bool:
        containers = await docker_runtime.list_containers(static_uid)
        try:
            await client.pods.get(name, pod_namespace)
            return False
        except grpc.aio.AioRpcError as e:
            if not is_not_found(e):
                raise
        return not containers

    await eventually(gone, timeout=30, what="the static pod and its mirror gone")


async def test_node_reports_no_pressure(static_kubelet: Kubelet, client: Client) -> None:
    node = await client.nodes.get(static_kubelet.config.node_name)
    conditions = {c.type: (c.status, c.reason) for c in node.status.conditions}
    assert conditions == {
        "MemoryPressure": ("False", "KubeletHasSufficientMemory"),
        "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
        "PIDPressure": ("False", "KubeletHasSufficientPID"),
        "Ready": ("True", "KubeletReady"),
    }


async def test_static_pods_run_before_any_apiserver_answers(
    etcd: EtcdProcess,
    client: Client,
    docker_runtime: DockerRuntime,
    pod_namespace: str,
    tmp_path: Path,
) -> None:
    """As a self-hosted control plane boots: the kubelet starts with no apiserver to answer it,
    runs its static pods from their manifests at once, and once an apiserver comes up (here a
    second one over the same etcd, on the port the kubelet was given) registers its node and
    mirrors them, without restarting them."""
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "web.yaml").write_text(MANIFEST.format(namespace=pod_namespace))
    address = f"127.0.0.1:{free_port()}"
    node = f"it-{uuid.uuid4().hex[:8]}"
    kubelet_client = Client(address, timeout=5)
    kubelet = Kubelet(
        KubeletConfig(
            server=address,
            node_name=node,
            root_dir=str(tmp_path / "root"),
            docker_host=DOCKER_HOST,
            pod_cidr="10.244.9.0/24",
            port=0,
            grpc_port=0,
            node_status_update_frequency=1.0,
            pod_manifest_path=str(manifests),
        ),
        docker_runtime,
        kubelet_client,
        host_ip="127.0.0.1",
        listen_host="127.0.0.1",
    )
    started = asyncio.create_task(kubelet.start())
    try:
        source = kubelet.static_pods
        assert source is not None

        async def read() -> list[core_pb2.Pod]:
            return source.list()

        [static] = await eventually(read, what="the manifest read")
        container_id = await eventually(
            lambda: _running_container(docker_runtime, static.metadata.uid),
            timeout=60,
            what="the static pod's container running with no apiserver",
        )
        assert not started.done()  # the API's pods are not known yet
        async with running_apiserver(etcd, address=address):
            async with asyncio.timeout(60):
                await started
            registered = await client.nodes.get(node)
            assert registered.metadata.name == node

            async def running_mirror() -> core_pb2.Pod | None:
                try:
                    pod = await client.pods.get(f"static-web-{node}", pod_namespace)
                except grpc.aio.AioRpcError as e:
                    if is_not_found(e):
                        return None
                    raise
                return pod if pod.status.phase == "Running" else None

            mirror = await eventually(running_mirror, timeout=60, what="the mirror pod Running")
            assert mirror.metadata.annotations[MIRROR] == static.metadata.uid
            [owner] = mirror.metadata.owner_references
            assert (owner.kind, owner.name, owner.uid) == ("Node", node, registered.metadata.uid)
            assert await _running_container(docker_runtime, static.metadata.uid) == container_id
    finally:
        if not started.done():
            started.cancel()
        await asyncio.gather(started, return_exceptions=True)
        await kubelet.stop()
        await kubelet_client.close()
        with contextlib.suppress(grpc.aio.AioRpcError):
            await client.nodes.delete(node)
