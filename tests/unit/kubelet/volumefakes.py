"""The ConfigMaps and Secrets a volume test's pods find, the claims and volumes they use, and the
files a volume directory shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kubelet.container.env import ConfigObjects
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest


def read_tree(target: Path) -> dict[str, tuple[bytes, int]]:
    found = {}
    for root, dirs, files in os.walk(target, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith("..")]
        for name in files:
            path = Path(root) / name
            found[str(path.relative_to(target))] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found


class Getter:
    def __init__(
        self, cms: dict[str, core_pb2.ConfigMap], secrets: dict[str, core_pb2.Secret]
    ) -> None:
        self.objects = ConfigObjects(config_maps=cms, secrets=secrets)

    async def config_map(self, namespace: str, name: str) -> core_pb2.ConfigMap | None:
        return self.objects.config_maps.get(name)

    async def secret(self, namespace: str, name: str) -> core_pb2.Secret | None:
        return self.objects.secrets.get(name)


class Objects:
    """The claims and volumes the kubelet can read."""

    def __init__(self, claims: list[Any], volumes: list[Any]) -> None:
        self.claims = {c.metadata.name: c for c in claims}
        self.volumes = {v.metadata.name: v for v in volumes}

    async def persistent_volume_claim(
        self, namespace: str, name: str
    ) -> core_pb2.PersistentVolumeClaim | None:
        return self.claims.get(name)

    async def persistent_volume(self, name: str) -> core_pb2.PersistentVolume | None:
        return self.volumes.get(name)


def claim(phase: str = "Bound", volume: str = "pv1", deleting: bool = False) -> Any:
    c = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default", "uid": "uid-data"},
            "spec": {"volumeName": volume},
            "status": {"phase": phase},
        },
        core_pb2.PersistentVolumeClaim,
    )
    if deleting:
        c.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    return c


def volume(path: Path, uid: str = "uid-data", **source: Any) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1"},
            "spec": {
                "claimRef": {"namespace": "default", "name": "data", "uid": uid},
                **(source or {"hostPath": {"path": str(path), "type": "DirectoryOrCreate"}}),
            },
        },
        core_pb2.PersistentVolume,
    )
