"""storage.k8s.io/v1's CSI kinds: CSIDriver defaults (storage/v1 defaults.go at 1.31) and the
validation of CSIDriver, CSINode, CSIStorageCapacity and VolumeAttachment (pkg/apis/storage/
validation at 1.31, with the strategies' options) with Kubernetes' texts and field paths."""

from __future__ import annotations

import pytest

from apiserver.defaulting import storage as defaulting
from apiserver.validation import csi as validation
from apiserver.validation.fields import SUBDOMAIN_MSG, FieldError
from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue

_SUBDOMAIN = SUBDOMAIN_MSG
_ATTACH_SOURCE = "must specify exactly one of inlineVolumeSpec and persistentVolumeName"


def _driver(spec: JSONObject, name: str = "csi.example.com") -> csi_pb2.CSIDriver:
    return codec.decode(csi_pb2.CSIDriver, {"metadata": {"name": name}, "spec": spec})[0]


def _defaulted_driver(spec: JSONObject) -> csi_pb2.CSIDriver:
    obj = _driver(spec)
    defaulting.csi_driver(obj)
    return obj


def _strings(errors: list[FieldError]) -> list[str]:
    return [str(e) for e in errors]


# ---------------------------------------------------------------- CSIDriver


def test_driver_defaults_are_kubernetes_131s() -> None:
    obj = _defaulted_driver({})
    assert codec.encode(obj)["spec"] == {
        "attachRequired": True,
        "podInfoOnMount": False,
        "volumeLifecycleModes": ["Persistent"],
        "storageCapacity": False,
        "fsGroupPolicy": "ReadWriteOnceWithFSType",
        "requiresRepublish": False,
        "seLinuxMount": False,
    }
    assert validation.csi_driver(obj) == []


def test_driver_defaults_keep_what_is_set() -> None:
    obj = _defaulted_driver(
        {
            "attachRequired": False,
            "podInfoOnMount": True,
            "volumeLifecycleModes": ["Ephemeral"],
            "fsGroupPolicy": "File",
            "seLinuxMount": True,
        }
    )
    spec = obj.spec
    assert (spec.attach_required, spec.pod_info_on_mount, spec.se_linux_mount) == (
        False,
        True,
        True,
    )
    assert (list(spec.volume_lifecycle_modes), spec.fs_group_policy) == (["Ephemeral"], "File")


def test_undefaulted_driver_fields_are_required() -> None:
    # Through gRPC nothing is defaulted before validation in these tests: each is named.
    assert _strings(validation.csi_driver(_driver({}))) == [
        "spec.attachedRequired: Required value",
        "spec.podInfoOnMount: Required value",
        "spec.storageCapacity: Required value",
        "spec.seLinuxMount: Required value",
    ]


@pytest.mark.parametrize(
    "spec, errors",
    [
        (
            {"fsGroupPolicy": "Sometimes"},
            [
                'spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: '
                '"File", "None", "ReadWriteOnceWithFSType"'
            ],
        ),
        (
            {"volumeLifecycleModes": ["Persistent", "Forever"]},
            [
                'spec.volumeLifecycleModes: Unsupported value: "Forever": supported values: '
                '"Persistent", "Ephemeral"'
            ],
        ),
        (
            {"tokenRequests": [{"audience": "a"}, {"audience": "a"}]},
            ['spec.tokenRequests[1].audience: Duplicate value: "a"'],
        ),
        (
            {"tokenRequests": [{"audience": "a", "expirationSeconds": 599}]},
            [
                "spec.tokenRequests[0].expirationSeconds: Invalid value: 599: "
                "may not specify a duration less than 10 minutes"
            ],
        ),
        (
            {"tokenRequests": [{"audience": "", "expirationSeconds": 4294967297}]},
            [
                "spec.tokenRequests[0].expirationSeconds: Invalid value: 4294967297: "
                "may not specify a duration larger than 2^32 seconds"
            ],
        ),
        ({"tokenRequests": [{"audience": "a", "expirationSeconds": 600}]}, []),
    ],
)
def test_driver_spec(spec: JSONObject, errors: list[str]) -> None:
    assert _strings(validation.csi_driver(_defaulted_driver(spec))) == errors


def test_driver_name_is_a_subdomain() -> None:
    obj = _driver({}, name="CSI_Driver")
    defaulting.csi_driver(obj)
    assert _strings(validation.csi_driver(obj)) == [
        f'metadata.name: Invalid value: "CSI_Driver": {_SUBDOMAIN}'
    ]


