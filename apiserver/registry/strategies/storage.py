"""Persistent volumes, their claims, storage classes and the CSI kinds (kubernetes
pkg/registry/core/persistentvolume, persistentvolumeclaim; pkg/registry/storage/storageclass,
csidriver, csinode, csistoragecapacity, volumeattachment): a CSIDriver is defaulted and its
generation follows its spec; a CSINode's does not (its drivers come and go with the kubelet's
plugins); a VolumeAttachment is created without status, an update keeps the stored status and a
status update the stored spec (the external-attacher writes the status)."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from apiserver.defaulting import storage as storage_defaulting
from apiserver.registry.strategies.base import Strategy, clear_status, meta_fields
from apiserver.validation import csi as csi_validation
from apiserver.validation import storage as storage_validation
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources


def _name_field(obj: core_pb2.PersistentVolume | core_pb2.PersistentVolumeClaim) -> dict[str, str]:
    # Kubernetes keeps a bare "name" selectable for volumes and claims, for compatibility.
    return {**meta_fields(obj), "name": obj.metadata.name}


def _prepare_claim_create(obj: core_pb2.PersistentVolumeClaim) -> None:
    storage_defaulting.new_persistent_volume_claim_status(obj)
    storage_defaulting.claim_data_sources(obj.spec, None)


def _prepare_claim_update(
    new: core_pb2.PersistentVolumeClaim, old: core_pb2.PersistentVolumeClaim
) -> None:
    storage_defaulting.claim_data_sources(new.spec, old.spec)


def _storage_class_update(
    new: storage_pb2.StorageClass, old: storage_pb2.StorageClass
) -> list[FieldError]:
    # A StorageClass has no spec, so the store does not default it on update (see Secret's).
    storage_defaulting.storage_class(new)
    return storage_validation.storage_class_update(new, old)


def _never(new: Message, stored: Message) -> bool:
    return False


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.PERSISTENT_VOLUME,
        storage_validation.persistent_volume,
        storage_validation.persistent_volume_update,
        _name_field,
        storage_defaulting.persistent_volume,
        storage_defaulting.new_persistent_volume_status,
        frozenset({"name"}),
        prepare_for_status_update=storage_defaulting.persistent_volume_status_update,
    ),
    Strategy(
        resources.PERSISTENT_VOLUME_CLAIM,
        storage_validation.persistent_volume_claim,
        storage_validation.persistent_volume_claim_update,
        _name_field,
        storage_defaulting.persistent_volume_claim,
        _prepare_claim_create,
        frozenset({"name"}),
        prepare_for_update=_prepare_claim_update,
    ),
    Strategy(
        resources.STORAGE_CLASS,
        storage_validation.storage_class,
        _storage_class_update,
        default=storage_defaulting.storage_class,
    ),
    Strategy(
        resources.CSI_DRIVER,
        csi_validation.csi_driver,
        csi_validation.csi_driver_update,
        default=storage_defaulting.csi_driver,
    ),
    Strategy(
        resources.CSI_NODE,
        csi_validation.csi_node,
        csi_validation.csi_node_update,
        generation_changed=_never,
    ),
    Strategy(
        resources.CSI_STORAGE_CAPACITY,
        csi_validation.csi_storage_capacity,
        csi_validation.csi_storage_capacity_update,
    ),
    Strategy(
        resources.VOLUME_ATTACHMENT,
        csi_validation.volume_attachment,
        csi_validation.volume_attachment_update,
        default=storage_defaulting.volume_attachment,
        prepare_for_create=clear_status,
    ),
)
