"""storage.k8s.io/v1's CSIDriver, CSINode, CSIStorageCapacity and VolumeAttachment through the
clients programs use, against the real apiserver over real etcd: kubectl's api-resources (names,
scope, verbs), apply, get (Kubernetes' columns), explain; the official Python client's
StorageV1Api (create, read, list, the attachment's status subresource, watch, delete); bad objects
refused with a 422 naming the field; and the gRPC door's clientset on the same objects."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.api.meta.v1 import meta_pb2
from podplane.api.storage.v1 import csi_pb2
from tests.integration.networking_kinds import private_namespace, unique
from tests.integration.rest_cluster import RestCluster, in_thread, new_watch, rest_cluster
from tests.support import EtcdProcess

_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("csi-kinds")) as c:
        yield c


def columns(table: str) -> list[dict[str, str]]:
    """kubectl's table as rows of cells, cut where each header word starts (networking_kinds'
    helper finds AGE inside STORAGECAPACITY)."""
    header, *rows = table.splitlines()
    spans = [(m.group(), m.start()) for m in re.finditer(r"\S+", header)]
    ends = [start for _, start in spans[1:]] + [None]
    return [
        {name: row[start:end].strip() for (name, start), end in zip(spans, ends, strict=True)}
        for row in rows
    ]


def _without_age(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "AGE"} for row in rows]


async def test_kubectl_api_resources(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("api-resources", "--api-group=storage.k8s.io", "-o", "wide")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    verbs = ",".join(_VERBS)
    for name, kind, namespaced in (
        ("csidrivers", "CSIDriver", "false"),
        ("csinodes", "CSINode", "false"),
        ("csistoragecapacities", "CSIStorageCapacity", "true"),
        ("volumeattachments", "VolumeAttachment", "false"),
    ):
        # No short names, no categories: NAME, APIVERSION, NAMESPACED, KIND, VERBS.
        assert rows[name] == [name, "storage.k8s.io/v1", namespaced, kind, verbs]


async def test_kubectl_apply_get_and_explain(cluster: RestCluster) -> None:
    driver, node, attachment = unique("csi.example.com"), unique("node"), unique("va")
    manifest = f"""\
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: {driver}
spec:
  attachRequired: false
  podInfoOnMount: true
  volumeLifecycleModes: [Persistent, Ephemeral]
  tokenRequests:
  - audience: vault
---
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata:
  name: {node}
spec:
  drivers:
  - name: {driver}
    nodeID: {node}-id
    topologyKeys: [topology.example.com/zone]
---
apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata:
  name: {attachment}
spec:
  attacher: {driver}
  nodeName: {node}
  source:
    persistentVolumeName: pv-1
