"""Blocking Docker SDK streams (logs, exec output) as async iterators.

The SDK's streams block, so a thread reads one and hands its items to the event loop; when the
consumer stops (the client went away), the stream's socket is closed, which ends the thread's
read. SDK errors become ContainerRuntimeError on the consumer's side."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import requests.exceptions

from kubelet.runtime.docker_sdk import errors
from kubelet.runtime.types import ContainerRuntimeError

# emit(item) hands an item to the consumer; False once the consumer has stopped.
Emit = Callable[[Any], bool]
# track(stream) registers the SDK stream to close when the consumer stops; False if it already has.
Track = Callable[[Any], bool]
Produce = Callable[[Emit, Track], None]

_END = object()


async def stream_in_thread(name: str, produce: Produce) -> AsyncIterator[Any]:
    """Runs produce(emit, track) in a thread named `name` and yields what it emits."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    holder: dict[str, Any] = {}
    closed = threading.Event()

    def emit(item: Any) -> bool:
        if closed.is_set():
            return False
        loop.call_soon_threadsafe(queue.put_nowait, item)
        return True

    def track(stream: Any) -> bool:
        holder["stream"] = stream
        if closed.is_set():
            stream.close()
            return False
        return True

    def run() -> None:
        try:
            produce(emit, track)
        except errors.APIError as e:
            emit(ContainerRuntimeError(str(e.explanation or e)))
        except (errors.DockerException, requests.exceptions.RequestException, OSError,
                ValueError) as e:
            emit(ContainerRuntimeError(str(e)))
        finally:
            emit(_END)

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        closed.set()
        stream = holder.get("stream")
        if stream is not None:
            try:
                stream.close()
            except Exception:  # the socket may be gone already
                pass
