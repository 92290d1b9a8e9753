"""Container log rotation (kubelet/logs/rotation.py), as Kubernetes' container log manager does it:
a running container's log that reached the maximum size is renamed with its time and reopened by
the runtime; the older rotated logs are gzipped and the oldest removed beyond the maximum count."""

from __future__ import annotations

import calendar
import functools
import gzip
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubelet.logs.rotation import ContainerLogManager, LogPolicy, LogSource, excess, in_use

NOW = calendar.timegm((2024, 5, 1, 10, 0, 7, 0, 0, 0))
STAMP = time.strftime("%Y%m%d-%H%M%S", time.localtime(NOW))


class Runtime:
    """Running containers' logs; a reopen makes a new, empty file, as containerd's does."""

    def __init__(self, logs: dict[str, Path], fail: bool = False) -> None:
        self.logs = logs
        self.fail = fail
        self.reopened: list[str] = []

    async def running_container_logs(self) -> Sequence[tuple[str, str]]:
        return [(cid, str(path)) for cid, path in self.logs.items()]

    async def reopen_container_log(self, container_id: str) -> None:
        if self.fail:
            raise RuntimeError("container is not running")
        self.reopened.append(container_id)
        self.logs[container_id].write_bytes(b"")


def manager(runtime: Runtime, max_size: int = 100, max_files: int = 5) -> ContainerLogManager:
    return ContainerLogManager(runtime, LogPolicy(max_size, max_files), now=lambda: NOW)


def test_a_cri_runtime_is_a_log_source() -> None:
    assert isinstance(Runtime({}), LogSource)


async def test_a_log_under_the_maximum_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"x" * 99)
    runtime = Runtime({"c1": path})
    await manager(runtime).rotate_logs()
    assert runtime.reopened == [] and os.listdir(tmp_path) == ["0.log"]


async def test_a_full_log_is_renamed_with_its_time_and_reopened(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"x" * 100)
    runtime = Runtime({"c1": path})
    await manager(runtime).rotate_logs()
    assert runtime.reopened == ["c1"]
    assert sorted(os.listdir(tmp_path)) == ["0.log", f"0.log.{STAMP}"]
    assert path.read_bytes() == b"" and (tmp_path / f"0.log.{STAMP}").read_bytes() == b"x" * 100


async def test_older_rotated_logs_are_compressed_and_the_oldest_removed(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"now" * 50)
    older = ["20240501-100001", "20240501-100002", "20240501-100003", "20240501-100004"]
    for stamp in older[:3]:
        (tmp_path / f"0.log.{stamp}.gz").write_bytes(gzip.compress(stamp.encode()))
    (tmp_path / f"0.log.{older[3]}").write_bytes(b"newest rotated")
    # Leftovers of an interrupted compression: a temporary file, an original beside its .gz.
    (tmp_path / f"0.log.{older[3]}.gz.tmp").write_bytes(b"half")
    (tmp_path / f"0.log.{older[0]}").write_bytes(b"already compressed")
    runtime = Runtime({"c1": path})
    await manager(runtime, max_files=4).rotate_logs()
    # max_files 4: the current file, the one just rotated, and two compressed ones.
    assert sorted(os.listdir(tmp_path)) == [
        "0.log",
        f"0.log.{older[2]}.gz",
        f"0.log.{older[3]}.gz",
        f"0.log.{STAMP}",
    ]
    assert gzip.decompress((tmp_path / f"0.log.{older[3]}.gz").read_bytes()) == b"newest rotated"


async def test_a_failed_reopen_puts_the_log_back_to_be_rotated_next_time(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"x" * 100)
    runtime = Runtime({"c1": path}, fail=True)
    await manager(runtime).rotate_logs()  # logged, not raised: the other containers go on
    assert os.listdir(tmp_path) == ["0.log"] and path.read_bytes() == b"x" * 100


async def test_a_container_without_its_log_file_yet_is_skipped(tmp_path: Path) -> None:
    full = tmp_path / "full.log"
    full.write_bytes(b"x" * 100)
    runtime = Runtime({"new": tmp_path / "none.log", "c1": full})
    await manager(runtime).rotate_logs()
    assert runtime.reopened == ["c1"]


def test_what_is_in_use_and_what_is_in_excess() -> None:
    logs = ["a.1", "a.1.gz", "a.2.gz", "a.3", "a.3.gz.tmp"]
    assert [p for p in logs if in_use(p, logs)] == ["a.1.gz", "a.2.gz", "a.3"]
    assert excess(["a.3", "a.1.gz", "a.2.gz"], max_files=4) == ["a.1.gz"]
    assert excess(["a.1.gz"], max_files=2) == ["a.1.gz"]
    assert excess([], max_files=5) == []


@pytest.mark.parametrize("max_files", [2, 3])
async def test_repeated_rotations_keep_at_most_max_files(tmp_path: Path, max_files: int) -> None:
    path = tmp_path / "0.log"
    runtime = Runtime({"c1": path})
    for second in range(6):
        path.write_bytes(b"x" * 100)
        rotation = manager(runtime, max_files=max_files)
        rotation.now = functools.partial(float, NOW + second)  # another name each time
        await rotation.rotate_logs()
        assert len(os.listdir(tmp_path)) <= max_files
    assert len(runtime.reopened) == 6
