"""The client's side of a request stream (Pods/BindStream): requests of one unary method sent over
one stream, each answered as its unary call would be. A busy client's requests cost a few stream
messages rather than a call each: those queued while a message is being written, or within a few
milliseconds of the last (the linger), go together in the next one.

For the caller, `call(request)` is the unary call: it returns when the request succeeded and
raises the grpc.aio.AioRpcError the call would have raised (NOT_FOUND, ABORTED, ...) when it
failed; a refusal under overload is retried after its retry-after, as ResourceClient's calls are
(podplane.client.retry_after); a request still unanswered after `timeout` seconds fails with
DEADLINE_EXCEEDED. A stream that breaks fails the requests it carried and had not answered with
its own status (UNAVAILABLE, typically), as a connection that breaks fails the calls in flight on
it: whether such a request was done is unknown, as for those calls. The next request opens a new
stream."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import grpc
from google.protobuf.message import Message

from podplane.api.meta.v1 import meta_pb2
from podplane.client.metered_channel import MethodMetrics
from podplane.client.retry_after import RETRY_AFTER_KEY, call_with_retry

R = TypeVar("R", bound=Message)

# Requests per stream message at most: a message stays well under the apiserver's 3 MiB limit
# and its answers come back in pieces.
MAX_BATCH = 256
# A busy stream's messages at most this often (seconds): a scheduler binding a pod every
# millisecond or two otherwise sent a message per bind, each costing its writer about as much
# as the bind's own work. An idle stream sends at once.
DEFAULT_LINGER = 0.005


def rpc_error(code: grpc.StatusCode, details: str, retry_after: int = 0) -> grpc.aio.AioRpcError:
    """The error a unary call would have raised."""
    trailing = grpc.aio.Metadata((RETRY_AFTER_KEY, str(retry_after))) if retry_after else None
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing or grpc.aio.Metadata(), details)


_CODES = {code.value[0]: code for code in grpc.StatusCode}


class _Request(Generic[R]):
    __slots__ = ("answer", "request", "sent_at")

    def __init__(self, request: R, answer: asyncio.Future[None]) -> None:
        self.request, self.answer, self.sent_at = request, answer, time.monotonic()


class _Stream(Generic[R]):
    """One stream and the requests sent on it that it has not answered yet."""

    __slots__ = ("call", "ended", "error", "sent")

    def __init__(self, call: grpc.aio.StreamStreamCall) -> None:
        self.call = call
        self.sent: dict[int, _Request[R]] = {}
        self.ended = False
        # Why this side cancelled the stream, when it did.
        self.error: grpc.aio.AioRpcError | None = None

    def cancel(self, error: grpc.aio.AioRpcError) -> None:
        self.error = self.error or error
        self.call.cancel()

    @property
    def usable(self) -> bool:
        return not self.ended and not self.call.done()

    def fail(
        self,
        error: grpc.aio.AioRpcError,
        record: Callable[[grpc.StatusCode, _Request[R]], None],
    ) -> None:
        """Fails every request sent on it and not answered, with `error`."""
        for request in self.sent.values():
            if not request.answer.done():
                request.answer.set_exception(error)
            record(error.code(), request)
        self.sent.clear()


class RequestStream(Generic[R]):
    """Requests sent over streams `open_stream()` opens, one at a time. `add(message, id,
    request)` puts one request into a stream message `new_message()` made."""

    def __init__(
        self,
        open_stream: Callable[[], grpc.aio.StreamStreamCall],
        new_message: Callable[[], Message],
        add: Callable[[Message, int, R], None],
        *,
        timeout: float | None,
        metrics: MethodMetrics | None = None,
        linger: float = DEFAULT_LINGER,
    ) -> None:
        """`linger`: after a message, the next waits until this many seconds have passed since,
        gathering what is queued meanwhile (0: each is written as soon as the last is)."""
        self._open_stream, self._new_message, self._add = open_stream, new_message, add
        self._timeout = timeout
        self._linger = linger
        self._last_write = -float("inf")
        self._metrics = metrics
        self._ids = itertools.count(1)
        self._queued: dict[int, _Request[R]] = {}
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._stream: _Stream[R] | None = None
        self._readers: set[asyncio.Task[None]] = set()
        self._closed = False

    async def call(self, request: R) -> None:
        """Sends the request and waits for its answer; raises as its unary call would."""
        await call_with_retry(lambda timeout: self._send(request, timeout), self._timeout)

    async def _send(self, request: R, timeout: float | None) -> None:
        if self._closed:
            raise _closed()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[None] = loop.create_future()
        self._queued[next(self._ids)] = _Request(request, answer)
        self._wake.set()
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        expiry = loop.call_later(timeout, _expire, answer, timeout) if timeout is not None else None
        try:
            await answer
        finally:
            if expiry is not None:
                expiry.cancel()

    async def _write(self) -> None:
        """Writes what is queued, in batches, on the open stream (opening one when there is
        none); what is queued while a message is being written, or lingered for, goes in the
        next."""
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            # Written a moment ago, and the next message has room: gather for the rest of it.
            wait = self._last_write + self._linger - loop.time()
            if wait > 0 and len(self._queued) < MAX_BATCH:
                await asyncio.sleep(wait)
            self._wake.clear()
            if not self._queued:
                continue
            stream = self._stream
            if stream is None or not stream.usable:
                stream = self._stream = _Stream(self._open_stream())
                reader = loop.create_task(self._read(stream))
                self._readers.add(reader)
                reader.add_done_callback(self._readers.discard)
            message = self._new_message()
            batch = list(itertools.islice(self._queued.items(), MAX_BATCH))
            for request_id, request in batch:
                del self._queued[request_id]
                if request.answer.done():  # given up on (timed out, cancelled) meanwhile
                    continue
                self._add(message, request_id, request.request)
                stream.sent[request_id] = request
            if self._queued:  # more than a message holds: the next follows (at once if full)
                self._wake.set()
            self._last_write = loop.time()
            try:
                await stream.call.write(message)
            except Exception:  # noqa: BLE001 - the stream ended: whatever it ended with
                stream.cancel(_broken())
                if stream.ended:  # its reader is gone: this batch is the writer's to fail
                    stream.fail(_broken(), self._record)

    async def _read(self, stream: _Stream[R]) -> None:
        """Answers the requests sent on `stream` as their answers come; once it ends, fails those
        it did not answer with its status."""
        error: grpc.aio.AioRpcError | None = None
        try:
            async for message in stream.call:
                for answer in message.answers:
                    self._answer(stream.sent.pop(answer.id, None), answer)
        except grpc.aio.AioRpcError as e:
            error = rpc_error(e.code(), e.details() or "")
        except asyncio.CancelledError:  # closed, or cancelled by the writer
            error = stream.error or _closed()
            raise
        finally:
            stream.ended = True
            stream.fail(error or _broken(), self._record)

    def _answer(self, request: _Request[R] | None, answer: meta_pb2.RequestAnswer) -> None:
        if request is None:
            return
        code = _CODES.get(answer.code, grpc.StatusCode.UNKNOWN)
        self._record(code, request)
        if request.answer.done():
            return
        if code == grpc.StatusCode.OK:
            request.answer.set_result(None)
        else:
            request.answer.set_exception(
                rpc_error(code, answer.message, answer.retry_after_seconds)
            )

    def _record(self, code: grpc.StatusCode, request: _Request[R]) -> None:
        if self._metrics is not None:
            self._metrics.record(code, time.monotonic() - request.sent_at)

    async def close(self) -> None:
        """Ends the stream; requests not answered yet fail (CANCELLED)."""
        self._closed = True
        if self._stream is not None:
            self._stream.cancel(_closed())
        tasks = [t for t in (self._writer, *self._readers) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        error = _closed()
        for request in self._queued.values():
            if not request.answer.done():
                request.answer.set_exception(error)
        self._queued.clear()


def _broken() -> grpc.aio.AioRpcError:
    return rpc_error(grpc.StatusCode.UNAVAILABLE, "the request stream ended")


def _closed() -> grpc.aio.AioRpcError:
    return rpc_error(grpc.StatusCode.CANCELLED, "the request stream was closed")


def _expire(answer: asyncio.Future[None], timeout: float) -> None:
    if not answer.done():
        answer.set_exception(
            rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g} s")
        )
