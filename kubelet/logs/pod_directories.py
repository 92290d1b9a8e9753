"""The log directories of pods that are gone (the container GC's evictPodLogsDirectories): each
pod's `<pods-logs-dir>/<namespace>_<name>_<uid>` stays after its containers and sandbox are
removed, and is removed once the pod is neither wanted on the node nor in the runtime."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Collection

log = logging.getLogger(__name__)


def pod_uid_of(directory: str) -> str:
    """The pod uid a log directory's name ends with (namespace_name_uid; neither a namespace nor
    a uid holds "_", a name may not either)."""
    return directory.rpartition("_")[2]


def remove_dead(root: str, known_uids: Collection[str]) -> list[str]:
    """Removes the log directories under `root` of pods whose uid is not known; their names."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    removed = []
    for name in names:
        path = os.path.join(root, name)
        if pod_uid_of(name) in known_uids or not os.path.isdir(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        log.info("removed the log directory of pod uid %s, which is gone", pod_uid_of(name))
        removed.append(name)
    return removed
