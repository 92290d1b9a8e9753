"""The kubelet's pod logic on the test host's Docker engine with volume sources beyond the node's
own directories: an ephemeral volume (its claim, made as the ephemeral volume controller makes it,
bound by the PV controller against the real apiserver, mounted and written), and sources the node
cannot serve (a cloud disk, an inline CSI volume, an NFS export on a host without the NFS client):
the pod waits in ContainerCreating with the kubelet's FailedMount, never started without its
volume. The pods are synced directly (tests/integration/syncer_node.py): the apiserver's
validation of these volume sources is the API's matter, tested with it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from controller.ephemeral.controller import claim_for
from controller.persistentvolume.controller import PersistentVolumeController
from kubelet.runtime.docker.runtime import DockerRuntime
from kubelet.volume.claims import ClientVolumeGetter
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.syncer_node import Node

BUSYBOX = {"image": "busybox:latest", "imagePullPolicy": "IfNotPresent"}


@pytest_asyncio.fixture
async def namespace(client: Client, pod_namespace: str) -> AsyncIterator[str]:
    await client.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=pod_namespace))
    )
    async with running(
        PersistentVolumeController(client, SharedInformerFactory(client), sync_period=2.0)
    ):
        yield pod_namespace


@pytest_asyncio.fixture
async def node(
    docker_runtime: DockerRuntime, client: Client, tmp_path: Path
) -> AsyncIterator[Node]:
    the_node = Node(docker_runtime, tmp_path / "kubelet", ClientVolumeGetter(client))
    yield the_node
    for uid in the_node.syncer.volumes.pod_uids_on_disk():
        await the_node.syncer.volumes.teardown(uid)


def volume_pod(ns: str, name: str, volume: dict[str, Any]) -> core_pb2.Pod:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4())},
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "volumes": [{"name": "v", **volume}],
                "containers": [
                    {
                        "name": "main",
                        **BUSYBOX,
                        "command": ["sh", "-c", "echo kept > /v/out && cat /v/out"],
                        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                    }
                ],
            },
        },
        core_pb2.Pod,
    )


async def failed_mount(node: Node, pod: core_pb2.Pod) -> str:
    await node.sync_until(pod, lambda _: bool(node.events.of("FailedMount")), "a FailedMount")
    await node.sync(pod)
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    assert await node.runtime.list_containers(pod.metadata.uid) == []
    return node.events.of("FailedMount")[0]


async def test_an_ephemeral_volume_is_its_pods_own_claim(
    node: Node, client: Client, namespace: str, tmp_path: Path
) -> None:
    directory = tmp_path / "volume"
    pv: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"{namespace}-pv"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": namespace,
                "hostPath": {"path": str(directory), "type": "DirectoryOrCreate"},
            },
        }
    )
    await client.persistentvolumes.create(pv)
    template = {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": namespace,
            "resources": {"requests": {"storage": "64Mi"}},
        }
    }
    pod = volume_pod(namespace, "scratch", {"ephemeral": {"volumeClaimTemplate": template}})
    # Until its claim exists the pod waits.
    assert 'persistentvolumeclaims "scratch-v" not found' in await failed_mount(node, pod)
    await client.persistentvolumeclaims.create(claim_for(pod, pod.spec.volumes[0]))
    await node.sync_until(pod, lambda p: p.status.phase == "Succeeded", "the pod to finish", 60)
    assert (directory / "out").read_text() == "kept\n"
    assert await node.logs(pod, "main") == "kept\n"


async def test_a_cloud_disk_waits_to_be_attached(node: Node, namespace: str) -> None:
    ebs = {"awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0", "fsType": "ext4"}}
    assert await failed_mount(node, volume_pod(namespace, "ebs", ebs)) == (
        "Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v], "
        "failed to process volumes=[]: timed out waiting for the condition"
    )


async def test_an_inline_csi_volume_without_its_driver(node: Node, namespace: str) -> None:
    csi = {"csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True}}
    assert await failed_mount(node, volume_pod(namespace, "csi", csi)) == (
        'MountVolume.SetUp failed for volume "v" : kubernetes.io/csi: mounter.SetUpAt failed to '
        "get CSI client: driver name secrets-store.csi.k8s.io not found in the list of "
        "registered CSI drivers"
    )


async def test_an_nfs_export_the_node_cannot_mount(node: Node, namespace: str) -> None:
    pod = volume_pod(namespace, "nfs", {"nfs": {"server": "127.0.0.1", "path": "/exports"}})
    message = await failed_mount(node, pod)
    target = node.syncer.volumes.pod_dir(pod.metadata.uid) / "volumes/kubernetes.io~nfs/v"
    # The mount's own failure, whatever this host lacks (the kernel's NFS client, mount.nfs).
    assert message.startswith(
        'MountVolume.SetUp failed for volume "v" : mount failed: exit status 32\n'
        "Mounting command: mount\n"
        f"Mounting arguments: -t nfs 127.0.0.1:/exports {target}\n"
        "Output: "
    ), message
