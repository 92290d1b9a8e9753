"""Reading a container's log in the CRI log format (kubelet/runtime/cri/logs.py), as kubectl logs
gets it with --tail, --since-time, --timestamps and -f."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from kubelet.runtime.cri import logs
from kubelet.runtime.cri.logs import LogFormatError, entry_time, parse_line, read_log
from kubelet.runtime.types import LogOptions
from tests.unit.waiting import TIMEOUT, until

LINES = (
    b"2024-05-01T10:00:00.100000000Z stdout F first\n"
    b"2024-05-01T10:00:01.000000000Z stderr F an error\n"
    b"2024-05-01T10:00:02.000000000Z stdout P a long \n"
    b"2024-05-01T10:00:02.000000001Z stdout F line\n"
    b"2024-05-01T10:00:03.000000000Z stdout F \n"
)


async def collect(path: Path, options: LogOptions, running: bool = False, **kw: object) -> bytes:
    async def is_running() -> bool:
        return running

    return b"".join([c async for c in read_log(path, options, is_running, **kw)])  # type: ignore[arg-type]


def test_a_line_is_parsed_into_its_time_stream_tag_and_content() -> None:
    entry = parse_line(b"2024-05-01T10:00:00.123456789Z stderr P some text with spaces")
    assert (entry.timestamp, entry.stream, entry.partial) == (
        b"2024-05-01T10:00:00.123456789Z",
        "stderr",
        True,
    )
    assert entry.content == b"some text with spaces"
    assert parse_line(b"2024-05-01T10:00:00Z stdout F").content == b""
    assert entry_time(entry) == pytest.approx(1714557600.123456)


@pytest.mark.parametrize(
    "line",
    [b"no", b"2024-05-01T10:00:00Z stdin F x", b"2024-05-01T10:00:00Z stdout X x"],
)
def test_what_is_not_the_format_is_refused(line: bytes) -> None:
    with pytest.raises(LogFormatError):
        parse_line(line)


async def test_the_whole_log_joins_partial_entries_into_one_line(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LINES + b"not a log line\n")
    assert await collect(path, LogOptions()) == b"first\nan error\na long line\n\n"


async def test_tail_counts_whole_lines_and_timestamps_prefix_each_entry(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LINES)
    assert await collect(path, LogOptions(tail_lines=2)) == b"a long line\n\n"
    assert await collect(path, LogOptions(tail_lines=0)) == b""
    stamped = await collect(path, LogOptions(tail_lines=1, timestamps=True))
    assert stamped == b"2024-05-01T10:00:03.000000000Z \n"


async def test_since_keeps_the_entries_written_within_the_last_seconds(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LINES)
    now = entry_time(parse_line(LINES.split(b"\n")[2])) + 1.5
    got = await collect(path, LogOptions(since_seconds=2), now=lambda: now)
    assert got == b"a long line\n\n"


async def test_a_missing_file_is_an_empty_log(tmp_path: Path) -> None:
    assert await collect(tmp_path / "none.log", LogOptions(follow=True), running=True) == b""


def follow(path: Path, state: dict[str, bool]) -> tuple[asyncio.Task[None], list[bytes]]:
    """A follower of the log (-f) in a task, and the chunks it got; the container runs while
    state["running"]."""
    got: list[bytes] = []

    async def running() -> bool:
        return state["running"]

    async def read() -> None:
        async for chunk in read_log(path, LogOptions(follow=True), running):
            got.append(chunk)

    return asyncio.create_task(read()), got


async def test_follow_reads_what_is_written_until_the_container_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "FOLLOW_INTERVAL", 0.01)
    path = tmp_path / "0.log"
    path.write_bytes(b"2024-05-01T10:00:00Z stdout F one\n2024-05-01T10:00:01Z stdout F tw")
    state = {"running": True}
    task, got = follow(path, state)
    await until(lambda: got, "the first line")
    await asyncio.sleep(0.05)  # five more looks at the file
    assert got == [b"one\n"]  # the unfinished line waits for its end
    with path.open("ab") as f:
        f.write(b"o\n2024-05-01T10:00:02Z stderr F three\n")
    await until(lambda: b"".join(got) == b"one\ntwo\nthree\n", "the rest of the lines")
    with path.open("ab") as f:
        f.write(b"2024-05-01T10:00:03Z stdout F last words")
    state["running"] = False
    async with asyncio.timeout(TIMEOUT):
        await task
    assert b"".join(got) == b"one\ntwo\nthree\nlast words\n"


async def test_a_followed_idle_log_asks_the_runtime_once_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "FOLLOW_INTERVAL", 0.01)
    path = tmp_path / "0.log"
    path.write_bytes(b"")
    asked = 0
    looks = 0

    def clock() -> float:
        """The follower's clock: each reading a FOLLOW_INTERVAL after the last, as if every pause
        between two looks at the file took exactly its time, whatever the host's load."""
        nonlocal looks
        looks += 1
        return 1000.0 + looks * logs.FOLLOW_INTERVAL

    async def running() -> bool:
        nonlocal asked
        asked += 1
        return True

    async def follow() -> None:
        async for _ in read_log(path, LogOptions(follow=True), running, now=clock):
            pass

    task = asyncio.create_task(follow())
    await until(lambda: looks >= 50, "about 50 looks at the file: half a second by its clock")
    task.cancel()
    assert asked == 1


