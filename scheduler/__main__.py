"""python -m scheduler --server HOST:PORT [--health-port 10259] [--scheduler-name NAME]
       [--metrics-bind-address 0.0.0.0:10251] [--leader-elect=true] ...

Watches the apiserver for pending pods and binds each to a node. With leader election (the
default) any number of replicas may run: each keeps its pod and node caches and its queue warm, but
only the one holding the Lease kube-system/kube-scheduler schedules. A leader that loses the lease
exits at once (status 1, as kube-scheduler does) and is restarted as a standby. Its health service
reports SERVING once the caches are synced, leading or not; SIGTERM stops it gracefully: binds in
flight finish, then the lease is released so that a standby takes over at once."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from podplane.client.clientset import Client, user_agent
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.streams import BindStream, EventStream
from podplane.componentbase import flags, options
from podplane.componentbase.app import Component, leader_elector, serve_component, while_leading
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.leaderelection_flags import LeaderElectionOptions
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving import run_service
from podplane.componentbase.serving_flags import HealthOptions, MetricsOptions
from scheduler.backend.queue.leader_gated_queue import LeaderGatedQueue
from scheduler.framework.runtime import DEFAULT_SCHEDULER_NAME, Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler

log = logging.getLogger("scheduler")


def _scheduler_name(value: str) -> str:
    if not flags.is_dns_subdomain(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} must be a lowercase DNS subdomain (e.g. default-scheduler)"
        )
    return value


class _SchedulingOptions:
    """Which pods this scheduler takes (--scheduler-name)."""

    @staticmethod
    def add_flags(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--scheduler-name",
            type=_scheduler_name,
            default=DEFAULT_SCHEDULER_NAME,
            help="schedule only pods whose spec.schedulerName is this "
            f"(default {DEFAULT_SCHEDULER_NAME})",
        )

    @staticmethod
    def validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """Checked by the flag's type."""


# The command line, one option group per concern (podplane.componentbase.options).
OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(server_help="the apiserver's gRPC address, HOST:PORT"),
    HealthOptions(10259),
    _SchedulingOptions,
    MetricsOptions(
        default="0.0.0.0:10251",
        help="HOST:PORT of the Prometheus /metrics endpoint (default "
        "0.0.0.0:10251, kube-scheduler's old insecure port); empty disables it",
    ),
    LeaderElectionOptions("kube-scheduler"),
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scheduler", description=__doc__.split("\n\n")[0])
    return options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])


def build(args: argparse.Namespace, client: Client) -> Component:
    elector = leader_elector(client, args.leader_election)
    # Every decision checks that the lease is still ours (renewed within the renew deadline), so
    # that a process paused past it (SIGSTOP, a stalled host) decides nothing when it resumes.
    queue = LeaderGatedQueue(lease_valid=elector.is_leader) if elector else LeaderGatedQueue()
    # One set of informers for the scheduler and its plugins (VolumeBinding's claims, volumes
    # and classes).
    framework = Framework(
        in_tree_registry(),
        default_profile(args.scheduler_name),
        handle=SharedInformerFactory(client),
    )
    # Binds over a stream of their own: a busy scheduler's binds cost the apiserver a few stream
    # messages, not a call each, and wait behind no other call on the client's connection.
    binds = BindStream(client)
    # Scheduled events likewise, over an event stream on the client's connection.
    scheduler = Scheduler(client, framework, queue=queue, binder=binds, event_stream=EventStream)

    async def run() -> None:
        # The informers run (and fill the queue) whether or not this replica leads.
        informing = asyncio.create_task(scheduler.run(), name="scheduler")
        leading = asyncio.create_task(while_leading(elector, queue.lead), name="leader-election")
        try:
            done, _ = await asyncio.wait({informing, leading}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a crash, or LeadershipLost
        finally:
            for task in (informing, leading):
                task.cancel()
            await asyncio.gather(informing, leading, return_exceptions=True)

    async def stop() -> None:
        await scheduler.stop()
        await binds.close()

    return Component(run=run, ready=scheduler.wait_synced, stop=stop)


async def serve(args: argparse.Namespace) -> None:
    await serve_component(
        apiserver=args.server,
        credentials=args.credentials,
        health_address=args.health_address,
        metrics_address=args.metrics_bind_address,
        build=lambda client: build(args, client),
        agent=user_agent("kube-scheduler"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_service("scheduler", serve, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
