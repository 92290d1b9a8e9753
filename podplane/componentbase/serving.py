"""What every podplane process shares: logging, a gRPC server with health and reflection, and a
graceful stop on SIGTERM/SIGINT (health NOT_SERVING first, then server.stop(grace))."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Iterable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from podplane.client.clientset import CHANNEL_OPTIONS
from podplane.componentbase.gc_tuning import tune_garbage_collector

log = logging.getLogger(__name__)

# Clients ping every 30 s, with or without calls (CHANNEL_OPTIONS). gRPC's server takes a ping on
# a connection with no data since the last as misbehaving unless 5 min have passed, and after two
# it sends GOAWAY "too_many_pings", failing the calls starting then (an integration test's create
# on a client idle for a while did). Kubernetes' apiserver never refuses keepalive pings.
KEEPALIVE_ENFORCEMENT = [
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),  # 0: never GOAWAY for pings
]


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


class MethodTable(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Every method of the servicers added to it (the generated add_*Servicer_to_server functions
    take it for a server), served to gRPC as one generic handler: one dict lookup per call.

    Added as registered methods, as those functions do to a server, each method has a call request
    of its own outstanding in gRPC's core, and grpc.aio's accept loop waits on all of them again
    after every call it takes (asyncio.wait over one future per method: 98 in the apiserver, about
    70 us of CPU per call, a tenth of the apiserver's CPU in the scheduler load test). As a generic
    handler, a server has one call request outstanding, whatever the method."""

    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}
        self._generic: list[grpc.GenericRpcHandler] = []

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            self.handlers[f"/{service}/{name}"] = handler

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        """The same methods again (the generated code adds both), or, from code generated before
        registered methods existed, the only way in: asked after the table."""
        self._generic.extend(handlers)

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = self.handlers.get(handler_call_details.method)
        if handler is not None or not self._generic:
            return handler
        for generic in self._generic:
            handler = generic.service(handler_call_details)
            if handler is not None:
                return handler
        return None


class Server:
    """A grpc.aio server on host:port with the health and reflection services registered.

    `register` adds the component's own servicers; `service_names` are listed by reflection.

    `acceptors` > 1 runs that many grpc.aio servers on the one port, sharing the servicers and
    interceptors (so one in-flight count), the kernel spreading connections over them
    (SO_REUSEPORT). grpc.aio asks gRPC's core for a server's next call only once the previous one
    has reached the event loop. On a busy loop that is a few loop turns per call, so calls queue in
    gRPC's core, unseen by any interceptor (the apiserver's overload guard could not refuse them,
    and creates waited 1 s where their handler took 6 ms). Each acceptor adds one more call per
    turn.

    `register` adds the servicers to a MethodTable, not to the grpc.aio servers themselves: see
    there why."""

    def __init__(
        self,
        address: str,
        register: Callable[[MethodTable], None] | None = None,
        service_names: Iterable[str] = (),
        credentials: grpc.ServerCredentials | None = None,
        authentication: grpc.aio.ServerInterceptor | None = None,
        interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
        max_receive_message_length: int | None = None,
        acceptors: int = 1,
    ) -> None:
        if acceptors < 1:
            raise ValueError(f"acceptors: must be >= 1, got {acceptors}")
        # One server refuses a taken port by itself; several must share theirs (checked in
        # add_port).
        options = [
            *CHANNEL_OPTIONS,
            *KEEPALIVE_ENFORCEMENT,
            ("grpc.so_reuseport", int(acceptors > 1)),
        ]
        if max_receive_message_length is not None:  # the apiserver's request body limit
            options = [o for o in options if o[0] != "grpc.max_receive_message_length"]
            options.append(("grpc.max_receive_message_length", max_receive_message_length))
        # Authentication first: every other interceptor knows the caller.
        chain = [*([authentication] if authentication else []), *interceptors]
        self.health = health.aio.HealthServicer()
        names = [
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        methods = MethodTable()
        if register:
            register(methods)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, methods)
        self.servers: list[grpc.aio.Server] = []
        for _ in range(acceptors):
            server = grpc.aio.server(interceptors=chain, options=options)
            server.add_generic_rpc_handlers((methods,))
            # Registered on the server itself: it picks its asyncio servicer by the server's type.
            reflection.enable_server_reflection(names, server)
            self.servers.append(server)
        self.port = self.add_port(address, credentials)
        # What set_serving last said (the health servicer answers SERVING until it is called).
        self.serving = True

    def add_port(self, address: str, credentials: grpc.ServerCredentials | None = None) -> int:
        """Listens on address too (TLS with `credentials`, else plaintext); returns the port."""
        host, _, port_text = address.rpartition(":")
        if len(self.servers) > 1 and port_text != "0" and not _port_free(host, int(port_text)):
            raise RuntimeError(f"cannot listen on {address}: address in use")
        port = 0
        for server in self.servers:  # port 0: the first picks one, the others join it
            bound = (
                server.add_secure_port(address, credentials)
                if credentials is not None
                else server.add_insecure_port(address)
            )
            if bound == 0:
                raise RuntimeError(f"cannot listen on {address}")
            port = int(bound)
            address = f"{host}:{port}"
        return port

    async def start(self) -> None:
        for server in self.servers:
            await server.start()

    async def set_serving(self, serving: bool) -> None:
        self.serving = serving  # read by the /healthz beside /metrics, on its own thread
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        await self.health.set("", status)

    async def stop(self, grace: float = 5.0) -> None:
        await self.set_serving(False)
        await asyncio.gather(*(server.stop(grace) for server in self.servers))


def _port_free(host: str, port: int) -> bool:
    """Whether nothing listens on host:port: a plain bind (no SO_REUSEPORT) fails on any socket
    bound there, including another process's SO_REUSEPORT one, which the servers' own binds
    would silently share."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return True  # let gRPC report the address
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError:
            return False
    return True


async def wait_for_signal() -> None:
    """Returns on the first SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_until_signal(work: Coroutine[object, None, object], name: str) -> None:
    """Runs `work` as a task named `name` until it ends or the first SIGTERM or SIGINT comes;
    its failure is raised, and it is cancelled (and awaited) when the signal stops it."""
    running = asyncio.create_task(work, name=name)
    stop = asyncio.create_task(wait_for_signal(), name="signal")
    try:
        await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()
    finally:
        for task in (running, stop):
            task.cancel()
        await asyncio.gather(running, stop, return_exceptions=True)


def run_service(
    prog: str,
    serve: Callable[[argparse.Namespace], Coroutine[object, None, None]],
    args: argparse.Namespace,
) -> int:
    """Runs a service's serve(args) until it returns; a start-up failure (e.g. a port that is
    taken) is one line naming the program, and exit status 1."""
    configure_logging(args.log_level)
    tune_garbage_collector()
    try:
        asyncio.run(serve(args))
    except RuntimeError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    return 0
