"""python -m controller --server HOST:PORT [--health-port 10257] [--controllers namespace,...]
       [--metrics-bind-address 0.0.0.0:10252]

The controller-manager: runs the cluster's controllers against the apiserver. Its health service
reports SERVING while they run; SIGTERM stops it gracefully."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from controller.manager import CONTROLLERS, ControllerManager
from podplane import flags
from podplane.client import Client
from podplane.metrics import serve_metrics
from podplane.serving import Server, run_service, wait_for_signal

log = logging.getLogger("controller-manager")


def _controllers(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTROLLERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown controller(s) {unknown or value!r}; known: {', '.join(CONTROLLERS)}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="controller-manager",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, type=flags.address,
                        help="the apiserver's gRPC address, HOST:PORT")
    parser.add_argument("--health-port", type=flags.port, default=10257,
                        help="port of the gRPC health service (default 10257; 0 picks one)")
    parser.add_argument("--bind-address", default="0.0.0.0",
                        help="address the health service listens on (default 0.0.0.0)")
    parser.add_argument("--controllers", type=_controllers, default=list(CONTROLLERS),
                        help=f"comma-separated controllers to run (default all: "
                             f"{','.join(CONTROLLERS)})")
    parser.add_argument("--metrics-bind-address", type=flags.metrics_address,
                        default="0.0.0.0:10252",
                        help="HOST:PORT of the Prometheus /metrics endpoint (default "
                             "0.0.0.0:10252; empty: none)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    health = Server(flags.listen_address(args.bind_address, args.health_port))
    await health.start()
    log.info("health service on port %d", health.port)
    metrics = serve_metrics(args.metrics_bind_address)
    client = Client(args.server)
    manager = ControllerManager(client, args.controllers)
    running = asyncio.create_task(manager.run())
    signalled = asyncio.create_task(wait_for_signal())
    try:
        await asyncio.wait({running, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # surfaces a crash
        log.info("stopping")
    finally:
        await health.set_serving(False)
        for task in (running, signalled):
            task.cancel()
        await asyncio.gather(running, signalled, return_exceptions=True)
        await health.stop()
        await client.close()
        if metrics is not None:
            await metrics.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    return run_service("controller-manager", serve, parse_args(argv))

if __name__ == "__main__":
    sys.exit(main())
