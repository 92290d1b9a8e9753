"""configMap and secret volumes: the files a volume holds (pkg/volume/configmap and secret's
MakePayload) and their atomic update (pkg/volume/util/atomic_writer.go).

The volume directory holds the payload in a hidden timestamped directory, a `..data` symlink to it,
and one symlink per top-level name pointing through `..data`. An update writes a new timestamped
directory and renames a fresh symlink over `..data`, so a container reading the (bind-mounted)
directory sees the old set of files or the new one, never a mixture."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from podplane.api.core.v1 import core_pb2

DEFAULT_MODE = 0o644
DATA_DIR = "..data"
_DATA_TMP = "..data_tmp"


class ProjectionError(Exception):
    """The volume's files cannot be made as specified."""


@dataclass(frozen=True)
class FileProjection:
    data: bytes
    mode: int


def make_payload(
    items: Sequence[core_pb2.KeyToPath],
    default_mode: int | None,
    data: Mapping[str, bytes],
    kind: str,
    optional: bool,
) -> dict[str, FileProjection]:
    """Path -> content and mode: every key as a file of its name, or only the listed items at
    their paths. `kind` names the object in errors ("configmap", "secret")."""
    mode = DEFAULT_MODE if default_mode is None else default_mode
    if not items:
        return {key: FileProjection(value, mode) for key, value in data.items()}
    payload = {}
    for item in items:
        if item.key not in data:
            if optional:
                continue
            what = "config" if kind == "configmap" else "secret"
            raise ProjectionError(f"{kind} references non-existent {what} key: {item.key}")
        validate_path(item.path)
        payload[item.path] = FileProjection(
            data[item.key], item.mode if item.HasField("mode") else mode
        )
    return payload


def validate_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not path or path.startswith("/") or ".." in parts or (parts and parts[0].startswith("..")):
        raise ProjectionError(
            f'invalid path "{path}": must be a relative path without ".." '
            f'that does not start with ".."'
        )


def _current(target: Path) -> dict[str, FileProjection] | None:
    data = target / DATA_DIR
    if not data.is_dir():
        return None
    found = {}
    for root, _, files in os.walk(data, followlinks=True):
        for name in files:
            path = Path(root) / name
            found[str(path.relative_to(data))] = FileProjection(
                path.read_bytes(), path.stat().st_mode & 0o7777
            )
    return found


def write_atomically(target: Path, payload: Mapping[str, FileProjection]) -> bool:
    """Makes target hold exactly payload; returns whether anything changed."""
    for path in payload:
        validate_path(path)
    target.mkdir(parents=True, exist_ok=True)
    if _current(target) == dict(payload):
        return False
    old = os.readlink(target / DATA_DIR) if (target / DATA_DIR).is_symlink() else None
    ts_dir = Path(tempfile.mkdtemp(prefix=time.strftime("..%Y_%m_%d_%H_%M_%S."), dir=target))
    ts_dir.chmod(0o755)
    for path, projection in payload.items():
        file = ts_dir / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(projection.data)
        file.chmod(projection.mode)
    tmp_link = target / _DATA_TMP
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(ts_dir.name)
    tmp_link.rename(target / DATA_DIR)  # rename(2): the atomic switch
    top_level = {PurePosixPath(p).parts[0] for p in payload}
    for name in top_level:
        link = target / name
        if not link.is_symlink():
            link.symlink_to(f"{DATA_DIR}/{name}")
    for entry in target.iterdir():  # names the new payload no longer has
        if not entry.name.startswith("..") and entry.name not in top_level:
            entry.unlink()
    if old and old != ts_dir.name:
        shutil.rmtree(target / old, ignore_errors=True)
    return True
