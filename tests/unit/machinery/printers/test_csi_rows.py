"""The CSI driver, CSI node, storage capacity and volume attachment rows, as printCSIDriver,
printCSINode, printCSIStorageCapacity and printVolumeAttachment write them: the driver's flags
(Kubernetes' defaults when unset), its token audiences ("<unset>" without any) and modes
("<none>"), the count of a node's drivers, the capacity ("<unset>" when not reported), the
attachment's volume (empty for an inline one) and whether it is attached."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import resources
from podplane.printers.registry import table_for
from tests.unit.machinery.printers.samples import NOW, meta, obj


def _driver_row(spec: dict[str, Any]) -> list[Any]:
    driver = obj(csi_pb2.CSIDriver, {"metadata": meta("csi.example.com", ""), "spec": spec})
    return table_for(resources.CSI_DRIVER).row(driver, NOW)


@pytest.mark.parametrize(
    "spec, cells",
    [
        ({}, [True, False, False, "<unset>", False, "<none>"]),
        (
            {
                "attachRequired": False,
                "podInfoOnMount": True,
                "storageCapacity": True,
                "tokenRequests": [{"audience": "vault"}, {"audience": "gcp"}],
                "requiresRepublish": True,
                "volumeLifecycleModes": ["Persistent", "Ephemeral"],
            },
            [False, True, True, "vault,gcp", True, "Persistent,Ephemeral"],
        ),
    ],
)
def test_driver_row(spec: dict[str, Any], cells: list[Any]) -> None:
    assert _driver_row(spec) == ["csi.example.com", *cells, "5m"]


def test_node_row_counts_drivers() -> None:
    drivers = [{"name": "a.example.com", "nodeID": "n"}, {"name": "b.example.com", "nodeID": "n"}]
    node = obj(csi_pb2.CSINode, {"metadata": meta("node-1", ""), "spec": {"drivers": drivers}})
    assert table_for(resources.CSI_NODE).row(node, NOW) == ["node-1", 2, "5m"]
    empty = obj(csi_pb2.CSINode, {"metadata": meta("node-2", ""), "spec": {}})
    assert table_for(resources.CSI_NODE).row(empty, NOW) == ["node-2", 0, "5m"]


@pytest.mark.parametrize("capacity, shown", [({"capacity": "10Gi"}, "10Gi"), ({}, "<unset>")])
def test_storage_capacity_row(capacity: dict[str, Any], shown: str) -> None:
    cap = obj(
        csi_pb2.CSIStorageCapacity,
        {"metadata": meta("cap"), "storageClassName": "fast", **capacity},
    )
    assert table_for(resources.CSI_STORAGE_CAPACITY).row(cap, NOW) == ["cap", "fast", shown]


@pytest.mark.parametrize(
    "source, status, pv, attached",
    [
        ({"persistentVolumeName": "pv-1"}, {"attached": True}, "pv-1", True),
        ({"inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"]}}, {}, "", False),
    ],
)
def test_volume_attachment_row(
    source: dict[str, Any], status: dict[str, Any], pv: str, attached: bool
) -> None:
    spec = {"attacher": "csi.example.com", "nodeName": "node-1", "source": source}
    va = obj(csi_pb2.VolumeAttachment, {"metadata": meta("va", ""), "spec": spec, "status": status})
    row = table_for(resources.VOLUME_ATTACHMENT).row(va, NOW)
    assert row == ["va", "csi.example.com", pv, "node-1", attached, "5m"]
