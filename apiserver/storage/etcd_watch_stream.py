"""etcd's Watch stream, read on a thread of its own.

Read with grpc.aio, each response costs a trip through gRPC's core and two or three turns of the
apiserver's event loop. etcd sends most events one per response, so under a few hundred writes a
second, with the loop busy serving them, the watch cache fell seconds behind etcd (12.6 s at 300
writers), and every watcher with it. Here a thread blocks on the stream (a synchronous gRPC call,
the GIL released while it waits) and hands each response to the loop, where the reader drains
whatever has arrived without waiting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import grpc

from podplane.api.etcd import rpc_pb2 as pb
from podplane.api.etcd import rpc_pb2_grpc as pb_grpc


class EtcdStreamEnded(Exception):
    """etcd ended the stream without an error status."""


class ThreadedWatchStream:
    """One Watch call: `create` is sent first; read() returns etcd's responses in order and raises
    what ended the stream (grpc.RpcError, or EtcdStreamEnded); cancel() ends it from the loop."""

    def __init__(self, stub: pb_grpc.WatchStub, create: pb.WatchRequest) -> None:
        self._loop = asyncio.get_running_loop()
        self._received: asyncio.Queue[pb.WatchResponse | BaseException] = asyncio.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._call: grpc.Call | None = None
        threading.Thread(
            target=self._pump, args=(stub, create), name="etcd-watch", daemon=True
        ).start()

    def _requests(self, create: pb.WatchRequest) -> Iterator[pb.WatchRequest]:
        yield create
        self._stop.wait()  # the request side stays open: closing it would end etcd's stream

    def _pump(self, stub: pb_grpc.WatchStub, create: pb.WatchRequest) -> None:
        ended: BaseException
        try:
            with self._lock:
                if self._stop.is_set():
                    return
                self._call = stub.Watch(self._requests(create))
            for response in self._call:
                self._hand_over(response)
            ended = EtcdStreamEnded("etcd closed the watch stream")
        except grpc.RpcError as e:
            ended = e
        self._hand_over(ended)

    def _hand_over(self, item: pb.WatchResponse | BaseException) -> None:
        try:
            self._loop.call_soon_threadsafe(self._received.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is reading any more
            self.cancel()

    async def read(self) -> pb.WatchResponse:
        item = await self._received.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> None:
        with self._lock:
            self._stop.set()
            if self._call is not None:
                self._call.cancel()