async def test_a_followed_log_goes_on_in_the_new_file_after_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "FOLLOW_INTERVAL", 0.01)
    path = tmp_path / "0.log"
    path.write_bytes(b"2024-05-01T10:00:00Z stdout F one\n")
    state = {"running": True}
    task, got = follow(path, state)
    await until(lambda: got, "the first file's line")
    # Rotated (kubelet/logs/rotation.py): renamed; the runtime writes a last line to the old file
    # before it reopens the log, then goes on in a new file under the old name.
    rotated = tmp_path / "0.log.20240501-100001"
    path.rename(rotated)
    with rotated.open("ab") as f:
        f.write(b"2024-05-01T10:00:01Z stdout F two\n")
    await until(lambda: b"".join(got) == b"one\ntwo\n", "the old file's last line")
    path.write_bytes(b"2024-05-01T10:00:02Z stdout F three\n")
    await until(lambda: b"".join(got) == b"one\ntwo\nthree\n", "the new file's line")
    with path.open("ab") as f:
        f.write(b"2024-05-01T10:00:03Z stdout F four\n")
    state["running"] = False
    async with asyncio.timeout(TIMEOUT):
        await task
    assert b"".join(got) == b"one\ntwo\nthree\nfour\n"


async def test_a_followed_log_keeps_what_the_old_file_gets_after_the_new_one_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """containerd's ReopenContainerLog creates the new file before it swaps its writer to it: the
    lines written meanwhile land in the old file after the new one exists (2 ticks, under load),
    and come before the new file's first line."""
    monkeypatch.setattr(logs, "FOLLOW_INTERVAL", 0.01)
    path = tmp_path / "0.log"
    path.write_bytes(b"2024-05-01T10:00:00Z stdout F one\n")
    state = {"running": True}
    task, got = follow(path, state)
    rotated = tmp_path / "0.log.20240501-100001"

    async def read(want: bytes) -> None:
        await until(lambda: b"".join(got) == want, f"{want!r} read")

    opened_new = asyncio.Event()
    loop = asyncio.get_running_loop()

    def spied_open(name: str | Path, mode: str) -> BinaryIO:
        assert mode == "rb"
        handle = open(name, "rb")
        if os.fstat(handle.fileno()).st_ino != first_inode:
            loop.call_soon_threadsafe(opened_new.set)
        return handle

    await read(b"one\n")
    first_inode = path.stat().st_ino
    monkeypatch.setattr(logs, "open", spied_open, raising=False)
    path.rename(rotated)
    path.write_bytes(b"")  # the runtime's new file, its writer not swapped yet
    async with asyncio.timeout(TIMEOUT):
        await opened_new.wait()
    with rotated.open("ab") as f:
        f.write(b"2024-05-01T10:00:01Z stdout F two\n2024-05-01T10:00:02Z stdout F three\n")
    await read(b"one\ntwo\nthree\n")
    with path.open("ab") as f:  # swapped: the new file's first line
        f.write(b"2024-05-01T10:00:03Z stdout F four\n")
    await read(b"one\ntwo\nthree\nfour\n")
    state["running"] = False
    async with asyncio.timeout(TIMEOUT):
        await task
    assert b"".join(got) == b"one\ntwo\nthree\nfour\n"
