"""Blocking Docker SDK streams (logs, exec output) as async iterators.

The SDK's streams block, so a thread reads one and hands its items to the event loop; when the
consumer stops (the client went away), the stream's socket is closed, which ends the thread's
read. SDK errors become ContainerRuntimeError on the consumer's side."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar

import requests.exceptions

from kubelet.runtime.docker.sdk import errors
from kubelet.runtime.types import ContainerRuntimeError

T = TypeVar("T")


class Closable(Protocol):
    """An SDK stream (or socket) whose close() ends the blocking reads on it."""

    def close(self) -> None: ...


# emit(item) hands an item to the consumer; False once the consumer has stopped.
Emit = Callable[[T], bool]
# track(stream) registers the SDK stream to close when the consumer stops; False if it already has.
Track = Callable[[Closable], bool]
Produce = Callable[[Emit[T], Track], None]


async def stream_in_thread(name: str, produce: Produce[T]) -> AsyncIterator[T]:
    """Runs produce(emit, track) in a thread named `name` and yields what it emits."""
    loop = asyncio.get_running_loop()
    # An item (in a 1-tuple), the error that ended the stream, or None at its end.
    queue: asyncio.Queue[tuple[T] | BaseException | None] = asyncio.Queue()
    holder: dict[str, Closable] = {}
    closed = threading.Event()

    def put(item: tuple[T] | BaseException | None) -> bool:
        if closed.is_set():
            return False
        loop.call_soon_threadsafe(queue.put_nowait, item)
        return True

    def emit(item: T) -> bool:
        return put((item,))

    def track(stream: Closable) -> bool:
        holder["stream"] = stream
        if closed.is_set():
            stream.close()
            return False
        return True

    def run() -> None:
        try:
            produce(emit, track)
        except errors.APIError as e:
            put(ContainerRuntimeError(str(e.explanation or e)))
        except (
            errors.DockerException,
            requests.exceptions.RequestException,
            OSError,
            ValueError,
        ) as e:
            put(ContainerRuntimeError(str(e)))
        finally:
            put(None)

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item[0]
    finally:
        closed.set()
        stream = holder.get("stream")
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - the socket may be gone already
                pass
