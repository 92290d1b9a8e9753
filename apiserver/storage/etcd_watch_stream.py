"""etcd's Watch stream, shared by every watch of the apiserver and read on a thread of its own.

One Watch call carries every watch, each under a watch_id of its own, as etcd's clientv3
multiplexes the watchers of a client over one gRPC stream (watchGRPCStream), so the apiserver
holds one stream (and one reading thread) for its thirty-odd resources rather than one each. A
blocked synchronous gRPC read wakes ten times a second (grpc's MAXIMUM_WAIT_TIMEOUT), so one
thread per watch cost the apiserver at rest a third of its CPU; the one thread left waits for its
responses without that poll (_wait_without_polling). The client picks each watch_id
(etcd 3.4 takes it from the create request), so a response is routed without waiting for the
created answer of the watches before it.

Why a thread: read with grpc.aio, each response costs a trip through gRPC's core and two or three
turns of the apiserver's event loop. etcd sends most events one per response, so under a few
hundred writes a second, with the loop busy serving them, the watch cache fell seconds behind etcd
(12.6 s at 300 writers), and every watcher with it. Here a thread blocks on the stream (a
synchronous gRPC call, the GIL released while it waits) and hands each response to the loop of
the watch it belongs to, where the reader drains whatever has arrived without waiting."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator

import grpc
import grpc._common

from podplane.api.etcd import rpc_pb2 as pb
from podplane.api.etcd import rpc_pb2_grpc as pb_grpc

# How long a blocked synchronous gRPC call waits between looks: gRPC's 0.1 s is there so that a main
# thread blocked in a call still runs its signal handlers (grpc/grpc#19464). Here only the
# watch thread blocks in one, a daemon thread that no signal handler runs on, woken by the
# condition it waits on when a response comes: at rest it woke ten times a second for nothing.
BLOCKED_CALL_WAIT = 30.0


def _wait_without_polling() -> None:
    """The process's synchronous gRPC waits look again every BLOCKED_CALL_WAIT seconds; the
    apiserver's other calls are grpc.aio's, which never took this path."""
    if not hasattr(grpc._common, "MAXIMUM_WAIT_TIMEOUT"):
        raise RuntimeError("grpc._common.MAXIMUM_WAIT_TIMEOUT is gone: see its use in grpcio")
    grpc._common.MAXIMUM_WAIT_TIMEOUT = BLOCKED_CALL_WAIT


class EtcdStreamEnded(Exception):
    """etcd ended the stream without an error status."""


class WatchStreams:
    """Opens watches on the shared stream, and a new stream once the last one has ended (an
    error, etcd gone, the channel closed): a watch on an ended stream gets what ended it."""

    def __init__(self, stub: pb_grpc.WatchStub) -> None:
        _wait_without_polling()
        self._stub = stub
        self._lock = threading.Lock()
        self._stream: _SharedStream | None = None

    def open(self, create: pb.WatchCreateRequest) -> Watch:
        """A watch from `create` (its watch_id is set here); call from the loop that reads it."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._stream is None or self._stream.ended is not None:
                self._stream = _SharedStream(self._stub)
            stream = self._stream
        return stream.add(create, loop)


class Watch:
    """One watch on the shared stream: read() returns etcd's responses for it in order and raises
    what ended the stream (grpc.RpcError, or EtcdStreamEnded); cancel() ends it from the loop."""

    def __init__(self, stream: _SharedStream, watch_id: int, loop: asyncio.AbstractEventLoop):
        self.watch_id = watch_id
        self._stream = stream
        self._loop = loop
        self._received: asyncio.Queue[pb.WatchResponse | BaseException] = asyncio.Queue()

    def hand_over(self, item: pb.WatchResponse | BaseException) -> None:
        """From the reading thread: `item` queued for read() on the watch's loop."""
        try:
            self._loop.call_soon_threadsafe(self._received.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is reading any more
            self._stream.remove(self.watch_id)

    async def read(self) -> pb.WatchResponse:
        item = await self._received.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> None:
        self._stream.remove(self.watch_id)


class _SharedStream:
    """One Watch call and the thread that reads it: responses go to their watch by watch_id;
    what ends the call ends every watch on it."""

    def __init__(self, stub: pb_grpc.WatchStub) -> None:
        self.ended: BaseException | None = None
        self._lock = threading.Lock()
        self._watches: dict[int, Watch] = {}
        self._next_id = 1
        # What is sent on the request side, in order; None closes it (once the call has ended:
        # closing it earlier would end etcd's stream).
        self._requests: queue.SimpleQueue[pb.WatchRequest | None] = queue.SimpleQueue()
        threading.Thread(target=self._pump, args=(stub,), name="etcd-watch", daemon=True).start()

    def add(self, create: pb.WatchCreateRequest, loop: asyncio.AbstractEventLoop) -> Watch:
        with self._lock:
            watch = Watch(self, self._next_id, loop)
            self._next_id += 1
            ended = self.ended
            if ended is None:
                self._watches[watch.watch_id] = watch
                request = pb.WatchRequest(create_request=create)
                request.create_request.watch_id = watch.watch_id
                self._requests.put(request)
        if ended is not None:  # it ended since WatchStreams looked
            watch.hand_over(ended)
        return watch

    def remove(self, watch_id: int) -> None:
        """The watch canceled; etcd told, unless the stream has ended (nothing to cancel) or etcd
        canceled it itself (a cancel of an unknown watch_id is answered with nothing)."""
        with self._lock:
            if self._watches.pop(watch_id, None) is not None and self.ended is None:
                self._requests.put(
                    pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=watch_id))
                )

    def _request_iterator(self) -> Iterator[pb.WatchRequest]:
        while (request := self._requests.get()) is not None:
            yield request

    def _pump(self, stub: pb_grpc.WatchStub) -> None:
        ended: BaseException
        try:
            for response in stub.Watch(self._request_iterator()):
                with self._lock:
                    watch = self._watches.get(response.watch_id)
                if watch is not None:  # else canceled: what etcd sent before the cancel
                    watch.hand_over(response)
            ended = EtcdStreamEnded("etcd closed the watch stream")
        except grpc.RpcError as e:
            ended = e
        with self._lock:
            self.ended = ended
            watches = list(self._watches.values())
            self._watches.clear()
        self._requests.put(None)
        for watch in watches:
            watch.hand_over(ended)
