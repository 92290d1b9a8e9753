"""What every podplane process shares: logging, a gRPC server with health and reflection, and a
graceful stop on SIGTERM/SIGINT (health NOT_SERVING first, then server.stop(grace))."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from podplane.client import CHANNEL_OPTIONS

log = logging.getLogger(__name__)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class Server:
    """A grpc.aio server on host:port with the health and reflection services registered.

    `register` adds the component's own servicers; `service_names` are listed by reflection."""

    def __init__(self, address: str, register: Callable[[grpc.aio.Server], None] | None = None,
                 service_names: Iterable[str] = (),
                 credentials: grpc.ServerCredentials | None = None,
                 authentication: grpc.aio.ServerInterceptor | None = None,
                 interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
                 max_receive_message_length: int | None = None) -> None:
        options = [*CHANNEL_OPTIONS, ("grpc.so_reuseport", 0)]
        if max_receive_message_length is not None:  # the apiserver's request body limit
            options = [o for o in options if o[0] != "grpc.max_receive_message_length"]
            options.append(("grpc.max_receive_message_length", max_receive_message_length))
        # Authentication first: every other interceptor knows the caller.
        self.server = grpc.aio.server(
            interceptors=[*([authentication] if authentication else []), *interceptors],
            options=options)
        if register:
            register(self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                 reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        self.port = self.add_port(address, credentials)

    def add_port(self, address: str, credentials: grpc.ServerCredentials | None = None) -> int:
        """Listens on address too (TLS with `credentials`, else plaintext); returns the port."""
        port = (self.server.add_secure_port(address, credentials) if credentials is not None
                else self.server.add_insecure_port(address))
        if port == 0:
            raise RuntimeError(f"cannot listen on {address}")
        return int(port)

    async def start(self) -> None:
        await self.server.start()

    async def set_serving(self, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set("", status)

    async def stop(self, grace: float = 5.0) -> None:
        await self.set_serving(False)
        await self.server.stop(grace)


async def wait_for_signal() -> None:
    """Returns on the first SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def run_service(prog: str, serve: Callable[[argparse.Namespace], Coroutine[Any, Any, None]],
                args: argparse.Namespace) -> int:
    """Runs a service's serve(args) until it returns; a start-up failure (e.g. a port that is
    taken) is one line naming the program, and exit status 1."""
    configure_logging(args.log_level)
    try:
        asyncio.run(serve(args))
    except RuntimeError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    return 0
