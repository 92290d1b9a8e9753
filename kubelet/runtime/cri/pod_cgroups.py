"""The pods' cgroups: the runtime makes a pod's (its sandbox's cgroup parent, /kubepods/<class>/
pod<uid>) with the pod's first container and removes only the containers' own, so the kubelet
removes the pod's once its sandbox is gone, as its pod container manager does with an orphaned
pod's cgroup. The cgroup is removed where it is empty: a sandbox of the pod still running keeps
it (the kernel refuses to remove a cgroup with processes or children)."""

from __future__ import annotations

import logging
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
log = logging.getLogger(__name__)


def hierarchies(root: Path = CGROUP_ROOT) -> list[Path]:
    """cgroup v2's one tree, or v1's, one per controller (cpu,cpuacct and its links alike)."""
    if (root / "cgroup.controllers").exists():
        return [root]
    try:
        return sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return []


def remove(cgroup: str, root: Path = CGROUP_ROOT) -> None:
    """Removes the cgroup from every hierarchy it is in, where it is empty."""
    if not cgroup.strip("/"):
        return
    for hierarchy in hierarchies(root):
        path = hierarchy / cgroup.strip("/")
        try:
            path.rmdir()
        except FileNotFoundError:
            pass
        except OSError as e:  # busy: a process or a child cgroup is in it still
            log.debug("cgroup %s kept: %s", path, e)
