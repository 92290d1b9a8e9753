"""The kubelet's interactive streams as objects a front door drives (Kubelet/
ContainerExecInteractive, ContainerAttachInteractive and PortForward, on a KubeletStub).

`ContainerSession.exec(...)` / `.attach(...)` return once the kubelet has started the process (or
raise KubeletStreamError with the kubelet's status code and message); then `send_stdin`, `resize`
and `close_stdin` go up while `async for stream, data in session` yields ("stdout" | "stderr",
bytes) until the process ends, after which `exit_code` holds its exit code (None if it was not
reported: an attach whose process runs on). `close()` cancels the call.

`PortForwardConnection.open(...)` returns once the kubelet has connected to the pod's port (or
raises KubeletStreamError, whose message is Kubernetes' "error forwarding port ..."); then `read`
(b"" once the pod has closed its side), `write`, `close_write` (half-close) and `close`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Generic, TypeVar

import grpc
from google.protobuf.message import Message

from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc

Metadata = Sequence[tuple[str, str]]
# Bytes per message up: a SPDY data frame may carry 16 MiB, a gRPC message 4 MiB by default.
CHUNK = 64 * 1024

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)


class KubeletStreamError(Exception):
    """The kubelet refused or ended the stream: its status code and message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def of(cls, error: grpc.aio.AioRpcError) -> KubeletStreamError:
        return cls(error.code(), error.details() or error.code().name)


class _Call(Generic[Request, Response]):
    """A bidirectional call whose writes are serialized and whose reads end with None."""

    def __init__(self, call: grpc.aio.StreamStreamCall) -> None:
        self.call = call
        self._write_lock = asyncio.Lock()
        self._done_writing = False

    async def write(self, message: Request) -> None:
        async with self._write_lock:
            if self._done_writing:
                return
            try:
                await self.call.write(message)
            except grpc.aio.AioRpcError as e:
                raise KubeletStreamError.of(e) from None
            except asyncio.InvalidStateError:
                self._done_writing = True  # the call has ended; its reads say how

    async def done_writing(self) -> None:
        async with self._write_lock:
            if not self._done_writing:
                self._done_writing = True
                with contextlib.suppress(asyncio.InvalidStateError, grpc.aio.AioRpcError):
                    await self.call.done_writing()

    async def read(self) -> Response | None:
        try:
            message = await self.call.read()
        except grpc.aio.AioRpcError as e:
            raise KubeletStreamError.of(e) from None
        return None if message is grpc.aio.EOF else message

    def cancel(self) -> None:
        self.call.cancel()


