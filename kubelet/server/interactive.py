"""Kubelet/ContainerExecInteractive and ContainerAttachInteractive's work (kubelet server.go
getExec and getAttach with streams): relays the caller's stdin, terminal resizes and end of stdin
to the runtime's interactive process while its output flows back, then its exit code.
KubeletServicer (kubelet/server/servicer.py) finds the container and serves them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from kubelet.runtime.streams import InteractiveProcess, TerminalSize
from podplane.api.kubelet.v1 import kubelet_pb2

Request = kubelet_pb2.InteractiveRequest
Response = kubelet_pb2.InteractiveResponse
# How long the call stays open after the exit code for the caller to half-close (ContainerSession
# does as soon as it reads the exit code). Ending the call first races the caller's last writes
# (stdin, its end, a resize): grpcio then fails the caller's whole call as INTERNAL ("Internal
# error from Core"), losing the exit code, and kubectl falls back to the logs, printing twice.
HALF_CLOSE_WAIT = 2.0


async def _feed(process: InteractiveProcess, requests: AsyncIterator[Request], stdin: bool) -> None:
    """Hands the caller's messages to the process; the end of the requests ends stdin."""
    try:
        async for request in requests:
            kind = request.WhichOneof("kind")
            if kind == "stdin":
                await process.write_stdin(request.stdin)
            elif kind == "resize":
                await process.resize(TerminalSize(request.resize.width, request.resize.height))
            elif kind == "stdin_close":
                await process.close_stdin()
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        return  # the caller has gone: the output side ends the call
    if stdin:
        with contextlib.suppress(OSError):  # the process may have ended and closed it
            await process.close_stdin()


async def run_interactive(
    start: Callable[[], Awaitable[InteractiveProcess]],
    requests: AsyncIterator[Request],
    stdin: bool,
) -> AsyncIterator[Response]:
    """`started`, the output as it comes, and `exit` last once the process has ended."""
    process = await start()
    feeder = asyncio.create_task(_feed(process, requests, stdin), name="interactive-stdin")
    try:
        yield Response(started=kubelet_pb2.InteractiveStarted(tty=process.tty))
        async for out in process.output():
            if out.exit_code is not None:
                yield Response(exit=kubelet_pb2.InteractiveExit(exit_code=out.exit_code))
                await asyncio.wait({feeder}, timeout=HALF_CLOSE_WAIT)
                return
            if out.stream == "stderr":
                yield Response(stderr=out.data)
            else:
                yield Response(stdout=out.data)
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        await process.close()
