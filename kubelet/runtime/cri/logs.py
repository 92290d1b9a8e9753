"""Container logs in the CRI log format, as the runtime writes them under /var/log/pods and the
kubelet reads them back (kuberuntime_logs.go): one line per write,

    2024-05-01T10:00:00.123456789Z stdout F the content

with P (partial) for a piece of a line longer than the runtime's buffer, whose rest follows in the
next entry, and F for the piece that ends the line. tail_lines counts whole lines, since_seconds
compares each entry's own time, timestamps prefixes every entry with it; follow reads on until the
container has stopped and its file has no more."""

from __future__ import annotations

import asyncio
import datetime
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kubelet.runtime.types import LogOptions

PARTIAL = b"P"
FULL = b"F"
# How often a followed log's file is looked at again once it has no more, and how often the
# runtime is asked whether the container still runs meanwhile (Kubernetes waits on fsnotify, with
# a one-second recheck of the container's state).
FOLLOW_INTERVAL = 0.2
RUNNING_RECHECK = 1.0
_CHUNK = 64 * 1024


class LogFormatError(ValueError):
    """A line that is not an entry of the CRI log format."""


@dataclass(frozen=True)
class LogEntry:
    timestamp: bytes  # RFC 3339 with nanoseconds, as written
    stream: str  # "stdout" or "stderr"
    partial: bool
    content: bytes

    def render(self, timestamps: bool) -> bytes:
        """The bytes a log reader gets: the content, a newline where the line ends, the entry's
        time in front when asked (kuberuntime's `<RFC3339Nano> <content>`)."""
        data = self.content if self.partial else self.content + b"\n"
        return self.timestamp + b" " + data if timestamps else data


def parse_line(line: bytes) -> LogEntry:
    """One line of a log file, its newline left off (kuberuntime's parseCRILog)."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        raise LogFormatError(f"unexpected CRI log line {line[:80]!r}")
    timestamp, stream, tag = parts[0], parts[1], parts[2]
    if stream not in (b"stdout", b"stderr"):
        raise LogFormatError(f"unexpected stream type {stream.decode(errors='replace')!r}")
    # The tag may carry more flags after a colon; the first says partial or full.
    flag = tag.split(b":", 1)[0]
    if flag not in (PARTIAL, FULL):
        raise LogFormatError(f"unexpected tag {tag.decode(errors='replace')!r}")
    return LogEntry(
        timestamp=timestamp,
        stream=stream.decode(),
        partial=flag == PARTIAL,
        content=parts[3] if len(parts) == 4 else b"",
    )


def entry_time(entry: LogEntry) -> float:
    """The entry's time as seconds since the epoch (nanoseconds cut to microseconds)."""
    text = entry.timestamp.decode()
    base, _, rest = text.partition(".")
    fraction = rest.rstrip("Z")[:6] if rest else ""
    zone = "+00:00" if text.endswith("Z") else ""
    if not text.endswith("Z") and rest:  # an offset after the fraction
        for sign in "+-":
            if sign in rest:
                digits, _, offset = rest.partition(sign)
                fraction, zone = digits[:6], sign + offset
                break
    stamp = base + (f".{fraction.ljust(6, '0')}" if fraction else "") + zone
    return datetime.datetime.fromisoformat(stamp).timestamp()


def _whole_lines(data: bytes, timestamps: bool) -> tuple[bytes, bytes]:
    """What a reader gets of the whole lines in `data`, and the rest (a line not yet finished)."""
    complete, _, rest = data.rpartition(b"\n")
    return b"".join(e.render(timestamps) for e in _entries(complete.split(b"\n"))), rest


async def _read_lines(
    handle: BinaryIO, pending: bytes, options: LogOptions, *, ended: bool = False
) -> tuple[bytes, bytes]:
    """What a reader gets of the whole lines the file has after `pending` (its last line too
    once the writer has `ended`), and the rest."""
    data = pending + await asyncio.to_thread(handle.read)
    return _whole_lines(data + b"\n" if ended else data, options.timestamps)