class ContainerSession:
    def __init__(
        self,
        call: _Call[kubelet_pb2.InteractiveRequest, kubelet_pb2.InteractiveResponse],
        tty: bool,
    ) -> None:
        self._call = call
        self.tty = tty
        self.exit_code: int | None = None

    @classmethod
    async def exec(
        cls,
        stub: kubelet_pb2_grpc.KubeletStub,
        *,
        namespace: str,
        pod_name: str,
        container: str,
        command: Sequence[str],
        pod_uid: str = "",
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        tty: bool = False,
        metadata: Metadata | None = None,
    ) -> ContainerSession:
        """Runs the command in the container; `stub` is a kubelet_pb2_grpc.KubeletStub."""
        opened = kubelet_pb2.InteractiveOpen(
            namespace=namespace,
            pod_name=pod_name,
            pod_uid=pod_uid,
            container=container,
            command=list(command),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            tty=tty,
        )
        return await cls._start(stub.ContainerExecInteractive(metadata=metadata), opened)

    @classmethod
    async def attach(
        cls,
        stub: kubelet_pb2_grpc.KubeletStub,
        *,
        namespace: str,
        pod_name: str,
        container: str,
        pod_uid: str = "",
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        metadata: Metadata | None = None,
    ) -> ContainerSession:
        """Attaches to the container's running process (its own terminal, if it has one)."""
        opened = kubelet_pb2.InteractiveOpen(
            namespace=namespace,
            pod_name=pod_name,
            pod_uid=pod_uid,
            container=container,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
        )
        return await cls._start(stub.ContainerAttachInteractive(metadata=metadata), opened)

    @classmethod
    async def _start(
        cls, grpc_call: grpc.aio.StreamStreamCall, opened: kubelet_pb2.InteractiveOpen
    ) -> ContainerSession:
        call = _Call[kubelet_pb2.InteractiveRequest, kubelet_pb2.InteractiveResponse](grpc_call)
        try:
            await call.write(kubelet_pb2.InteractiveRequest(open=opened))
            first = await call.read()
        except BaseException:
            call.cancel()
            raise
        if first is None or first.WhichOneof("kind") != "started":
            call.cancel()
            raise KubeletStreamError(
                grpc.StatusCode.INTERNAL, "the kubelet did not start the stream"
            )
        return cls(call, first.started.tty)

    async def send_stdin(self, data: bytes) -> None:
        for start in range(0, len(data), CHUNK):
            await self._call.write(
                kubelet_pb2.InteractiveRequest(stdin=data[start : start + CHUNK])
            )

    async def resize(self, width: int, height: int) -> None:
        await self._call.write(
            kubelet_pb2.InteractiveRequest(
                resize=kubelet_pb2.TerminalSize(width=width, height=height)
            )
        )

    async def close_stdin(self) -> None:
        await self._call.write(kubelet_pb2.InteractiveRequest(stdin_close=kubelet_pb2.StdinClose()))

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        return self._output()

    async def _output(self) -> AsyncIterator[tuple[str, bytes]]:
        while (message := await self._call.read()) is not None:
            kind = message.WhichOneof("kind")
            if kind == "stdout":
                yield "stdout", message.stdout
            elif kind == "stderr":
                yield "stderr", message.stderr
            elif kind == "exit":
                self.exit_code = message.exit.exit_code
                # Nothing more goes up: the kubelet ends the call once told so (interactive.py).
                await self._call.done_writing()

    async def close(self) -> None:
        self._call.cancel()


class PortForwardConnection:
    def __init__(
        self, call: _Call[kubelet_pb2.PortForwardRequest, kubelet_pb2.PortForwardResponse]
    ) -> None:
        self._call = call
        self._eof = False

    @classmethod
    async def open(
        cls,
        stub: kubelet_pb2_grpc.KubeletStub,
        *,
        namespace: str,
        pod_name: str,
        port: int,
        pod_uid: str = "",
        metadata: Metadata | None = None,
    ) -> PortForwardConnection:
        call = _Call[kubelet_pb2.PortForwardRequest, kubelet_pb2.PortForwardResponse](
            stub.PortForward(metadata=metadata)
        )
        try:
            await call.write(
                kubelet_pb2.PortForwardRequest(
                    open=kubelet_pb2.PortForwardOpen(
                        namespace=namespace, pod_name=pod_name, pod_uid=pod_uid, port=port
                    )
                )
            )
            first = await call.read()
        except BaseException:
            call.cancel()
            raise
        if first is None or first.WhichOneof("kind") != "connected":
            call.cancel()
            raise KubeletStreamError(
                grpc.StatusCode.INTERNAL, "the kubelet did not connect to the port"
            )
        return cls(call)

    async def read(self) -> bytes:
        """The pod's next bytes; b"" once it has closed its side. Raises KubeletStreamError if
        the kubelet fails meanwhile."""
        while not self._eof:
            message = await self._call.read()
            if message is None:
                self._eof = True
            elif message.WhichOneof("kind") == "data" and message.data:
                return bytes(message.data)
        return b""

    async def write(self, data: bytes) -> None:
        for start in range(0, len(data), CHUNK):
            await self._call.write(kubelet_pb2.PortForwardRequest(data=data[start : start + CHUNK]))

    async def close_write(self) -> None:
        await self._call.done_writing()

    async def close(self) -> None:
        self._call.cancel()
