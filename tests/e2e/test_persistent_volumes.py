"""Persistent volumes on the compose cluster, as kind gives them: the default class `standard`
(WaitForFirstConsumer, the local-path provisioner) makes a directory on the node of the first pod
that uses a claim; a pod writes to the claim, is deleted, and the next pod using the claim reads
the data back on the same node; deleting the claim removes the data from the node. A claim a pod
uses is deleted only after the pod; a pod whose claim is not bound waits with FailedMount."""

from __future__ import annotations

import subprocess
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from tests.e2e.compose_cluster import NODES, compose, podctl
from tests.support import eventually

CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: {namespace}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 64Mi
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {namespace}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", {command!r}]
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: {claim}
"""


def apply(text: str) -> str:
    return podctl("apply", "-f", "-", stdin=text).stdout.strip()


def pod_manifest(name: str, namespace: str, command: str, claim: str = "data") -> str:
    return POD.format(name=name, namespace=namespace, command=command, claim=claim)


async def finished(client: Client, namespace: str, name: str) -> core_pb2.Pod:
    async def check() -> core_pb2.Pod | None:
        pod = await client.pods.get(name, namespace)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    return await eventually(check, timeout=180, what=f"pod {namespace}/{name} to finish")


async def deleted(get: Any, what: str, timeout: float = 120) -> None:
    async def check() -> bool:
        try:
            await get()
        except Exception as e:  # noqa: BLE001 - NotFound is what we wait for
            return "not found" in str(e).lower() or "NOT_FOUND" in str(e)
        return False

    await eventually(check, timeout=timeout, what=what)


def on_node(node: str, *command: str) -> subprocess.CompletedProcess[str]:
    """A command in the node container (its filesystem holds the volumes' directories)."""
    return compose("exec", "-T", node, *command, check=False)


async def test_data_outlives_its_pod_and_goes_with_its_claim(
    client: Client, namespace: str
) -> None:
    assert apply(CLAIM.format(namespace=namespace)) == "persistentvolumeclaim/data created"
    claim = await client.persistentvolumeclaims.get("data", namespace)
    assert claim.spec.storage_class_name == "standard"  # the default class
    assert claim.status.phase == "Pending"  # WaitForFirstConsumer

    apply(pod_manifest("writer", namespace, f"echo kept-by-{namespace} > /data/greeting"))
    writer = await finished(client, namespace, "writer")
    assert writer.status.phase == "Succeeded"
    node = writer.spec.node_name
    assert node in NODES

    claim = await client.persistentvolumeclaims.get("data", namespace)
    assert claim.status.phase == "Bound"
    assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == node
    pv = await client.persistentvolumes.get(claim.spec.volume_name)
    path = pv.spec.host_path.path
    assert path == f"/var/local-path-provisioner/{pv.metadata.name}_{namespace}_data"
    table = podctl("get", "pvc", "-n", namespace).stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS",
        "MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    assert table[1].split()[:6] == ["data", "Bound", pv.metadata.name, "64Mi", "RWO", "standard"]
    row = next(
        line.split()
        for line in podctl("get", "pv").stdout.splitlines()
        if line.startswith(pv.metadata.name)
    )
    assert row[1:7] == ["64Mi", "RWO", "Delete", "Bound", f"{namespace}/data", "standard"]
    standard = next(
        line.split()
        for line in podctl("get", "storageclass").stdout.splitlines()
        if line.startswith("standard ")
    )
    assert standard[:6] == [
        "standard",
        "(default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        "false",
    ]
    # The data is in a directory of the node the pod ran on.
    assert on_node(node, "cat", f"{path}/greeting").stdout == f"kept-by-{namespace}\n"

    # The pod goes; a new pod using the claim runs on the same node and reads the data back.
    podctl("delete", "pod", "writer", "-n", namespace)
    apply(pod_manifest("reader", namespace, "cat /data/greeting"))
    reader = await finished(client, namespace, "reader")
    assert reader.status.phase == "Succeeded"
    assert reader.spec.node_name == node
    logs = podctl("logs", "reader", "-n", namespace).stdout
    assert logs == f"kept-by-{namespace}\n"

    # Deleting the claim (class standard, reclaim policy Delete) removes the data from the node.
    podctl("delete", "pod", "reader", "-n", namespace)
    await deleted(lambda: client.pods.get("reader", namespace), "the reader pod to go")
    podctl("delete", "pvc", "data", "-n", namespace)
    await deleted(
        lambda: client.persistentvolumes.get(pv.metadata.name), "the volume to be deleted", 180
    )
    # The answer is printed, so that an exec that fails (or a node that is not running) is
    # a failure here, not taken for a missing path.
    left = on_node(node, "sh", "-c", f'if [ -e "{path}" ]; then echo present; else echo absent; fi')
    assert (left.returncode, left.stdout) == (0, "absent\n"), (left, f"{path} still on {node}?")


async def test_a_claim_in_use_is_deleted_only_after_its_pod(client: Client, namespace: str) -> None:
    apply(CLAIM.format(namespace=namespace))
    apply(pod_manifest("holder", namespace, "touch /data/x && sleep 3600"))

    async def running() -> bool:
        return (await client.pods.get("holder", namespace)).status.phase == "Running"

    await eventually(running, timeout=180, what="the pod to run")
    podctl("delete", "pvc", "data", "-n", namespace, "--wait=false")
    claim = await client.persistentvolumeclaims.get("data", namespace)
    assert claim.metadata.deletion_timestamp
    assert list(claim.metadata.finalizers) == ["kubernetes.io/pvc-protection"]
    row = podctl("get", "pvc", "data", "-n", namespace).stdout.splitlines()[1].split()
    assert row[1] == "Terminating"
    describe = podctl("describe", "pvc", "data", "-n", namespace).stdout
    assert "Used By:       holder" in describe
    podctl("delete", "pod", "holder", "-n", namespace)
    await deleted(
        lambda: client.persistentvolumeclaims.get("data", namespace), "the claim to go", 120
    )


async def test_a_pod_whose_claim_is_not_bound_waits_with_failed_mount(
    client: Client, namespace: str
) -> None:
    # No class (""), no volume: never bound. The pod names its node, so no scheduler waits.
    apply(CLAIM.format(namespace=namespace).replace("spec:\n", 'spec:\n  storageClassName: ""\n'))
    manifest = pod_manifest("stuck", namespace, "true").replace(
        "spec:\n  restartPolicy", f"spec:\n  nodeName: {NODES[0]}\n  restartPolicy"
    )
    apply(manifest)

    async def failed_mount() -> str:
        text = podctl("describe", "pod", "stuck", "-n", namespace).stdout
        return text if "FailedMount" in text else ""

    text = await eventually(failed_mount, timeout=60, what="a FailedMount event")
    assert f"error processing PVC {namespace}/data: PVC is not bound" in text
    pod = await client.pods.get("stuck", namespace)
    assert pod.status.phase == "Pending"
    assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
