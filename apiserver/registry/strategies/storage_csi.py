"""storage.k8s.io's CSI kinds (kubernetes pkg/registry/storage/csidriver, csinode,
csistoragecapacity, volumeattachment): a CSIDriver is defaulted and its generation follows its
spec; a CSINode's does not (its drivers come and go with the kubelet's plugins); a
VolumeAttachment is created without status, an update keeps the stored status and a status
update the stored spec (the external-attacher writes the status)."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from apiserver.defaulting import storage as defaulting
from apiserver.registry.strategies.base import Strategy, clear_status
from apiserver.validation import csi
from podplane.apimachinery import resources


def _never(new: Message, stored: Message) -> bool:
    return False


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.CSI_DRIVER,
        csi.csi_driver,
        csi.csi_driver_update,
        default=defaulting.csi_driver,
    ),
    Strategy(
        resources.CSI_NODE,
        csi.csi_node,
        csi.csi_node_update,
        generation_changed=_never,
    ),
    Strategy(
        resources.CSI_STORAGE_CAPACITY,
        csi.csi_storage_capacity,
        csi.csi_storage_capacity_update,
    ),
    Strategy(
        resources.VOLUME_ATTACHMENT,
        csi.volume_attachment,
        csi.volume_attachment_update,
        default=defaulting.volume_attachment,
        prepare_for_create=clear_status,
    ),
)
