"""Every pod volume source and persistent volume source, validated as Kubernetes 1.31 does: one
source per volume, each source's required fields and formats, with its messages and paths. The
sources podplane's nodes cannot mount are accepted all the same (the kubelet reports them)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from apiserver.defaulting import storage as storage_defaulting
from apiserver.validation import storage as storage_validation
from apiserver.validation.fields import LABEL_MSG, SUBDOMAIN_MSG
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.pod_specs import create_errors, make_pod

V0 = "spec.volumes[0]"
CLAIM_TEMPLATE = {
    "volumeClaimTemplate": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
}
# One valid source of each kind.
VALID_SOURCES: dict[str, dict[str, Any]] = {
    "emptyDir": {},
    "hostPath": {"path": "/var/log"},
    "gitRepo": {"repository": "https://example.com/repo.git"},
    "gcePersistentDisk": {"pdName": "disk-1"},
    "awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0", "fsType": "ext4"},
    "secret": {"secretName": "s"},
    "nfs": {"server": "nfs.example.com", "path": "/exports/data"},
    "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:storage", "lun": 0},
    "glusterfs": {"endpoints": "glusterfs-cluster", "path": "vol"},
    "flocker": {"datasetName": "data"},
    "persistentVolumeClaim": {"claimName": "c"},
    "rbd": {"monitors": ["10.0.0.1:6789"], "image": "foo"},
    "flexVolume": {"driver": "example.com/lvm"},
    "cinder": {"volumeID": "vol"},
    "cephfs": {"monitors": ["10.0.0.1:6789"]},
    "fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2},
    "azureFile": {"secretName": "azure", "shareName": "share"},
    "vsphereVolume": {"volumePath": "[datastore1] volumes/myDisk"},
    "quobyte": {"registry": "registry:7861", "volume": "testVolume"},
    "azureDisk": {"diskName": "d", "diskURI": "https://account.blob.core.windows.net/c/d.vhd"},
    "photonPersistentDisk": {"pdID": "id"},
    "portworxVolume": {"volumeID": "pxvol"},
    "scaleIO": {
        "gateway": "https://gw",
        "system": "sys",
        "secretRef": {"name": "s"},
        "volumeName": "v",
    },
    "storageos": {"volumeName": "vol"},
    "csi": {"driver": "hostpath.csi.k8s.io", "volumeAttributes": {"size": "1Gi"}},
    "ephemeral": CLAIM_TEMPLATE,
    "configMap": {"name": "cm"},
    "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
    "projected": {"sources": [{"configMap": {"name": "cm"}}]},
}


def volume(source: str, body: dict[str, Any], name: str = "v") -> dict[str, Any]:
    return {"volumes": [{"name": name, source: body}]}


@pytest.mark.parametrize("source", sorted(VALID_SOURCES))
def test_every_source_is_accepted(source: str) -> None:
    assert create_errors(volume(source, VALID_SOURCES[source])) == []


def test_a_volume_of_no_source_becomes_an_empty_dir() -> None:
    pod = make_pod({"volumes": [{"name": "scratch"}]})
    assert pod.spec.volumes[0].HasField("empty_dir")


def test_only_one_source_per_volume() -> None:
    spec = {"volumes": [{"name": "v", "nfs": VALID_SOURCES["nfs"], "csi": VALID_SOURCES["csi"]}]}
    assert create_errors(spec) == [f"{V0}.csi: Forbidden: may not specify more than 1 volume type"]


@pytest.mark.parametrize(
    ("source", "body", "expected"),
    [
        (
            "nfs",
            {"server": "", "path": "data"},
            [
                f"{V0}.nfs.server: Required value",
                f'{V0}.nfs.path: Invalid value: "data": must be an absolute path',
            ],
        ),
        (
            "csi",
            {"driver": ""},
            [
                f"{V0}.csi.driver: Required value",
                f'{V0}.csi.driver: Invalid value: "": {SUBDOMAIN_MSG}',
            ],
        ),
        (
            "csi",
            {"driver": "d.example.com", "nodePublishSecretRef": {}},
            [
                f"{V0}.csi.nodePublishSecretRef.name: Required value",
            ],
        ),
        (
            "awsElasticBlockStore",
            {"volumeID": "", "partition": 300},
            [
                f"{V0}.awsElasticBlockStore.volumeID: Required value",
                f"{V0}.awsElasticBlockStore.partition: Invalid value: 300: must be between 1 "
                "and 255, inclusive",
            ],
        ),
        ("gcePersistentDisk", {"pdName": ""}, [f"{V0}.persistentDisk.pdName: Required value"]),
        (
            "iscsi",
            {"targetPortal": "p", "iqn": "bogus", "lun": 256, "chapAuthSession": True},
            [
                f'{V0}.iscsi.iqn: Invalid value: "bogus": must be valid format starting with '
                "iqn, eui, or naa",
                f"{V0}.iscsi.lun: Invalid value: 256: must be between 0 and 255, inclusive",
                f"{V0}.iscsi.secretRef: Required value",
            ],
        ),
        (
            "iscsi",
            {"targetPortal": "p", "iqn": "iqn.2001-04.com.example"},
            [
                f'{V0}.iscsi.iqn: Invalid value: "iqn.2001-04.com.example": must be valid format',
            ],
        ),
        (
            "rbd",
            {"monitors": [], "image": ""},
            [
                f"{V0}.rbd.monitors: Required value",
                f"{V0}.rbd.image: Required value",
            ],
        ),
        ("cephfs", {"monitors": []}, [f"{V0}.cephfs.monitors: Required value"]),
        (
            "fc",
            {},
            [
                f"{V0}.fc.targetWWNs: Required value: must specify either targetWWNs or wwids, but "
                "not both",
            ],
        ),
        (
            "fc",
            {"targetWWNs": ["a"]},
            [
                f"{V0}.fc.lun: Required value: lun is required if targetWWNs is specified",
            ],
        ),
        (
            "flexVolume",
            {"driver": "d", "options": {"kubernetes.io/secret": "x"}},
            [
                f"{V0}.flexVolume.options[kubernetes.io/secret]: Invalid value: "
                '"kubernetes.io/secret": kubernetes.io and k8s.io namespaces are reserved',
            ],
        ),
        (
            "flocker",
            {"datasetName": "a", "datasetUUID": "b"},
            [
                f'{V0}.flocker: Invalid value: "resource": datasetName and datasetUUID can not be '
                "specified simultaneously",
            ],
        ),
        (
            "azureDisk",
            {"diskName": "d", "diskURI": "uri", "kind": "Managed", "cachingMode": "Fast"},
            [
                f'{V0}.azureDisk.cachingMode: Unsupported value: "Fast": supported values: "None", '
                '"ReadOnly", "ReadWrite"',
                f'{V0}.azureDisk.diskURI: Unsupported value: "uri": supported values: '
                '"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/'
                'disks/{disk-id}"',
            ],
        ),
        (
            "quobyte",
            {"registry": "nohost", "volume": "v"},
            [
                f'{V0}.quobyte.registry: Invalid value: "nohost": must be a host:port pair or '
                "multiple pairs separated by commas",
            ],
        ),
        (
            "storageos",
            {"volumeName": "Vol"},
            [
                f'{V0}.storageos.volumeName: Invalid value: "Vol": {LABEL_MSG}',
            ],
        ),
        (
            "gitRepo",
            {"repository": "r", "directory": "../up"},
            [
                f"{V0}.gitRepo.directory: Invalid value: \"../up\": must not contain '..'",
            ],
        ),
        ("secret", {}, [f"{V0}.secret.secretName: Required value"]),
        ("ephemeral", {}, [f"{V0}.ephemeral.volumeClaimTemplate: Required value"]),
        (
            "ephemeral",
            {
                "volumeClaimTemplate": {
                    "metadata": {"name": "mine"},
                    "spec": {"resources": {"requests": {"storage": "1Gi"}}},
                }
            },
            [
                f"{V0}.ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set",
                f"{V0}.ephemeral.volumeClaimTemplate.spec.accessModes: Required value: at least 1 "
                "access mode is required",
            ],
        ),
    ],
)
def test_source_rules(source: str, body: dict[str, Any], expected: list[str]) -> None:
    assert create_errors(volume(source, body)) == expected


def test_an_ephemeral_volumes_claim_name_must_be_valid() -> None:
    spec = volume("ephemeral", CLAIM_TEMPLATE, name="v" * 63)
    errs = create_errors(spec, metadata={"name": "p" * 200})
    assert len(errs) == 1 and errs[0].startswith(
        f'{V0}.name: Invalid value: "{"v" * 63}": PVC name "{"p" * 200}-{"v" * 63}": must be no '
        "more than 253 characters"
    )


def test_plugin_defaults() -> None:
    spec = {
        "volumes": [
            {"name": "a", "iscsi": VALID_SOURCES["iscsi"]},
            {"name": "b", "rbd": VALID_SOURCES["rbd"]},
            {"name": "c", "azureDisk": VALID_SOURCES["azureDisk"]},
            {"name": "d", "scaleIO": VALID_SOURCES["scaleIO"]},
            {"name": "e", "ephemeral": CLAIM_TEMPLATE},
        ]
    }
    volumes = manifest.to_dict(make_pod(spec).spec)["volumes"]
    assert volumes[0]["iscsi"]["iscsiInterface"] == "default"
    assert {k: volumes[1]["rbd"][k] for k in ("pool", "user", "keyring")} == {
        "pool": "rbd",
        "user": "admin",
        "keyring": "/etc/ceph/keyring",
    }
    assert {
        k: volumes[2]["azureDisk"][k] for k in ("cachingMode", "fsType", "readOnly", "kind")
    } == {
        "cachingMode": "ReadWrite",
        "fsType": "ext4",
        "readOnly": False,
        "kind": "Shared",
    }
    assert volumes[3]["scaleIO"]["storageMode"] == "ThinProvisioned"
    assert volumes[3]["scaleIO"]["fsType"] == "xfs"
    assert volumes[4]["ephemeral"]["volumeClaimTemplate"]["spec"]["volumeMode"] == "Filesystem"


def persistent_volume(source: str, body: dict[str, Any], **spec: Any) -> core_pb2.PersistentVolume:
    pv = cast(
        core_pb2.PersistentVolume,
        manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": "pv1"},
                "spec": {
                    "capacity": {"storage": "1Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    source: body,
                    **spec,
                },
            }
        ),
    )
    storage_defaulting.persistent_volume(pv)
    return pv


PV_SOURCES: dict[str, dict[str, Any]] = {
    "nfs": VALID_SOURCES["nfs"],
    "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1", "fsType": "ext4"},
    "awsElasticBlockStore": VALID_SOURCES["awsElasticBlockStore"],
    "iscsi": VALID_SOURCES["iscsi"],
    "rbd": VALID_SOURCES["rbd"],
    "cephfs": VALID_SOURCES["cephfs"],
    "glusterfs": {"endpoints": "gluster", "path": "vol", "endpointsNamespace": "storage"},
    "azureFile": {"secretName": "s", "shareName": "share", "secretNamespace": "default"},
    "flexVolume": {"driver": "example.com/lvm"},
}


@pytest.mark.parametrize("source", sorted(PV_SOURCES))
def test_persistent_volume_sources_are_accepted(source: str) -> None:
    assert storage_validation.persistent_volume(persistent_volume(source, PV_SOURCES[source])) == []


@pytest.mark.parametrize(
    ("source", "body", "expected"),
    [
        (
            "csi",
            {"driver": "d.example.com", "volumeHandle": "", "nodePublishSecretRef": {"name": "s"}},
            [
                "spec.csi.volumeHandle: Required value",
                "spec.csi.nodePublishSecretRef.namespace: Required value",
            ],
        ),
        (
            "cinder",
            {"volumeID": "v", "secretRef": {"name": "s"}},
            [
                "spec.cinder.secretRef.namespace: Required value",
            ],
        ),
        (
            "glusterfs",
            {"endpoints": "e", "path": "p", "endpointsNamespace": ""},
            [
                'spec.glusterfs.endpointsNamespace: Invalid value: "": if the endpointnamespace '
                "is set, it must be a valid namespace name",
            ],
        ),
    ],
)
def test_persistent_volume_source_rules(
    source: str, body: dict[str, Any], expected: list[str]
) -> None:
    errs = storage_validation.persistent_volume(persistent_volume(source, body))
    assert [str(e) for e in errs] == expected


def test_a_persistent_volume_has_one_source() -> None:
    pv = persistent_volume("nfs", PV_SOURCES["nfs"], csi=PV_SOURCES["csi"])
    assert [str(e) for e in storage_validation.persistent_volume(pv)] == [
        "spec.csi: Forbidden: may not specify more than 1 volume type"
    ]


def test_a_persistent_volumes_source_is_immutable_but_for_a_later_expand_secret() -> None:
    old = persistent_volume("csi", PV_SOURCES["csi"])
    new = core_pb2.PersistentVolume()
    new.CopyFrom(old)
    new.spec.csi.controller_expand_secret_ref.name = "expand"
    new.spec.csi.controller_expand_secret_ref.namespace = "kube-system"
    assert storage_validation.persistent_volume_update(new, old) == []
    new.spec.csi.volume_handle = "vol-2"
    assert [str(e) for e in storage_validation.persistent_volume_update(new, old)] == [
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after "
        "creation"
    ]


def claim(**spec: Any) -> core_pb2.PersistentVolumeClaim:
    pvc = cast(
        core_pb2.PersistentVolumeClaim,
        manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "c", "namespace": "default"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                    **spec,
                },
            }
        ),
    )
    storage_defaulting.persistent_volume_claim(pvc)
    storage_defaulting.claim_data_sources(pvc.spec, None)
    return pvc


def test_claim_data_sources_are_normalized_and_validated() -> None:
    snapshot = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"}
    pvc = claim(dataSource=snapshot)
    assert manifest.to_dict(pvc.spec)["dataSourceRef"] == snapshot
    assert storage_validation.persistent_volume_claim(pvc) == []
    # A kind other than a claim or a snapshot in dataSource is dropped, as Kubernetes does.
    assert not claim(dataSource={"kind": "Other", "name": "x", "apiGroup": "x.io"}).spec.HasField(
        "data_source"
    )
    bad = claim(dataSourceRef={"kind": "ConfigMap", "name": "x"})
    assert [str(e) for e in storage_validation.persistent_volume_claim(bad)] == [
        "spec.dataSource: Invalid value: \"ConfigMap\": must be 'PersistentVolumeClaim' when "
        "referencing the default apiGroup",
        "spec.dataSourceRef: Invalid value: \"ConfigMap\": must be 'PersistentVolumeClaim' when "
        "referencing the default apiGroup",
    ]
