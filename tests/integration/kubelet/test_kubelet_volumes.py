"""A whole kubelet on the test host's Docker engine mounting persistent volume claims: the claim's
volume (a hostPath directory, made on first mount) in the containers, read-only when the pod's
volume says so, and a claim not bound yet leaving the pod ContainerCreating with FailedMount
events. The PV controller runs in the test's process against the real apiserver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from controller.persistentvolume.controller import PersistentVolumeController
from kubelet.kubelet import Kubelet
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.support import eventually

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


async def bound_claim_on(client: Client, ns: str, directory: Path, *, size: str = "1Gi") -> str:
    """A volume of a class of its own over `directory`, and a claim bound to it."""
    name = f"{ns}-data"
    for kind, body in (
        (
            "PersistentVolume",
            {
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": ns,
                    "hostPath": {"path": str(directory), "type": "DirectoryOrCreate"},
                },
            },
        ),
        (
            "PersistentVolumeClaim",
            {
                "metadata": {"name": "data", "namespace": ns},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": ns,
                    "resources": {"requests": {"storage": size}},
                },
            },
        ),
    ):
        obj: Any = manifest.from_dict({"apiVersion": "v1", "kind": kind, **body})
        await client.for_resource(resources.by_message(obj)).create(obj)

    async def bound() -> bool:
        return (await client.persistentvolumeclaims.get("data", ns)).status.phase == "Bound"

    await eventually(bound, what="the claim to be bound")
    return name


def claim_pod(node: str, ns: str, name: str, command: str, *, read_only: bool = False) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "nodeName": node,
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "volumes": [
                    {
                        "name": "data",
                        "persistentVolumeClaim": {"claimName": "data", "readOnly": read_only},
                    }
                ],
                "containers": [
                    {
                        "name": "main",
                        **BUSYBOX,
                        "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }
                ],
            },
        }
    )


async def finished(client: Client, ns: str, name: str) -> core_pb2.Pod:
    async def check() -> core_pb2.Pod | None:
        pod = await client.pods.get(name, ns)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    return await eventually(check, timeout=90, what=f"pod {name} to finish")


async def test_a_pod_writes_to_its_claim_and_the_next_pod_reads_it_back(
    kubelet: Kubelet, client: Client, namespace: str, tmp_path: Path
) -> None:
    directory = tmp_path / "volume"
    await bound_claim_on(client, namespace, directory)
    node = kubelet.config.node_name
    await client.pods.create(claim_pod(node, namespace, "writer", "echo kept > /data/out"))
    assert (await finished(client, namespace, "writer")).status.phase == "Succeeded"
    assert (directory / "out").read_text() == "kept\n"  # made on first mount, kept after
    await client.pods.create(
        claim_pod(node, namespace, "reader", "grep -qx kept /data/out", read_only=True)
    )
    assert (await finished(client, namespace, "reader")).status.phase == "Succeeded"
    # readOnly on the pod's volume makes every mount of it read-only.
    await client.pods.create(
        claim_pod(node, namespace, "scribbler", "touch /data/nope", read_only=True)
    )
    assert (await finished(client, namespace, "scribbler")).status.phase == "Failed"
    assert not (directory / "nope").exists()


async def test_a_pod_whose_claim_is_not_bound_waits_with_failed_mount_events(
    kubelet: Kubelet, client: Client, namespace: str
) -> None:
    # A class of its own, with no volume: the apiserver is shared with other modules, whose
    # volumes of no class (as test_every_kind's) would bind a claim of no class.
    claim: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": namespace,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    await client.persistentvolumeclaims.create(claim)
    await client.pods.create(claim_pod(kubelet.config.node_name, namespace, "waiting", "true"))

    async def failed_mount() -> str | None:
        events = await client.events.list(
            namespace, field_selector="involvedObject.name=waiting,reason=FailedMount"
        )
        return events.items[0].message if events.items else None

    message = await eventually(failed_mount, timeout=30, what="a FailedMount event")
    assert message == (
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data], "
        f"failed to process volumes=[data]: error processing PVC {namespace}/data: PVC is not "
        "bound"
    )
    pod = await client.pods.get("waiting", namespace)
    assert pod.status.phase == "Pending"
    [status] = pod.status.container_statuses
    assert status.state.waiting.reason == "ContainerCreating"