def test_driver_update_fixes_attach_required_and_modes_only() -> None:
    old = _defaulted_driver({})
    new = _defaulted_driver(
        {
            "attachRequired": False,
            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
            # Mutable since 1.29.
            "podInfoOnMount": True,
            "fsGroupPolicy": "None",
            "storageCapacity": True,
        }
    )
    assert _strings(validation.csi_driver_update(new, old)) == [
        "spec.attachedRequired: Invalid value: false: field is immutable",
        "spec.volumeLifecycleModes: Invalid value: "
        '[]storage.VolumeLifecycleMode{"Persistent", "Ephemeral"}: field is immutable',
    ]
    mutable = _defaulted_driver({"podInfoOnMount": True, "requiresRepublish": True})
    assert validation.csi_driver_update(mutable, old) == []


# ---------------------------------------------------------------- CSINode


def _node(drivers: list[JSONObject], name: str = "node-1") -> csi_pb2.CSINode:
    doc = {"metadata": {"name": name}, "spec": {"drivers": drivers}}
    return codec.decode(csi_pb2.CSINode, doc)[0]


def test_node_without_drivers_is_valid() -> None:
    assert validation.csi_node(_node([])) == []


@pytest.mark.parametrize(
    "drivers, errors",
    [
        (
            [{"name": "", "nodeID": ""}],
            [
                "spec.drivers[0].name: Required value",
                f'spec.drivers[0].name: Invalid value: "": {_SUBDOMAIN}',
                "spec.drivers[0].nodeID: Required value",
            ],
        ),
        (
            [{"name": "a" * 64, "nodeID": "n"}],
            ["spec.drivers[0].name: Too long: must have at most 63 bytes"],
        ),
        ([{"name": "csi.example.com", "nodeID": "n" * 256}], []),
        (
            [{"name": "csi.example.com", "nodeID": "n", "allocatable": {"count": -1}}],
            [
                "spec.drivers[0].allocatable.count: Invalid value: -1: "
                "must be greater than or equal to 0"
            ],
        ),
        (
            [{"name": "a.example.com", "nodeID": "n"}, {"name": "a.example.com", "nodeID": "m"}],
            ['spec.drivers[1].name: Duplicate value: "a.example.com"'],
        ),
        (
            # Kubernetes reports topology keys' problems at the driver's path.
            [{"name": "a.example.com", "nodeID": "n", "topologyKeys": ["zone", "zone", "a b"]}],
            [
                'spec.drivers[0]: Duplicate value: "zone"',
                'spec.drivers[0]: Invalid value: "a b": name part must consist of alphanumeric '
                "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ],
        ),
    ],
)
def test_node_drivers(drivers: list[JSONObject], errors: list[str]) -> None:
    assert _strings(validation.csi_node(_node(drivers))) == errors


def test_node_id_is_at_most_256_characters() -> None:
    errors = validation.csi_node(_node([{"name": "csi.example.com", "nodeID": "n" * 257}]))
    assert [(e.path, e.type, e.detail) for e in errors] == [
        ("spec.drivers[0].nodeID", "Invalid value", "must be 256 characters or less")
    ]


def test_node_update_keeps_each_registered_driver() -> None:
    old = _node([{"name": "a.example.com", "nodeID": "n"}])
    added = _node([{"name": "a.example.com", "nodeID": "n"}, {"name": "b.example", "nodeID": "m"}])
    assert validation.csi_node_update(added, old) == []
    assert validation.csi_node_update(_node([]), old) == []
    changed = _node([{"name": "a.example.com", "nodeID": "other"}])
    assert _strings(validation.csi_node_update(changed, old)) == [
        'spec.drivers: Invalid value: {"name":"a.example.com","nodeID":"other"}: field is immutable'
    ]


# ---------------------------------------------------------------- CSIStorageCapacity


def _capacity(**fields: JSONValue) -> csi_pb2.CSIStorageCapacity:
    doc: JSONObject = {"metadata": {"name": "cap", "namespace": "default"}}
    doc.update(fields)
    return codec.decode(csi_pb2.CSIStorageCapacity, doc)[0]


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({"storageClassName": "fast", "capacity": "10Gi"}, []),
        ({"storageClassName": ""}, [f'storageClassName: Invalid value: "": {_SUBDOMAIN}']),
        (
            {"storageClassName": "fast", "capacity": "-1Gi"},
            ['capacity: Invalid value: "-1Gi": must be greater than or equal to 0'],
        ),
        (
            {
                "storageClassName": "fast",
                "nodeTopology": {"matchExpressions": [{"key": "zone", "operator": "In"}]},
            },
            [
                "nodeTopology.matchExpressions[0].values: Required value: "
                "must be specified when `operator` is 'In' or 'NotIn'"
            ],
        ),
    ],
)
def test_storage_capacity(fields: dict[str, JSONValue], errors: list[str]) -> None:
    assert _strings(validation.csi_storage_capacity(_capacity(**fields))) == errors


