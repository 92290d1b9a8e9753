"""Streams a Docker container's log (stdout and stderr, in order) as an async iterator (read by a
thread: see thread_stream)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from kubelet.runtime.docker.sdk import APIClient
from kubelet.runtime.docker.thread_stream import Emit, Track, stream_in_thread
from kubelet.runtime.types import LogOptions


async def stream_logs(
    api: APIClient, container_id: str, options: LogOptions
) -> AsyncIterator[bytes]:
    def produce(emit: Emit[bytes], track: Track) -> None:
        since = int(time.time()) - options.since_seconds if options.since_seconds else None
        stream = api.logs(
            container_id,
            stdout=True,
            stderr=True,
            stream=True,
            follow=options.follow,
            timestamps=options.timestamps,
            tail=options.tail_lines if options.tail_lines is not None else "all",
            since=since,
        )
        if not track(stream):
            return
        for chunk in stream:
            if not emit(bytes(chunk)):
                return

    async for chunk in stream_in_thread(f"logs-{container_id[:12]}", produce):
        yield chunk
