"""PersistentVolume, PersistentVolumeClaim and StorageClass rules, in Kubernetes' words: access
modes, capacity, reclaim policy, volume mode, one volume source, node affinity; what an update may
change; the defaults; and the admission plugins that give a claim its default class and the
protection finalizers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apiserver.admission.default_storage_class import DefaultStorageClass
from apiserver.admission.storage_object_in_use_protection import StorageObjectInUseProtection
from apiserver.defaulting import storage as defaulting
from apiserver.validation import pod as pod_validation
from apiserver.validation import storage
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.admission_calls import admit_create

HOSTNAME_AFFINITY = {
    "required": {
        "nodeSelectorTerms": [
            {
                "matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}
                ]
            }
        ]
    }
}


def pv(**spec: Any) -> core_pb2.PersistentVolume:
    fields = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/data/pv1"},
        **spec,
    }
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1"},
            "spec": fields,
        }
    )
    assert isinstance(obj, core_pb2.PersistentVolume)
    defaulting.persistent_volume(obj)
    return obj


def pvc(**spec: Any) -> core_pb2.PersistentVolumeClaim:
    fields = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        **spec,
    }
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": fields,
        }
    )
    assert isinstance(obj, core_pb2.PersistentVolumeClaim)
    defaulting.persistent_volume_claim(obj)
    return obj


def storage_class(**fields: Any) -> storage_pb2.StorageClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard"},
            "provisioner": "rancher.io/local-path",
            **fields,
        }
    )
    assert isinstance(obj, storage_pb2.StorageClass)
    defaulting.storage_class(obj)
    return obj


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def test_valid_objects_have_no_errors() -> None:
    assert strings(storage.persistent_volume(pv())) == []
    assert (
        strings(
            storage.persistent_volume(
                pv(hostPath=None, local={"path": "/mnt/disk"}, nodeAffinity=HOSTNAME_AFFINITY)
            )
        )
        == []
    )
    assert strings(storage.persistent_volume_claim(pvc(storageClassName=""))) == []
    assert strings(storage.storage_class(storage_class())) == []


def test_defaults() -> None:
    volume = pv()
    assert volume.spec.persistent_volume_reclaim_policy == "Retain"
    assert volume.spec.volume_mode == "Filesystem"
    claim = pvc()
    assert claim.spec.volume_mode == "Filesystem"
    assert not claim.spec.HasField("storage_class_name")  # unset: the default class's, later
    sc = storage_class()
    assert (sc.reclaim_policy, sc.volume_binding_mode) == ("Delete", "Immediate")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"accessModes": []}, ["spec.accessModes: Required value"]),
        (
            {"accessModes": ["ReadWriteSometimes"]},
            [
                'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
                '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
            ],
        ),
        (
            {"accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]},
            ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"],
        ),
        (
            {"capacity": {}},
            [
                "spec.capacity: Required value",
                'spec.capacity: Unsupported value: {}: supported values: "storage"',
            ],
        ),
        (
            {"capacity": {"storage": "0"}},
            ['spec.capacity[storage]: Invalid value: "0": must be greater than zero'],
        ),
        (
            {"persistentVolumeReclaimPolicy": "Keep"},
            [
                'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported '
                'values: "Delete", "Recycle", "Retain"'
            ],
        ),
        (
            {"volumeMode": "Raw"},
            ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'],
        ),
        ({"hostPath": None}, ["spec: Required value: must specify a volume type"]),
        (
            {"local": {"path": "/mnt"}, "nodeAffinity": HOSTNAME_AFFINITY},
            ["spec.local: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            {"hostPath": None, "local": {"path": "/mnt"}},
            ["spec.nodeAffinity: Required value: Local volume requires node affinity"],
        ),
        ({"hostPath": {"path": ""}}, ["spec.hostPath.path: Required value"]),
        (
            {"hostPath": {"path": "/data/../etc"}},
            ["spec.hostPath.path: Invalid value: \"/data/../etc\": must not contain '..'"],
        ),
        (
            {"nodeAffinity": {"required": {"nodeSelectorTerms": []}}},
            [
                "spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at "
                "least one node selector term"
            ],
        ),
        (
            {"nodeAffinity": {}},
            ["spec.nodeAffinity.required: Required value: must specify required node constraints"],
        ),
        (
            {"storageClassName": "Fast_Disks"},
            [
                'spec.storageClassName: Invalid value: "Fast_Disks": a lowercase RFC 1123 '
                "subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'example.com', regex "
                "used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ],
        ),
    ],
)
def test_persistent_volume_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert strings(storage.persistent_volume(pv(**spec))) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"accessModes": []},
            ["spec.accessModes: Required value: at least 1 access mode is required"],
        ),
        ({"resources": {}}, ["spec.resources[storage]: Required value"]),
        (
            {"resources": {"requests": {"storage": "-1Gi"}}},
            ['spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero'],
        ),
        (
            {"volumeMode": "Raw"},
            ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'],
        ),
        (
            {"selector": {"matchExpressions": [{"key": "disk", "operator": "In"}]}},
            [
                "spec.selector.matchExpressions[0].values: Required value: must be specified "
                "when `operator` is 'In' or 'NotIn'"
            ],
        ),
    ],
)
def test_persistent_volume_claim_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert strings(storage.persistent_volume_claim(pvc(**spec))) == expected


def test_a_claim_spec_is_immutable_but_for_its_binding_and_class() -> None:
    old = pvc()
    bound = pvc(volumeName="pv1", storageClassName="standard")
    assert strings(storage.persistent_volume_claim_update(bound, old)) == []
    rebound = pvc(volumeName="pv2", storageClassName="standard")
    assert strings(storage.persistent_volume_claim_update(rebound, bound)) == [
        "spec: Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims"
    ]
    wider = pvc(accessModes=["ReadWriteMany"])
    assert strings(storage.persistent_volume_claim_update(wider, old))[0].startswith(
        "spec: Forbidden: spec is immutable"
    )
    smaller = pvc(volumeName="pv1", resources={"requests": {"storage": "512Mi"}})
    smaller.status.phase = "Bound"
    old_bound = pvc(volumeName="pv1")
    assert strings(storage.persistent_volume_claim_update(smaller, old_bound)) == [
        "spec.resources.requests.storage: Forbidden: field can not be less than previous value"
    ]


def test_a_volume_keeps_its_source_and_mode() -> None:
    old = pv()
    assert strings(storage.persistent_volume_update(pv(capacity={"storage": "2Gi"}), old)) == []
    moved = pv(hostPath={"path": "/elsewhere"})
    assert strings(storage.persistent_volume_update(moved, old)) == [
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable "
        "after creation"
    ]
    block = pv(volumeMode="Block")
    assert strings(storage.persistent_volume_update(block, old)) == [
        'volumeMode: Invalid value: "Block": field is immutable'
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"provisioner": ""}, ["provisioner: Required value"]),
        (
            {"provisioner": "rancher.io/"},
            ['provisioner: Invalid value: "rancher.io/": name part must be non-empty'],
        ),
        (
            {"reclaimPolicy": "Recycle"},
            ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"'],
        ),
        (
            {"volumeBindingMode": "Later"},
            [
                'volumeBindingMode: Unsupported value: "Later": supported values: '
                '"Immediate", "WaitForFirstConsumer"'
            ],
        ),
        (
            {"allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": []}]}]},
            ["allowedTopologies[0].matchLabelExpressions[0].values: Required value"],
        ),
        (
            {
                "allowedTopologies": [
                    {"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]},
                    {"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]},
                ]
            },
            ['allowedTopologies[1].matchLabelExpressions: Duplicate value: ""'],
        ),
    ],
)
def test_storage_class_errors(fields: dict[str, Any], expected: list[str]) -> None:
    assert strings(storage.storage_class(storage_class(**fields))) == expected


def test_a_storage_class_keeps_its_provisioner_parameters_and_modes() -> None:
    old = storage_class(parameters={"nodePath": "/data"})
    new = storage_class(
        provisioner="example.com/other",
        parameters={"nodePath": "/other"},
        reclaimPolicy="Retain",
        volumeBindingMode="WaitForFirstConsumer",
    )
    assert strings(storage.storage_class_update(new, old)) == [
        "parameters: Forbidden: updates to parameters are forbidden.",
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
        'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]
    relabelled = storage_class(parameters={"nodePath": "/data"})
    relabelled.metadata.annotations["storageclass.kubernetes.io/is-default-class"] = "true"
    assert strings(storage.storage_class_update(relabelled, old)) == []


def test_a_pod_volume_names_its_claim() -> None:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "busybox"}],
                "restartPolicy": "Always",
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": ""}}],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    assert strings(pod_validation.pod(pod)) == [
        "spec.volumes[0].persistentVolumeClaim.claimName: Required value"
    ]


def test_status_phase_transitions_are_timed() -> None:
    old = pv()
    defaulting.new_persistent_volume_status(old)
    assert old.status.phase == "Pending" and old.status.last_phase_transition_time
    old.status.last_phase_transition_time = "2026-01-01T00:00:00Z"
    same = pv()
    same.status.phase = "Pending"
    defaulting.persistent_volume_status_update(same, old)
    assert same.status.last_phase_transition_time == "2026-01-01T00:00:00Z"
    moved = pv()
    moved.status.phase = "Available"
    defaulting.persistent_volume_status_update(moved, old)
    assert moved.status.last_phase_transition_time > "2026-01-01T00:00:00Z"


def _class(name: str, *, default: bool, created: str) -> storage_pb2.StorageClass:
    sc = storage_class()
    sc.metadata.name = name
    sc.metadata.creation_timestamp = created
    if default:
        sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] = "true"
    return sc


@pytest.mark.parametrize(
    ("claim", "classes", "expected"),
    [
        # No class named: the default one; of two defaults, the newer.
        (pvc(), [_class("standard", default=True, created="2026-01-01T00:00:00Z")], "standard"),
        (
            pvc(),
            [
                _class("old", default=True, created="2026-01-01T00:00:00Z"),
                _class("new", default=True, created="2026-02-01T00:00:00Z"),
                _class("other", default=False, created="2026-03-01T00:00:00Z"),
            ],
            "new",
        ),
        # A class named, even "", is kept; no default class leaves the claim alone.
        (pvc(storageClassName=""), [_class("s", default=True, created="x")], ""),
        (pvc(storageClassName="fast"), [_class("s", default=True, created="x")], "fast"),
        (pvc(), [_class("s", default=False, created="x")], None),
    ],
)
def test_default_storage_class_admission(
    claim: core_pb2.PersistentVolumeClaim,
    classes: list[storage_pb2.StorageClass],
    expected: str | None,
) -> None:
    asyncio.run(admit_create(DefaultStorageClass(lambda: classes), claim))
    if expected is None:
        assert not claim.spec.HasField("storage_class_name")
    else:
        assert claim.spec.storage_class_name == expected


def test_protection_finalizers_are_added_on_create() -> None:
    claim, volume = pvc(), pv()
    plugin = StorageObjectInUseProtection()
    asyncio.run(admit_create(plugin, claim))
    asyncio.run(admit_create(plugin, volume))
    asyncio.run(admit_create(plugin, volume))
    assert list(claim.metadata.finalizers) == ["kubernetes.io/pvc-protection"]
    assert list(volume.metadata.finalizers) == ["kubernetes.io/pv-protection"]