def test_storage_capacity_inputs_are_immutable() -> None:
    old = _capacity(storageClassName="fast", capacity="1Gi")
    assert (
        validation.csi_storage_capacity_update(
            _capacity(storageClassName="fast", capacity="2Gi"), old
        )
        == []
    )
    new = _capacity(storageClassName="slow", nodeTopology={"matchLabels": {"zone": "a"}})
    assert _strings(validation.csi_storage_capacity_update(new, old)) == [
        'nodeTopology: Invalid value: {"matchLabels":{"zone":"a"}}: field is immutable',
        'storageClassName: Invalid value: "slow": field is immutable',
    ]


# ---------------------------------------------------------------- VolumeAttachment


def _attachment(spec: JSONObject, status: JSONObject | None = None) -> csi_pb2.VolumeAttachment:
    doc: JSONObject = {"metadata": {"name": "va"}, "spec": spec}
    if status is not None:
        doc["status"] = status
    return codec.decode(csi_pb2.VolumeAttachment, doc)[0]


_VALID = {
    "attacher": "csi.example.com",
    "nodeName": "node-1",
    "source": {"persistentVolumeName": "pv"},
}


def test_attachment_valid() -> None:
    assert validation.volume_attachment(_attachment(_VALID)) == []


@pytest.mark.parametrize(
    "spec, errors",
    [
        (
            {"source": {}},
            [
                "spec.attacher: Required value",
                f"spec.source: Required value: {_ATTACH_SOURCE}",
                f'spec.nodeName: Invalid value: "": {_SUBDOMAIN}',
                f'spec.attacher: Invalid value: "": {_SUBDOMAIN}',
            ],
        ),
        (
            {**_VALID, "source": {"persistentVolumeName": ""}},
            [
                "spec.source.persistentVolumeName: Required value: "
                "must specify non empty persistentVolumeName",
                f'spec.source.persistentVolumeName: Invalid value: "": {_SUBDOMAIN}',
            ],
        ),
        (
            {
                **_VALID,
                "source": {
                    "persistentVolumeName": "pv",
                    "inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"]},
                },
            },
            [f"spec.source: Forbidden: {_ATTACH_SOURCE}"],
        ),
        (
            {
                **_VALID,
                "source": {
                    "inlineVolumeSpec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/x"}}
                },
            },
            [
                "spec.source.inlineVolumeSpec.capacity: Forbidden: "
                "may not be specified in the context of inline volumes",
                "spec.source.inlineVolumeSpec.csi: Required value: "
                "has to be specified in the context of inline volumes",
                "spec.source.inlineVolumeSpec.accessModes: Required value",
            ],
        ),
        (
            {
                **_VALID,
                "source": {
                    "inlineVolumeSpec": {
                        "accessModes": ["ReadWriteOnce"],
                        "csi": {"driver": "csi.example.com", "volumeHandle": "vol-1"},
                    }
                },
            },
            [],
        ),
        (
            {**_VALID, "attacher": "CSI_Attacher"},
            [f'spec.attacher: Invalid value: "CSI_Attacher": {_SUBDOMAIN}'],
        ),
        (
            {**_VALID, "nodeName": "Node_1"},
            [f'spec.nodeName: Invalid value: "Node_1": {_SUBDOMAIN}'],
        ),
    ],
)
def test_attachment_spec(spec: JSONObject, errors: list[str]) -> None:
    assert _strings(validation.volume_attachment(_attachment(spec))) == errors


def test_attachment_status_sizes() -> None:
    status: JSONObject = {
        "attached": True,
        "attachmentMetadata": {"k": "v" * (256 * 1024)},
        "attachError": {"message": "m" * 1025},
        "detachError": {"message": "m" * 1024},
    }
    assert _strings(validation.volume_attachment(_attachment(_VALID, status))) == [
        "status.attachmentMetadata: Too long: must have at most 262144 bytes",
        # Kubernetes names the metadata's limit in the message's error too.
        "status.attachError.message: Too long: must have at most 262144 bytes",
    ]


def test_attachment_spec_is_immutable() -> None:
    old = _attachment(_VALID)
    assert validation.volume_attachment_update(_attachment(_VALID, {"attached": True}), old) == []
    new = _attachment({**_VALID, "nodeName": "node-2"})
    assert _strings(validation.volume_attachment_update(new, old)) == [
        'spec: Invalid value: {"attacher":"csi.example.com","nodeName":"node-2",'
        '"source":{"persistentVolumeName":"pv"}}: field is immutable'
    ]


def test_attachment_inline_spec_is_defaulted_as_a_volume_source() -> None:
    obj = _attachment(
        {
            **_VALID,
            "source": {"inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"], "rbd": {}}},
        }
    )
    defaulting.volume_attachment(obj)
    assert obj.spec.source.inline_volume_spec.rbd.pool == "rbd"
