"""The life of a long-running control-plane process (kube-scheduler's and kube-controller-manager's
app.Run): a gRPC health service, the Prometheus /metrics endpoint, a client of the apiserver, the
component's work, and a graceful stop on SIGTERM/SIGINT.

The health service reports NOT_SERVING until the component is ready (e.g. its caches are synced),
then SERVING until it stops. A graceful stop goes: health NOT_SERVING, the component's own stop
(e.g. binds in flight), cancellation of its work (which releases a held lease), then the servers.
Work that ends by itself (a crash, or a lost lease) skips the component's stop: the process exits
at once, with status 1 for an error (run_service)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import Gauge

from podplane.client import leaderelection
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.componentbase.metrics import loop_health, serve_metrics
from podplane.componentbase.serving import Server, wait_for_signal

log = logging.getLogger(__name__)

T = TypeVar("T")

# client-go's leaderelection metric (k8s.io/client-go/tools/leaderelection/metrics.go).
LEADER_STATUS = Gauge(
    "leader_election_master_status",
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 "
    "indicates master. 'name' is the string used to identify the lease.",
    ["name"],
)


@dataclass
class Component:
    """What serve_component runs: `run()` is the work, until it returns, raises or is cancelled;
    health is SERVING once `ready()` returns (at once without one); `stop()` (optional) is the
    graceful part of a stop, awaited before `run()` is cancelled."""

    run: Callable[[], Awaitable[None]]
    ready: Callable[[], Awaitable[None]] | None = None
    stop: Callable[[], Awaitable[None]] | None = None


def leader_elector(
    client: Client, election: leaderelection.LeaderElectionConfig | None
) -> leaderelection.LeaderElector | None:
    """The elector for the lease `election` names; None without leader election."""
    return None if election is None else leaderelection.LeaderElector(client.leases, election)


async def while_leading(
    elector: leaderelection.LeaderElector | None, lead: Callable[[], Awaitable[T]]
) -> T:
    """lead() once `elector` holds its lease, for as long as it holds it (raises LeadershipLost
    if it could not renew in time); lead() at once without an elector."""
    if elector is None:
        return await lead()
    status = LEADER_STATUS.labels(elector.config.name)
    status.set(0)

    async def leading() -> T:
        status.set(1)
        try:
            return await lead()
        finally:
            status.set(0)

    return await elector.run(leading)


async def serve_component(
    *,
    apiserver: str,
    health_address: str,
    metrics_address: str,
    build: Callable[[Client], Component],
    credentials: Credentials | None = None,
    agent: str | None = None,
) -> None:
    """Serves health and metrics and runs the component `build` makes until it ends or a signal
    stops it; a crash of its work is raised."""
    health = Server(health_address)
    await health.set_serving(False)  # the health servicer starts out SERVING
    await health.start()
    log.info("health service on port %d", health.port)
    loop = asyncio.get_running_loop()
    metrics = serve_metrics(metrics_address, loop_health(loop, lambda: health.serving))
    client = Client(apiserver, credentials=credentials, agent=agent)
    component = build(client)
    running = loop.create_task(_run(component), name="component")
    signalled = loop.create_task(wait_for_signal(), name="signal")
    ready = loop.create_task(_ready(component), name="ready")
    graceful = False
    try:
        await asyncio.wait({running, ready, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and not running.done() and not signalled.done():
            ready.result()
            await health.set_serving(True)
            await asyncio.wait({running, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # surfaces a crash or a lost lease
        graceful = True
        log.info("stopping")
    finally:
        await health.set_serving(False)
        if graceful and component.stop is not None and not running.done():
            await component.stop()
        for task in (running, signalled, ready):
            task.cancel()
        await asyncio.gather(running, signalled, ready, return_exceptions=True)
        await health.stop()
        await client.close()
        if metrics is not None:
            await metrics.aclose()


async def _run(component: Component) -> None:
    await component.run()


async def _ready(component: Component) -> None:
    if component.ready is not None:
        await component.ready()
