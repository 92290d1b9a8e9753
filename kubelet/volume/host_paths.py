"""Directories of the node that pods' volumes are: hostPath volumes (and the directories of
hostPath and local persistent volumes), checked or made as their type says; and tmpfs mounts
for emptyDir medium Memory and the volumes that may hold credentials."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

from kubelet.volume.errors import VolumeError
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

log = logging.getLogger(__name__)


def check_host_path(name: str, source: core_pb2.HostPathVolumeSource) -> None:
    path, kind = source.path, source.type
    if not path.startswith("/"):
        raise VolumeError(f'volume "{name}": hostPath.path must be absolute, got "{path}"')
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch(mode=0o644, exist_ok=True)
    checks = {
        "Directory": stat.S_ISDIR,
        "File": stat.S_ISREG,
        "Socket": stat.S_ISSOCK,
        "CharDevice": stat.S_ISCHR,
        "BlockDevice": stat.S_ISBLK,
    }
    if kind in checks:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise VolumeError(
                f'volume "{name}": hostPath type check failed: {path} does not exist'
            ) from None
        if not checks[kind](mode):
            raise VolumeError(
                f'volume "{name}": hostPath type check failed: {path} is not a {kind}'
            )


def mount_tmpfs(path: Path, size_limit: str = "", mode: int = 0o777) -> None:
    """A tmpfs on the node at path (emptyDir medium Memory; secret volumes, which Kubernetes
    never writes to disk). Where the kubelet may not mount, a plain directory does instead."""
    if os.path.ismount(path):
        return
    options = f"mode={mode:04o}"
    if size_limit:
        try:
            options += f",size={quantity.bytes_of(size_limit)}"
        except quantity.QuantityError as e:
            raise VolumeError(f"emptyDir sizeLimit: {e}") from e
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log.warning(
            "volume %s: cannot mount a tmpfs (%s); using a plain directory",
            path,
            (result.stderr or result.stdout).strip(),
        )
