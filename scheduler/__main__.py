"""python -m scheduler --server HOST:PORT [--health-port 10259] [--scheduler-name NAME]

Watches the apiserver for pending pods and binds each to a node. Its health service reports
SERVING once its pod and node caches are synced; SIGTERM stops it gracefully."""
from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Sequence

from podplane.client import Client
from podplane.serving import Server, configure_logging, wait_for_signal
from scheduler.framework.runtime import DEFAULT_SCHEDULER_NAME, Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler

log = logging.getLogger("scheduler")

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _address(value: str) -> str:
    m = _HOST_PORT.match(value)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (e.g. apiserver:6443)")
    return value


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)")
    return int(value)


def _scheduler_name(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} must be a lowercase DNS subdomain (e.g. default-scheduler)")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, type=_address,
                        help="the apiserver's gRPC address, HOST:PORT")
    parser.add_argument("--health-port", type=_port, default=10259,
                        help="port of the gRPC health service (default 10259; 0 picks one)")
    parser.add_argument("--bind-address", default="0.0.0.0",
                        help="address the health service listens on (default 0.0.0.0)")
    parser.add_argument("--scheduler-name", type=_scheduler_name, default=DEFAULT_SCHEDULER_NAME,
                        help="schedule only pods whose spec.schedulerName is this "
                             f"(default {DEFAULT_SCHEDULER_NAME})")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    host = args.bind_address if ":" not in args.bind_address else f"[{args.bind_address}]"
    health = Server(f"{host}:{args.health_port}")
    # Not serving until the caches are synced (the health servicer starts out SERVING).
    await health.set_serving(False)
    await health.start()
    log.info("health service on port %d", health.port)
    client = Client(args.server)
    scheduler = Scheduler(client, Framework(in_tree_registry(), default_profile(args.scheduler_name)))
    loop = asyncio.get_running_loop()
    running = loop.create_task(scheduler.run())
    signalled = loop.create_task(wait_for_signal())
    synced = loop.create_task(scheduler.wait_synced())
    try:
        await asyncio.wait({running, synced, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if synced.done() and not running.done():
            await health.set_serving(True)
            await asyncio.wait({running, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # surfaces a crash
        log.info("stopping")
    finally:
        await health.set_serving(False)
        await scheduler.stop()
        for task in (running, signalled, synced):
            task.cancel()
        await asyncio.gather(running, signalled, synced, return_exceptions=True)
        await health.stop()
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.log_level)
    try:
        asyncio.run(serve(args))
    except RuntimeError as e:  # e.g. the health port is taken
        print(f"scheduler: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