"""
    try:
        out = await cluster.kubectl_ok("apply", "-f", "-", stdin=manifest)
        assert out.splitlines() == [
            f"csidriver.storage.k8s.io/{driver} created",
            f"csinode.storage.k8s.io/{node} created",
            f"volumeattachment.storage.k8s.io/{attachment} created",
        ]
        stored = json.loads(await cluster.kubectl_ok("get", "csidriver", driver, "-o", "json"))
        assert stored["spec"] == {
            "attachRequired": False,
            "podInfoOnMount": True,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
            "storageCapacity": False,
            "fsGroupPolicy": "ReadWriteOnceWithFSType",
            "tokenRequests": [{"audience": "vault"}],
            "requiresRepublish": False,
            "seLinuxMount": False,
        }
        table = await cluster.kubectl_ok("get", "csidriver", driver)
        assert table.splitlines()[0].split() == [
            "NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS",
            "REQUIRESREPUBLISH", "MODES", "AGE",
        ]  # fmt: skip
        assert _without_age(columns(table)) == [
            {
                "NAME": driver,
                "ATTACHREQUIRED": "false",
                "PODINFOONMOUNT": "true",
                "STORAGECAPACITY": "false",
                "TOKENREQUESTS": "vault",
                "REQUIRESREPUBLISH": "false",
                "MODES": "Persistent,Ephemeral",
            }
        ]
        table = await cluster.kubectl_ok("get", "csinode", node)
        assert table.splitlines()[0].split() == ["NAME", "DRIVERS", "AGE"]
        assert _without_age(columns(table)) == [{"NAME": node, "DRIVERS": "1"}]
        table = await cluster.kubectl_ok("get", "volumeattachment", attachment)
        assert table.splitlines()[0].split() == [
            "NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"
        ]  # fmt: skip
        assert _without_age(columns(table)) == [
            {
                "NAME": attachment,
                "ATTACHER": driver,
                "PV": "pv-1",
                "NODE": node,
                "ATTACHED": "false",
            }
        ]
        # Re-applied unchanged: nothing to do.
        out = await cluster.kubectl_ok("apply", "-f", "-", stdin=manifest)
        assert out.splitlines()[0] == f"csidriver.storage.k8s.io/{driver} unchanged"
    finally:
        await cluster.kubectl(
            "delete", "csidriver/" + driver, "csinode/" + node, "volumeattachment/" + attachment
        )

    out = await cluster.kubectl_ok("explain", "csidriver.spec")
    assert out.splitlines()[:4] == [
        "GROUP:      storage.k8s.io",
        "KIND:       CSIDriver",
        "VERSION:    v1",
        "",
    ]
    for field in (
        "attachRequired\t<boolean>",
        "fsGroupPolicy\t<string>",
        "seLinuxMount\t<boolean>",
    ):
        assert f"  {field}" in out
    assert "  tokenRequests\t<[]TokenRequest>" in out
    out = await cluster.kubectl_ok("explain", "csinode.spec.drivers")
    assert "  nodeID\t<string> -required-" in out and "  topologyKeys\t<[]string>" in out
    out = await cluster.kubectl_ok("explain", "volumeattachment.spec.source")
    assert "  inlineVolumeSpec\t<PersistentVolumeSpec>" in out
    out = await cluster.kubectl_ok("explain", "csistoragecapacity")
    assert "  storageClassName\t<string> -required-" in out
    assert "  nodeTopology\t<LabelSelector>" in out


async def test_kubectl_storage_capacity_table(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        for name, capacity in (("with", "capacity: 10Gi\n"), ("without", "")):
            manifest = (
                "apiVersion: storage.k8s.io/v1\nkind: CSIStorageCapacity\n"
                f"metadata:\n  name: {name}\nstorageClassName: fast\n{capacity}"
            )
            await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=manifest)
        table = await cluster.kubectl_ok("-n", ns, "get", "csistoragecapacities")
        assert table.splitlines()[0].split() == ["NAME", "STORAGECLASSNAME", "CAPACITY"]
        assert columns(table) == [
            {"NAME": "with", "STORAGECLASSNAME": "fast", "CAPACITY": "10Gi"},
            {"NAME": "without", "STORAGECLASSNAME": "fast", "CAPACITY": "<unset>"},
        ]
        await cluster.kubectl_ok("-n", ns, "delete", "csistoragecapacities", "--all")


async def test_kubectl_refuses_a_bad_driver_naming_the_field(cluster: RestCluster) -> None:
    name = unique("bad.example.com")
    manifest = (
        "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\n"
        f"metadata:\n  name: {name}\nspec:\n  fsGroupPolicy: Sometimes\n"
    )
    ran = await cluster.kubectl("apply", "-f", "-", stdin=manifest)
    assert ran.code == 1
    assert (
        f'The CSIDriver "{name}" is invalid: spec.fsGroupPolicy: Unsupported value: '
        '"Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"'
    ) in ran.err


# ------------------------------------------------------------------ the official client


def _attachment_body(name: str, **source: Any) -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "VolumeAttachment",
        "metadata": {"name": name},
        "spec": {"attacher": "csi.example.com", "nodeName": "node-1", "source": source},
    }


async def test_the_official_client_storage_v1_api(cluster: RestCluster) -> None:
    api = k8s.StorageV1Api(cluster.api_client())
    name = unique("va")
    watch = new_watch()
    created = await in_thread(
        api.create_volume_attachment, _attachment_body(name, persistentVolumeName="pv-1")
    )
    try:
        assert created.spec.source.persistent_volume_name == "pv-1"
        assert created.status.attached is False
        # The external-attacher's write: the status subresource, which keeps the spec.
        created.status = k8s.V1VolumeAttachmentStatus(
            attached=True, attachment_metadata={"devicePath": "/dev/sdb"}
        )
        created.spec.node_name = "elsewhere"
        written = await in_thread(api.replace_volume_attachment_status, name, created)
        assert written.status.attached is True
        assert written.status.attachment_metadata == {"devicePath": "/dev/sdb"}
        assert written.spec.node_name == "node-1"
        # An update keeps the status; the spec cannot change.
        written.status = None
        written.metadata.labels = {"seen": "yes"}
        replaced = await in_thread(api.replace_volume_attachment, name, written)
        assert replaced.status.attached is True and replaced.metadata.labels == {"seen": "yes"}
        listed = await in_thread(api.list_volume_attachment)
        assert name in [va.metadata.name for va in listed.items]
        events = await in_thread(
            lambda: [
                (e["type"], e["object"].status.attached)
                for e in watch.stream(
                    api.list_volume_attachment,
                    field_selector=f"metadata.name={name}",
                    timeout_seconds=2,
                )
            ]
        )
        assert events == [("ADDED", True)]
    finally:
        await in_thread(api.delete_volume_attachment, name)

    driver = unique("py.csi.example.com")
    await in_thread(
        api.create_csi_driver,
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": driver},
            "spec": {},
        },
    )
    try:
        read = await in_thread(api.read_csi_driver, driver)
        assert (read.spec.attach_required, read.spec.volume_lifecycle_modes) == (
            True,
            ["Persistent"],
        )
        assert driver in [d.metadata.name for d in (await in_thread(api.list_csi_driver)).items]
    finally:
        await in_thread(api.delete_csi_driver, driver)

    node = unique("node")
    await in_thread(
        api.create_csi_node,
        {"metadata": {"name": node}, "spec": {"drivers": []}},
    )
    try:
        read_node = await in_thread(api.read_csi_node, node)
        assert read_node.spec.drivers == []
        assert node in [n.metadata.name for n in (await in_thread(api.list_csi_node)).items]
    finally:
        await in_thread(api.delete_csi_node, node)

    async with private_namespace(cluster) as ns:
        await in_thread(
            api.create_namespaced_csi_storage_capacity,
            ns,
            {"metadata": {"name": "cap"}, "storageClassName": "fast", "maximumVolumeSize": "1Ti"},
        )
        listed_capacities = await in_thread(api.list_namespaced_csi_storage_capacity, ns)
        assert [(c.metadata.name, c.maximum_volume_size) for c in listed_capacities.items] == [
            ("cap", "1Ti")
        ]
        await in_thread(api.delete_namespaced_csi_storage_capacity, "cap", ns)


async def test_the_official_client_sees_a_422_naming_the_field(cluster: RestCluster) -> None:
    api = k8s.StorageV1Api(cluster.api_client())
    name = unique("va")
    with pytest.raises(ApiException) as refused:
        await in_thread(api.create_volume_attachment, _attachment_body(name))
    assert refused.value.status == 422
    body = json.loads(refused.value.body or "{}")
    assert body["message"] == (
        f'VolumeAttachment.storage.k8s.io "{name}" is invalid: spec.source: Required value: '
        "must specify exactly one of inlineVolumeSpec and persistentVolumeName"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value: must specify exactly one of inlineVolumeSpec and "
            "persistentVolumeName",
            "field": "spec.source",
        }
    ]


# ------------------------------------------------------------------ the gRPC door


async def test_the_grpc_door_serves_the_same_objects(cluster: RestCluster) -> None:
    name = unique("grpc.csi.example.com")
    driver = csi_pb2.CSIDriver(metadata=meta_pb2.ObjectMeta(name=name))
    created = await cluster.grpc.csidrivers.create(driver)
    try:
        # Defaulted by the same registry the REST door writes through.
        assert created.spec.attach_required is True
        assert list(created.spec.volume_lifecycle_modes) == ["Persistent"]
        stored = json.loads(await cluster.kubectl_ok("get", "csidriver", name, "-o", "json"))
        assert stored["spec"]["fsGroupPolicy"] == "ReadWriteOnceWithFSType"
    finally:
        await cluster.grpc.csidrivers.delete(name)
