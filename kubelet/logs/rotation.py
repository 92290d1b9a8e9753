"""Container log rotation, as Kubernetes' container log manager does it for a CRI runtime
(pkg/kubelet/logs/container_log_manager.go): every `interval` seconds the log of each running
container is looked at, and one that has reached `max_size` bytes is renamed to
`<log>.<YYYYmmdd-HHMMSS>` and the runtime asked to reopen it (the CRI's ReopenContainerLog), so
the container writes on into a new, empty file. Before that, the container's rotated logs are
tidied: temporary and already-compressed leftovers removed, the oldest removed so that at most
`max_files` files remain with the new one, and every rotated log but the newest gzipped
(`<log>.<time>.gz`). `kubectl logs` reads the current file, as Kubernetes' does; a followed log
goes on in the new file (kubelet/runtime/cri/logs.py)."""

from __future__ import annotations

import asyncio
import glob
import gzip
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)

# The KubeletConfiguration's defaults: containerLogMaxSize 10Mi, containerLogMaxFiles 5,
# containerLogMonitorInterval 10s.
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 5
DEFAULT_INTERVAL = 10.0
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
COMPRESS_SUFFIX = ".gz"
TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class LogPolicy:
    max_size: int = DEFAULT_MAX_SIZE
    max_files: int = DEFAULT_MAX_FILES
    interval: float = DEFAULT_INTERVAL


@runtime_checkable
class LogSource(Protocol):
    """What rotation needs of the runtime (a CRI runtime has it)."""

    async def running_container_logs(self) -> Sequence[tuple[str, str]]:
        """(container id, log path) of every running container with a log file."""
        ...

    async def reopen_container_log(self, container_id: str) -> None:
        """The runtime writes the container's output to a new file at its log path."""
        ...


def in_use(path: str, logs: Sequence[str]) -> bool:
    """Whether a rotated log is still wanted (isInUse): not a temporary file, and not the
    uncompressed original of one already compressed."""
    if path.endswith(TMP_SUFFIX):
        return False
    if path.endswith(COMPRESS_SUFFIX):
        return True
    return path + COMPRESS_SUFFIX not in logs


def excess(logs: Sequence[str], max_files: int) -> list[str]:
    """The oldest rotated logs beyond max_files - 2 (the current file and the one about to be
    rotated make up the rest), oldest first; their names sort by their time."""
    keep = max(max_files - 2, 0)
    ordered = sorted(logs)
    return ordered[: max(len(ordered) - keep, 0)]


def compress(path: str) -> str:
    """Gzips a rotated log beside itself (through a temporary file) and removes it."""
    tmp = path + TMP_SUFFIX
    with open(path, "rb") as source, gzip.open(tmp, "wb") as target:
        shutil.copyfileobj(source, target)
    compressed = path + COMPRESS_SUFFIX
    os.rename(tmp, compressed)
    os.remove(path)
    return compressed


class ContainerLogManager:
    def __init__(
        self, source: LogSource, policy: LogPolicy, now: Callable[[], float] = time.time
    ) -> None:
        self.source = source
        self.policy = policy
        self.now = now

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.policy.interval)
            try:
                await self.rotate_logs()
            except Exception:
                log.exception("container log rotation failed")

    async def rotate_logs(self) -> None:
        for container_id, path in await self.source.running_container_logs():
            try:
                size = os.stat(path).st_size
            except OSError:
                continue  # not written yet, or its container is being removed
            if size < self.policy.max_size:
                continue
            try:
                await self.rotate(container_id, path)
            except Exception as e:  # noqa: BLE001 - one container's failure is not the others'
                log.warning("rotating the log of container %s (%s): %s", container_id, path, e)

    async def rotate(self, container_id: str, path: str) -> None:
        await asyncio.to_thread(self._tidy, path)
        rotated = f"{path}.{time.strftime(TIMESTAMP_FORMAT, time.localtime(self.now()))}"
        os.rename(path, rotated)
        try:
            await self.source.reopen_container_log(container_id)
        except Exception:
            # Back under its name, to be rotated again next time.
            os.rename(rotated, path)
            raise
        log.info("rotated the log of container %s to %s", container_id, rotated)

    def _tidy(self, path: str) -> None:
        logs = glob.glob(glob.escape(path) + ".*")
        for unused in [p for p in logs if not in_use(p, logs)]:
            os.remove(unused)
        logs = [p for p in logs if in_use(p, logs)]
        for old in excess(logs, self.policy.max_files):
            os.remove(old)
            logs.remove(old)
        for rotated in logs:
            if not rotated.endswith(COMPRESS_SUFFIX):
                compress(rotated)
