"""The CSI driver, CSI node, storage capacity and volume attachment tables, as printCSIDriver,
printCSINode, printCSIStorageCapacity and printVolumeAttachment (kubernetes
pkg/printers/internalversion/printers.go). Columns that show a field are described by that
field's own description, as Kubernetes' SwaggerDoc() gives them."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from podplane.api.storage.v1 import csi_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.openapi import comments
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

UNSET = "<unset>"


def _doc(message: type[Message], field: str) -> str:
    # The pure-Python and upb descriptors are one type at run time; stubs name both.
    return comments.of_field(cast(FieldDescriptor, message.DESCRIPTOR.fields_by_name[field]))


def _flag(spec: csi_pb2.CSIDriverSpec, name: str, default: bool) -> bool:
    return bool(getattr(spec, name)) if spec.HasField(name) else default


def csi_driver_row(driver: csi_pb2.CSIDriver, now: datetime) -> list[Cell]:
    spec = driver.spec
    # A stored empty list reads back as none (protobuf), so it shows as unset.
    audiences = [t.audience for t in spec.token_requests]
    return [
        driver.metadata.name,
        _flag(spec, "attach_required", True),
        _flag(spec, "pod_info_on_mount", False),
        _flag(spec, "storage_capacity", False),
        ",".join(audiences) if audiences else UNSET,
        _flag(spec, "requires_republish", False),
        ",".join(spec.volume_lifecycle_modes) or "<none>",
        human_age(driver.metadata.creation_timestamp, now),
    ]


def csi_node_row(node: csi_pb2.CSINode, now: datetime) -> list[Cell]:
    return [
        node.metadata.name,
        len(node.spec.drivers),
        human_age(node.metadata.creation_timestamp, now),
    ]


def csi_storage_capacity_row(capacity: csi_pb2.CSIStorageCapacity, now: datetime) -> list[Cell]:
    shown = quantity.canonical_text(capacity.capacity) if capacity.HasField("capacity") else UNSET
    return [capacity.metadata.name, capacity.storage_class_name, shown]


def volume_attachment_row(attachment: csi_pb2.VolumeAttachment, now: datetime) -> list[Cell]:
    spec = attachment.spec
    return [
        attachment.metadata.name,
        spec.attacher,
        spec.source.persistent_volume_name,
        spec.node_name,
        attachment.status.attached,
        human_age(attachment.metadata.creation_timestamp, now),
    ]


_SPEC = csi_pb2.CSIDriverSpec
CSI_DRIVER_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("AttachRequired", "boolean", _doc(_SPEC, "attach_required")),
        Column("PodInfoOnMount", "boolean", _doc(_SPEC, "pod_info_on_mount")),
        Column("StorageCapacity", "boolean", _doc(_SPEC, "storage_capacity")),
        Column("TokenRequests", "string", _doc(_SPEC, "token_requests")),
        Column("RequiresRepublish", "boolean", _doc(_SPEC, "requires_republish")),
        Column("Modes", "string", _doc(_SPEC, "volume_lifecycle_modes")),
        age_column(),
    ),
    row=csi_driver_row,
)
CSI_NODE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Drivers",
            "integer",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        age_column(),
    ),
    row=csi_node_row,
)
CSI_STORAGE_CAPACITY_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "StorageClassName",
            "string",
            _doc(csi_pb2.CSIStorageCapacity, "storage_class_name"),
        ),
        Column("Capacity", "string", _doc(csi_pb2.CSIStorageCapacity, "capacity")),
    ),
    row=csi_storage_capacity_row,
)
VOLUME_ATTACHMENT_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Attacher",
            "string",
            _doc(csi_pb2.VolumeAttachmentSpec, "attacher"),
            format="name",
        ),
        Column("PV", "string", _doc(csi_pb2.VolumeAttachmentSource, "persistent_volume_name")),
        Column("Node", "string", _doc(csi_pb2.VolumeAttachmentSpec, "node_name")),
        Column("Attached", "boolean", _doc(csi_pb2.VolumeAttachmentStatus, "attached")),
        age_column(),
    ),
    row=volume_attachment_row,
)
