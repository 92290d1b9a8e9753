"""Streams a Docker container's log (stdout and stderr, in order) as an async iterator.

The SDK's stream blocks, so a thread reads it and hands chunks to the event loop; when the consumer
stops (the client went away), the stream's socket is closed, which ends the thread's read."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import requests.exceptions

from kubelet.runtime.docker_sdk import APIClient, errors
from kubelet.runtime.types import ContainerRuntimeError, LogOptions

_END = object()


async def stream_logs(api: APIClient, container_id: str,
                      options: LogOptions) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    holder: dict[str, Any] = {}
    closed = threading.Event()

    def put(item: Any) -> None:
        if not closed.is_set():
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        try:
            since = int(time.time()) - options.since_seconds if options.since_seconds else None
            stream = api.logs(container_id, stdout=True, stderr=True, stream=True,
                              follow=options.follow, timestamps=options.timestamps,
                              tail=options.tail_lines if options.tail_lines is not None else "all",
                              since=since)
            holder["stream"] = stream
            if closed.is_set():
                stream.close()
                return
            for chunk in stream:
                if closed.is_set():
                    break
                put(chunk)
        except errors.APIError as e:
            put(ContainerRuntimeError(str(e.explanation or e)))
        except (errors.DockerException, requests.exceptions.RequestException, OSError,
                ValueError) as e:
            if not closed.is_set():
                put(ContainerRuntimeError(str(e)))
        finally:
            put(_END)

    thread = threading.Thread(target=read, name=f"logs-{container_id[:12]}", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield bytes(item)
    finally:
        closed.set()
        stream = holder.get("stream")
        if stream is not None:
            try:
                stream.close()
            except Exception:  # the socket may be gone already
                pass
