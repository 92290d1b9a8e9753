"""`podplane-bench grpc-costs`: the CPU one unary gRPC call costs its client and its server with the
installed grpcio, on a bare echo (no podplane code on either side): a grpc.aio server in a process
of its own, and grpc.aio clients in this one, IN_FLIGHT calls at a time over CONNECTIONS
connections, as the load test's clients make theirs.

Every podplane call pays this, once at each end; it is most of the apiserver's CPU per pod. It is
why requirements.txt pins grpcio 1.78: run this with another grpcio installed to compare."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

import grpc

from bench.common.results import write_json
from podplane.apimachinery.json_types import JSONObject

IN_FLIGHT = 32
CONNECTIONS = 4
MESSAGE_BYTES = 800  # about a pod
WARM_UP_CALLS = 500
METHOD = "/bench.Echo/Echo"
CPU_METHOD = "/bench.Echo/Cpu"  # the server's own CPU seconds so far, as text


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "grpc-costs",
        help="CPU per unary gRPC call, client and server, with the installed grpcio",
        description=__doc__,
    )
    p.add_argument("--calls", type=positive, default=10000, help="calls measured")
    p.add_argument("--out", help="also write the result as JSON here")


class _Echo(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Echoes METHOD's requests; answers CPU_METHOD with its own process's CPU seconds, read with
    the clock's nanosecond resolution (/proc's counters tick every 10 ms, more than a short
    run's whole cost)."""

    def __init__(self) -> None:
        async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return request

        async def cpu(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return repr(time.process_time()).encode()

        self._handlers = {
            METHOD: grpc.unary_unary_rpc_method_handler(echo),
            CPU_METHOD: grpc.unary_unary_rpc_method_handler(cpu),
        }

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        return self._handlers.get(handler_call_details.method)


async def _serve() -> None:
    """The server process: prints its port, serves until stdin closes."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Echo(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await server.stop(0)


async def _server_cpu(target: str) -> float:
    async with grpc.aio.insecure_channel(target) as channel:
        return float(await channel.unary_unary(CPU_METHOD)(b""))


async def _calls(target: str, calls: int) -> None:
    channels = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(CONNECTIONS)
    ]
    try:
        echoes = [channel.unary_unary(METHOD) for channel in channels]
        payload = b"x" * MESSAGE_BYTES
        left = calls

        async def caller(k: int) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                if await echoes[k % CONNECTIONS](payload) != payload:
                    raise RuntimeError("the echo server answered something else")

        await asyncio.gather(*(caller(k) for k in range(IN_FLIGHT)))
    finally:
        for channel in channels:
            await channel.close()


def measure(calls: int) -> JSONObject:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.apiserver.grpc_costs", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.strip():
            raise RuntimeError(f"the echo server did not start (exit {server.wait(10)})")
        target = f"127.0.0.1:{int(line)}"
        asyncio.run(_calls(target, WARM_UP_CALLS))
        server_before = asyncio.run(_server_cpu(target))
        client_before = time.process_time()
        started = time.monotonic()
        asyncio.run(_calls(target, calls))
        wall = time.monotonic() - started
        client_cpu = time.process_time() - client_before
        server_cpu = asyncio.run(_server_cpu(target)) - server_before
    finally:
        server.communicate(timeout=30)  # closes its stdin: it stops
    return {
        "grpcio": grpc.__version__,
        "calls": calls,
        "in_flight": IN_FLIGHT,
        "connections": CONNECTIONS,
        "message_bytes": MESSAGE_BYTES,
        "calls_per_second": calls / wall,
        "server_cpu_us_per_call": server_cpu / calls * 1e6,
        "client_cpu_us_per_call": client_cpu / calls * 1e6,
    }


def report(result: JSONObject) -> str:
    return (
        f"grpcio {result['grpcio']}: a unary call costs its server "
        f"{result['server_cpu_us_per_call']:.0f} µs and its client "
        f"{result['client_cpu_us_per_call']:.0f} µs of CPU ({result['calls']} calls, "
        f"{result['message_bytes']}-byte messages, {result['in_flight']} in flight over "
        f"{result['connections']} connections, {result['calls_per_second']:.0f} calls/s)"
    )


def run(args: argparse.Namespace) -> int:
    result = measure(args.calls)
    print(report(result))
    if args.out:
        write_json(args.out, result)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    asyncio.run(_serve())
