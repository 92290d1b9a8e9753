"""Faults of etcd and the apiserver on the compose cluster, under load: no write the apiserver
acknowledged is lost, controllers converge, and watches resume with every change delivered once
and in order. Each test prints its recovery times and records them in build/e2e/faults.json.
These tests stop services: they are disruptive (conftest.py)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from podplane.client.clientset import Client
from podplane.client.informer import Informer, wait_for_sync
from tests.e2e.compose_cluster import compose
from tests.e2e.faults import (
    PodChurn,
    assert_acknowledged_writes_stored,
    config_map,
    drain,
    record,
    replication_controller,
    run_compose,
    scale,
    settled,
    stop_task,
    wait_healthy,
)
from tests.e2e.watch_checker import WatchChecker
from tests.support import eventually

# It stops etcd and the apiserver: it runs alone, after the tests that share the cluster
# (conftest.py).
pytestmark = pytest.mark.disruptive


@pytest_asyncio.fixture
async def restores_storage(client: Client, namespace: str) -> AsyncIterator[None]:
    """Whatever happens, etcd and the apiserver are running and healthy afterwards."""
    try:
        yield
    finally:
        compose("start", "etcd", "apiserver", check=False)
        await wait_healthy("etcd", "apiserver")
        await drain(client, namespace)


async def test_etcd_restart_and_outage_lose_no_acknowledged_write(
    client: Client, namespace: str, restores_storage: None
) -> None:
    await client.replicationcontrollers.create(replication_controller("web", namespace, 3))
    await eventually(
        lambda: settled(client, namespace, "web", 3), 120, interval=1, what="three replicas Running"
    )
    watcher = Informer(client.pods, namespace=namespace)
    watching = asyncio.create_task(watcher.run())
    await wait_for_sync(watcher, timeout=20)
    churn = PodChurn(client, namespace)
    churning = time.monotonic()
    writing = asyncio.create_task(churn.run())
    try:
        # Writes acknowledged before the fault (about 3 s of the churn): each must survive it.
        await eventually(
            lambda: _acked_since(churn, churning, 15),
            60,
            interval=0.2,
            what="fifteen writes acknowledged before etcd's restart",
        )
        started = time.monotonic()
        await run_compose("restart", "etcd")
        back = time.monotonic()
        restarted = back - started
        await eventually(
            lambda: _acked_after(churn, back),
            60,
            interval=0.5,
            what="a write acknowledged after etcd's restart",
        )
        restart_recovery = (churn.first_ack_after(back) or 0) - started
        await scale(client, client.replicationcontrollers, "web", namespace, 5)

        await run_compose("kill", "etcd")
        await asyncio.sleep(20)  # the fault itself: etcd down for 20 s (recorded so below)
        await run_compose("start", "etcd")
        up_again = time.monotonic()
        await eventually(
            lambda: _acked_after(churn, up_again),
            60,
            interval=0.5,
            what="a write acknowledged after etcd came back",
        )
        outage_recovery = (churn.first_ack_after(up_again) or 0) - up_again
        await scale(client, client.replicationcontrollers, "web", namespace, 4)
        scaled = time.monotonic()
        # The churn goes on a little after the recovery (about 3 s of it).
        await eventually(
            lambda: _acked_since(churn, scaled, 15),
            60,
            interval=0.2,
            what="fifteen writes acknowledged after the recovery",
        )
    finally:
        await stop_task(writing)

    # Every acknowledged write is in etcd.
    await assert_acknowledged_writes_stored(client, namespace, churn)
    assert len(churn.created) > 20, "the writer hardly wrote"
    # The controllers' replicas are right: exactly four, Running.
    await eventually(
        lambda: settled(client, namespace, "web", 4),
        120,
        interval=1,
        what="exactly four replicas Running",
    )

    # Its status follows the pods (the controller writes it after it sees them), observing the
    # last scale.
    async def status_caught_up() -> Any:
        rc = await client.replicationcontrollers.get("web", namespace)
        return (
            rc
            if (rc.status.replicas == 4 and rc.status.observed_generation == rc.metadata.generation)
            else None
        )

    await eventually(status_caught_up, 60, interval=1, what="the controller's status: 4 replicas")
    converged = time.monotonic() - up_again

    # The informer resumed by itself: its cache is what is stored.
    async def caught_up() -> bool:
        listed = {
            p.metadata.name: p.metadata.resource_version
            for p in (await client.pods.list(namespace)).items
        }
        cached = {p.metadata.name: p.metadata.resource_version for p in watcher.list()}
        return listed == cached

    try:
        await eventually(caught_up, 30, interval=0.5, what="the informer's cache to match etcd")
    finally:
        await stop_task(watching)
    record("etcd restart", restart_command=restarted, first_acknowledged_write=restart_recovery)
    record(
        "etcd killed for 20 s",
        first_acknowledged_write_after_start=outage_recovery,
        replicas_converged_after_start=converged,
    )
    print(
        f"churn: {len(churn.created)} creates, {len(churn.deleted)} deletes acknowledged, "
        f"{churn.failures} failed or unknown"
    )


async def _acked_after(churn: PodChurn, t: float) -> bool:
    return churn.first_ack_after(t) is not None


async def _acked_since(churn: PodChurn, t: float, n: int) -> bool:
    """Whether the churn has had n writes acknowledged since `t`."""
    return sum(1 for a in churn.ack_times if a >= t) >= n


async def test_apiserver_restart_delivers_every_change_once_in_order(
    client: Client, namespace: str, restores_storage: None
) -> None:
    """A watcher resuming from its last resourceVersion after the apiserver restarted is told
    "too old resource version" (the restarted watch cache starts at its list, as Kubernetes'),
    relists as a reflector does and watches on: every acknowledged write reaches it once and in
    order, as an event or, for the writes between its last event and the relist, in the list."""
    names = [f"cfg-{i}" for i in range(5)]
    for name in names:
        await client.configmaps.create(config_map(name, namespace, {"n": "0"}))
    await client.replicationcontrollers.create(replication_controller("web", namespace, 1))
    await eventually(
        lambda: settled(client, namespace, "web", 1), 120, interval=1, what="one replica Running"
    )
    checker = WatchChecker(client.configmaps, namespace, relist_when_expired=True)
    checking = await checker.start()  # listed before the first write
    informer = Informer(client.configmaps, namespace=namespace)
    informing = asyncio.create_task(informer.run())
    await wait_for_sync(informer, timeout=20)
    acked: list[tuple[str, int]] = []

    async def write() -> None:
        n = 0
        while True:
            n += 1
            name = names[n % len(names)]
            try:
                async with asyncio.timeout(5):
                    obj = await client.configmaps.get(name, namespace)
                obj.data["n"] = str(n)
                async with asyncio.timeout(5):
                    done = await client.configmaps.update(obj)
                acked.append((name, int(done.metadata.resource_version)))
            except (TimeoutError, Exception):  # noqa: BLE001 - unknown outcome
                pass
            await asyncio.sleep(0.05)

    writing = asyncio.create_task(write())
    try:
        # Updates acknowledged before the restart (a second or so of the writer).
        await eventually(
            lambda: _more(acked, 15),
            60,
            interval=0.1,
            what="fifteen updates acknowledged before the restart",
        )
        before = len(acked)
        started = time.monotonic()
        await run_compose("restart", "apiserver")
        restarted = time.monotonic() - started  # stopped (gracefully) and started again
        await eventually(
            lambda: _more(acked, before + 5),
            60,
            interval=0.2,
            what="writes acknowledged by the restarted apiserver",
        )
        writes_back = time.monotonic() - started
        await eventually(
            lambda: _seen(checker, acked[-1][1]),
            60,
            interval=0.2,
            what="the checker's watch to resume",
        )
        watch_back = time.monotonic() - started
        # The scheduler, kubelets and controller-manager reconnected by themselves: a scale-up
        # is created, scheduled and run.
        await scale(client, client.replicationcontrollers, "web", namespace, 3)
        await eventually(
            lambda: settled(client, namespace, "web", 3),
            120,
            interval=0.5,
            what="a scale-up after the restart Running",
        )
        components_back = time.monotonic() - started
        # The writes go on a little after everything is back.
        so_far = len(acked)
        await eventually(
            lambda: _more(acked, so_far + 15),
            60,
            interval=0.1,
            what="fifteen more updates acknowledged once everything is back",
        )
    finally:
        await stop_task(writing)
    last = acked[-1][1]
    try:
        await eventually(
            lambda: _seen(checker, last), 30, interval=0.2, what="the checker to see the last write"
        )

        async def informer_caught_up() -> bool:
            stored = {
                c.metadata.name: c.metadata.resource_version
                for c in (await client.configmaps.list(namespace)).items
            }
            return stored == {c.metadata.name: c.metadata.resource_version for c in informer.list()}

        await eventually(informer_caught_up, 30, interval=0.5, what="the informer to catch up")
    finally:
        await stop_task(checking)
        await stop_task(informing)

    assert checker.reconnects + len(checker.expired) >= 1, "the restart did not break the watch"
    for message in checker.expired:
        assert re.fullmatch(r"too old resource version: \d+ \(\d+\)", message), message
    assert len(checker.relists) == len(checker.expired)
    for name, rvs in checker.per_object().items():
        assert rvs == sorted(set(rvs)), f"{name}: events out of order or repeated: {rvs}"
    seen = {rv for _, _, rv in checker.events}
    assert len(seen) == len(checker.events), "an event delivered twice"
    missing = [a for a in acked if a[1] not in seen and not checker.relisted(*a)]
    assert not missing, f"acknowledged writes neither delivered nor listed: {missing[:10]}"
    # Each object's acknowledged writes that came as events came in the order they were
    # acknowledged.
    for name in names:
        mine = [rv for n, rv in acked if n == name and rv in seen]
        delivered = [rv for rv in checker.per_object().get(name, []) if rv in set(mine)]
        assert delivered == mine, name
    record(
        "apiserver restart",
        restart_command=restarted,
        writes_acknowledged_again=writes_back,
        watch_resumed=watch_back,
        scale_up_running=components_back,
    )
    print(
        f"{len(acked)} acknowledged updates, {len(checker.events)} events, "
        f"{checker.reconnects} watch reconnections, {len(checker.relists)} relists"
    )


async def _more(acked: list[tuple[str, int]], n: int) -> bool:
    return len(acked) >= n


async def _seen(checker: WatchChecker, rv: int) -> bool:
    return any(e[2] >= rv for e in checker.events) or any(at >= rv for at, _ in checker.relists)