def _rotated(path: str | Path, handle: BinaryIO) -> bool:
    """Whether `path` now names another file than the open one (a new file after a rotation;
    False while there is none yet)."""
    try:
        return os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def _entries(lines: Iterable[bytes]) -> list[LogEntry]:
    found = []
    for line in lines:
        if not line:
            continue
        try:
            found.append(parse_line(line))
        except LogFormatError:
            continue  # kuberuntime skips what it cannot parse, and so does this reader
    return found


def _tail(entries: list[LogEntry], lines: int) -> list[LogEntry]:
    """The entries of the last `lines` whole lines (a line ends at its F entry)."""
    if lines <= 0:
        return []
    kept: deque[LogEntry] = deque()
    ended = 0
    for entry in reversed(entries):
        if not entry.partial:
            ended += 1
            if ended > lines:
                break
        kept.appendleft(entry)
    return list(kept)


async def read_log(
    path: str | Path,
    options: LogOptions,
    running: Callable[[], Awaitable[bool]],
    *,
    now: Callable[[], float] = time.time,
) -> AsyncIterator[bytes]:
    """The container's log as a reader gets it; `running` says whether the container still runs
    (a followed log ends once it does not and the file has no more)."""
    try:
        handle = await asyncio.to_thread(open, path, "rb")
    except FileNotFoundError:
        return  # nothing written yet (or the log is gone): nothing to read
    # After a rotation, the old file until the runtime writes to the new one: containerd's
    # ReopenContainerLog creates the new file before it swaps its writer to it, so lines written
    # meanwhile land in the old file, before the new file's first.
    previous: BinaryIO | None = None
    try:
        since = now() - options.since_seconds if options.since_seconds else None

        def wanted(entry: LogEntry) -> bool:
            return since is None or entry_time(entry) >= since

        data = await asyncio.to_thread(handle.read)
        complete, _, rest = data.rpartition(b"\n")
        entries = [e for e in _entries(complete.split(b"\n")) if wanted(e)]
        if options.tail_lines is not None:
            entries = _tail(entries, options.tail_lines)
        if entries:
            yield b"".join(e.render(options.timestamps) for e in entries)
        if not options.follow:
            return
        pending = rest  # a line the runtime has not finished writing yet
        previous_pending = b""  # the old file's unfinished line, after a rotation
        checked = 0.0  # when the runtime last said the container runs
        while True:
            if previous is not None:
                out, previous_pending = await _read_lines(previous, previous_pending, options)
                if out:
                    yield out
            chunk = await asyncio.to_thread(handle.read, _CHUNK)
            if chunk:
                if previous is not None:  # swapped: the old file gets no more
                    out, _ = await _read_lines(previous, previous_pending, options)
                    if out:
                        yield out
                    previous.close()
                    previous = None
                out, pending = _whole_lines(pending + chunk, options.timestamps)
                if out:
                    yield out
                continue
            if previous is None and await asyncio.to_thread(_rotated, path, handle):
                # The log was rotated (kubelet/logs/rotation.py) and the runtime writes to a new
                # file under its name: that one is read from its start, as Kubernetes' reader
                # goes on after a rotation; the old one until the runtime has swapped.
                previous, previous_pending = handle, pending
                handle = await asyncio.to_thread(open, path, "rb")
                pending = b""
                continue
            if now() - checked >= RUNNING_RECHECK:
                if not await running():
                    # One more look: what was written between the last read and the exit.
                    for file, unfinished in ((previous, previous_pending), (handle, pending)):
                        if file is not None:
                            last, _ = await _read_lines(file, unfinished, options, ended=True)
                            if last:
                                yield last
                    return
                checked = now()
            await asyncio.sleep(FOLLOW_INTERVAL)
    finally:
        handle.close()
        if previous is not None:
            previous.close()
