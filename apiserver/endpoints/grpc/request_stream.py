"""Request streams (Pods/BindStream): many requests of one unary method over one stream, each
served as that unary call would be and answered by its id with the status the call would have
ended with.

A unary call costs gRPC's Python layer a trip through its core and the event loop at each end
(podplane-bench grpc-costs: about 200 us of the server's CPU), more than a bind's own work. A
stream's message costs about as much, but carries every request the client had ready: a busy
scheduler's binds cost a few messages a second, not a call each.

Each request keeps its call's semantics: `serve_one`, the unary method's behavior, is wrapped by
the interceptors as a unary call's is (apiserver.endpoints.grpc.interceptors.handler_wrapping), so
each request is authorized, flow-controlled, counted and timed on its own and written as the call
would write it (a bind: its own compare-and-swap). Requests run concurrently, as calls would; their
answers go out together as they finish. A stream that ends, however it ends, cancels the requests
it still runs, as a call's end cancels its handler: a client sees those fail, never succeed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, NoReturn

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Metadata,
    Unary,
    Undecodable,
    abort,
    received_at,
)
from apiserver.endpoints.request import undecodable_error
from podplane.api.meta.v1 import meta_pb2

log = logging.getLogger(__name__)

RETRY_AFTER_KEY = "retry-after"


class RequestAborted(Exception):
    """How a request's behavior ends it with a status (RequestContext.abort)."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Metadata) -> None:
        super().__init__(details)
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


class RequestContext(grpc.aio.ServicerContext):  # type: ignore[misc]
    """The servicer context one request of a request stream is served with: its caller and
    connection are the stream's; its status is its own (abort raises RequestAborted, which its
    answer carries); it has no deadline of its own and no messages to read or write."""

    def __init__(self, stream: grpc.aio.ServicerContext) -> None:
        self._stream = stream
        self._code: grpc.StatusCode | None = None
        self._details = ""

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Metadata = ()
    ) -> NoReturn:
        self._code, self._details = code, details
        raise RequestAborted(code, details, trailing_metadata)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str:
        return self._details

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def time_remaining(self) -> float | None:
        return None

    def invocation_metadata(self) -> Sequence[tuple[str, str | bytes]] | None:
        metadata: Sequence[tuple[str, str | bytes]] | None = self._stream.invocation_metadata()
        return metadata

    def auth_context(self) -> Mapping[str, Iterable[bytes]]:
        context: Mapping[str, Iterable[bytes]] = self._stream.auth_context()
        return context

    def peer(self) -> str:
        return str(self._stream.peer())

    def peer_identities(self) -> Iterable[bytes] | None:
        identities: Iterable[bytes] | None = self._stream.peer_identities()
        return identities

    def peer_identity_key(self) -> str | None:
        key: str | None = self._stream.peer_identity_key()
        return key

    def cancelled(self) -> bool:
        return bool(self._stream.cancelled())

    def done(self) -> bool:
        return bool(self._stream.done())

    # A request has no messages, metadata or compression of its own: its answer is all it sends.
    async def read(self) -> NoReturn:
        raise NotImplementedError("a request of a request stream has no messages to read")

    async def write(self, message: object) -> NoReturn:
        raise NotImplementedError("a request of a request stream answers with its status")

    async def send_initial_metadata(self, initial_metadata: object) -> None:
        return None

    def set_trailing_metadata(self, trailing_metadata: object) -> None:
        return None

    def set_compression(self, compression: grpc.Compression) -> None:
        return None

    def disable_next_message_compression(self) -> None:
        return None


def _retry_after(metadata: Sequence[tuple[str, str | bytes]]) -> int:
    for key, value in metadata:
        if key == RETRY_AFTER_KEY:
            try:
                return max(int(float(value)), 0)
            except ValueError:
                return 0
    return 0


class RequestStream:
    """The behavior of a request-stream method: each message carries requests (its repeated
    `requests`), each an id and, in `field`, the request of the unary method `serve_one` serves."""

    def __init__(
        self,
        serve_one: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Message]],
        field: str,
    ) -> None:
        self._serve_one: Unary = serve_one
        self.field = field

    @property
    def serve_one(self) -> Unary:
        return self._serve_one

    def with_serve_one(self, serve_one: Unary) -> RequestStream:
        return RequestStream(serve_one, self.field)

    async def serve(
        self, messages: AsyncIterator[object], context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]:
        loop = asyncio.get_running_loop()
        answers = meta_pb2.RequestAnswers()
        ready = asyncio.Event()
        running: set[asyncio.Task[None]] = set()

        async def one(request_id: int, request: Message, received: float) -> None:
            received_at.set(received)  # this task's own context: the flow control reads it
            code, message, retry_after = grpc.StatusCode.OK, "", 0
            try:
                await self._serve_one(request, RequestContext(context))
            except RequestAborted as e:
                code, message = e.code, e.details
                retry_after = _retry_after(e.trailing_metadata)
            except Exception as e:  # a bug: UNKNOWN, as gRPC ends a call that raised
                log.exception("serving a request of %s failed", self.field)
                code, message = grpc.StatusCode.UNKNOWN, f"Unexpected {type(e).__name__}: {e}"
            # Into the message being gathered now (the closure sees the latest).
            answers.answers.add(
                id=request_id,
                code=code.value[0],
                message=message,
                retry_after_seconds=retry_after,
            )

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            ready.set()

        async def read() -> None:
            async for message in messages:
                if isinstance(message, Undecodable):
                    raise undecodable_error(message.reason)
                now = time.monotonic()
                for item in message.requests:  # type: ignore[attr-defined]
                    task = loop.create_task(one(item.id, getattr(item, self.field), now))
                    running.add(task)
                    task.add_done_callback(finished)

        reader = loop.create_task(read())
        reader.add_done_callback(lambda _: ready.set())
        try:
            while True:
                await ready.wait()
                ready.clear()
                # What finished while the last message was being written goes in the next.
                if answers.answers:
                    out, answers = answers, meta_pb2.RequestAnswers()
                    yield out
                if reader.done() and not running:
                    break
            error = reader.exception()
            if isinstance(error, errors.APIError):
                await abort(context, error.code, error.message)
            if error is not None:
                raise error
        finally:
            reader.cancel()
            for task in running:
                task.cancel()
