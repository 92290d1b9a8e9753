"""python -m scheduler --server HOST:PORT [--health-port 10259] [--scheduler-name NAME]
       [--metrics-bind-address 0.0.0.0:10251]

Watches the apiserver for pending pods and binds each to a node. Its health service reports
SERVING once its pod and node caches are synced; SIGTERM stops it gracefully."""
from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Sequence

from podplane import flags
from podplane.client import Client
from podplane.metrics import serve_metrics
from podplane.serving import Server, run_service, wait_for_signal
from scheduler.framework.runtime import DEFAULT_SCHEDULER_NAME, Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler

log = logging.getLogger("scheduler")

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _scheduler_name(value: str) -> str:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} must be a lowercase DNS subdomain (e.g. default-scheduler)")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, type=flags.address,
                        help="the apiserver's gRPC address, HOST:PORT")
    parser.add_argument("--health-port", type=flags.port, default=10259,
                        help="port of the gRPC health service (default 10259; 0 picks one)")
    parser.add_argument("--bind-address", default="0.0.0.0",
                        help="address the health service listens on (default 0.0.0.0)")
    parser.add_argument("--scheduler-name", type=_scheduler_name, default=DEFAULT_SCHEDULER_NAME,
                        help="schedule only pods whose spec.schedulerName is this "
                             f"(default {DEFAULT_SCHEDULER_NAME})")
    parser.add_argument("--metrics-bind-address", type=flags.metrics_address, default="0.0.0.0:10251",
                        help="HOST:PORT of the Prometheus /metrics endpoint (default "
                             "0.0.0.0:10251, kube-scheduler's old insecure port); empty disables it")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    health = Server(flags.listen_address(args.bind_address, args.health_port))
    # Not serving until the caches are synced (the health servicer starts out SERVING).
    await health.set_serving(False)
    await health.start()
    log.info("health service on port %d", health.port)
    metrics = serve_metrics(args.metrics_bind_address)
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
        if metrics is not None:
            await metrics.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    return run_service("scheduler", serve, parse_args(argv))

if __name__ == "__main__":
    sys.exit(main())
