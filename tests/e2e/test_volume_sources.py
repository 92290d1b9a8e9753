"""Volume sources beyond the node's own directories, on the compose cluster: an ephemeral volume
(its claim made by the ephemeral volume controller, provisioned on the pod's node by the
local-path provisioner, mounted by the kubelet, and gone with the pod); and an NFS export (the
host's kernel has no NFS client), an inline CSI volume (no driver is installed) and a cloud disk
(no attacher), each keeping its pod in ContainerCreating with the kubelet's FailedMount."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_not_found
from tests.support import eventually

BUSYBOX = {"image": "busybox", "imagePullPolicy": "IfNotPresent"}


async def create_pod(
    client: Client, namespace: str, name: str, volume: dict[str, Any], command: str = "true"
) -> core_pb2.Pod:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 1,
                "volumes": [{"name": "v", **volume}],
                "containers": [
                    {
                        "name": "main",
                        **BUSYBOX,
                        "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                    }
                ],
            },
        },
        core_pb2.Pod,
    )
    return await client.pods.create(pod)


async def test_an_ephemeral_volume_lives_and_goes_with_its_pod(
    client: Client, namespace: str
) -> None:
    template = {
        "metadata": {"labels": {"app": "scratch"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
    }
    pod = await create_pod(
        client,
        namespace,
        "scratch",
        {"ephemeral": {"volumeClaimTemplate": template}},
        "echo kept > /v/out && cat /v/out",
    )

    async def finished() -> core_pb2.Pod | None:
        found = await client.pods.get("scratch", namespace)
        return found if found.status.phase in ("Succeeded", "Failed") else None

    done = await eventually(finished, timeout=180, what="the pod to finish")
    assert done.status.phase == "Succeeded", done.status
    assert b"".join([c.data async for c in client.pod_logs(namespace, "scratch")]) == b"kept\n"
    claim = await client.persistentvolumeclaims.get("scratch-v", namespace)
    assert claim.status.phase == "Bound" and dict(claim.metadata.labels) == {"app": "scratch"}
    assert claim.spec.storage_class_name == "standard"  # the default class
    [owner] = claim.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("Pod", "scratch", pod.metadata.uid)

    await client.pods.delete("scratch", namespace)

    async def claim_gone() -> bool:
        try:
            await client.persistentvolumeclaims.get("scratch-v", namespace)
        except Exception as e:  # noqa: BLE001 - NotFound is what we wait for
            return is_not_found(e)
        return False

    await eventually(claim_gone, timeout=120, what="the claim to go with its pod")


async def failed_mount(client: Client, namespace: str, name: str) -> str:
    async def check() -> str | None:
        found = await client.events.list(
            namespace, field_selector=f"involvedObject.name={name},reason=FailedMount"
        )
        return found.items[0].message if found.items else None

    message = await eventually(check, timeout=90, what=f"a FailedMount event of {name}")
    pod = await client.pods.get(name, namespace)
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
    return message


async def test_sources_the_nodes_cannot_serve(client: Client, namespace: str) -> None:
    await create_pod(client, namespace, "nfs", {"nfs": {"server": "10.0.0.1", "path": "/exports"}})
    await create_pod(client, namespace, "csi", {"csi": {"driver": "secrets-store.csi.k8s.io"}})
    await create_pod(
        client, namespace, "ebs", {"awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0"}}
    )
    nfs = await failed_mount(client, namespace, "nfs")
    pod = await client.pods.get("nfs", namespace)
    target = f"/var/lib/kubelet/pods/{pod.metadata.uid}/volumes/kubernetes.io~nfs/v"
    assert nfs.startswith(
        'MountVolume.SetUp failed for volume "v" : mount failed: exit status 32\n'
        "Mounting command: mount\n"
        f"Mounting arguments: -t nfs 10.0.0.1:/exports {target}\n"
        "Output: "
    ), nfs
    assert await failed_mount(client, namespace, "csi") == (
        'MountVolume.SetUp failed for volume "v" : kubernetes.io/csi: mounter.SetUpAt failed to '
        "get CSI client: driver name secrets-store.csi.k8s.io not found in the list of "
        "registered CSI drivers"
    )
    assert await failed_mount(client, namespace, "ebs") == (
        "Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v], "
        "failed to process volumes=[]: timed out waiting for the condition"
    )
