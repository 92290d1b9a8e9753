"""The ConfigMaps and Secrets a volume test's pods find, and the files a volume directory shows."""

from __future__ import annotations

import os
from pathlib import Path

from kubelet.container.env import ConfigObjects
from podplane.api.core.v1 import core_pb2


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
