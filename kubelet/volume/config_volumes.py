"""The files of configMap and secret volumes: the object's keys (or the `items` chosen), with
their modes; an object that does not exist fails the volume unless it is optional."""

from __future__ import annotations

from kubelet.container.env import ConfigObjects
from kubelet.volume.errors import VolumeError
from kubelet.volume.projection import FileProjection, ProjectionError, make_payload
from podplane.api.core.v1 import core_pb2


def config_map_payload(
    volume: core_pb2.Volume, objects: ConfigObjects
) -> dict[str, FileProjection]:
    source = volume.config_map
    default_mode = source.default_mode if source.HasField("default_mode") else None
    cm = objects.config_maps.get(source.name)
    if cm is None:
        if source.optional:
            return {}
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume.name}" : '
            f'configmap "{source.name}" not found'
        )
    data = {**dict(cm.binary_data), **{k: v.encode() for k, v in cm.data.items()}}
    try:
        return make_payload(source.items, default_mode, data, "configmap", source.optional)
    except ProjectionError as e:
        raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}" : {e}') from e


def secret_payload(volume: core_pb2.Volume, objects: ConfigObjects) -> dict[str, FileProjection]:
    source = volume.secret
    default_mode = source.default_mode if source.HasField("default_mode") else None
    secret = objects.secrets.get(source.secret_name)
    if secret is None:
        if source.optional:
            return {}
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume.name}" : '
            f'secret "{source.secret_name}" not found'
        )
    try:
        return make_payload(
            source.items, default_mode, dict(secret.data), "secret", source.optional
        )
    except ProjectionError as e:
        raise VolumeError(f'MountVolume.SetUp failed for volume "{volume.name}" : {e}') from e
