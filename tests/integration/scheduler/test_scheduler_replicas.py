"""Two `python -m scheduler` replicas against one real apiserver (over a real etcd), with
kube-scheduler's leader election defaults (Lease kube-system/kube-scheduler, 15 s lease, 10 s renew
deadline, 2 s retry): the leader binds every pod exactly once and the standby none; a SIGKILLed
leader is replaced once its lease runs out; a leader paused past its lease binds nothing when it
resumes and exits; concurrent pods never over-commit a node, and those that do not fit say why in
Kubernetes' words."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator

import pytest_asyncio
from prometheus_client import REGISTRY

from podplane.client.clientset import Client
from podplane.client.leaderelection import JITTER_FACTOR, LEASE_DURATION, RETRY_PERIOD
from tests.integration.control_plane import mutating_requests_in_flight
from tests.integration.scheduler_processes import (
    NodeNameHistory,
    SchedulerProcess,
    add_node,
    bound_count,
    lease_holder,
    own_cluster,
    pod_requesting,
    wait_bound,
)
from tests.support import eventually, new_namespace

SCHEDULED = ("scheduler_schedule_attempts_total", "scheduled")
# The test's creates in flight at once. All 200 at once are one flow of API Priority and Fairness
# (one user, one namespace), which queues in one queue of 50 beside the level's seats: on a host
# busy enough that the seats stay taken, the apiserver refuses the rest with 429, as
# Kubernetes' does, and the client's retries run past its 10 s deadline (1 of 2 runs beside the
# shared end-to-end tests' loop under load).
CREATES_AT_ONCE = 20


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Client]:
    async with own_cluster() as client:
        yield client


async def start_replicas(client: Client) -> tuple[SchedulerProcess, SchedulerProcess]:
    """Starts two replicas, the second once the first leads; returns (leader, standby)."""
    first = SchedulerProcess.start(client.target)
    first_id = await first.identity()
    await eventually(lambda: _holds(client, first_id), 20, what="the first replica to lead")
    second = SchedulerProcess.start(client.target)
    await second.identity()
    for replica in (first, second):
        await eventually(replica.serving, 20, what="health SERVING (caches synced)")
    return first, second


async def _holds(client: Client, identity: str) -> bool:
    return await lease_holder(client) == identity


async def _logged(scheduler: SchedulerProcess, text: str) -> bool:
    return text in scheduler.log()


def binds_by_code() -> dict[str, float]:
    """The in-process apiserver's pods/binding requests by gRPC code (apiserver_request_total)."""
    counts: dict[str, float] = {}
    for family in REGISTRY.collect():
        if family.name != "apiserver_request":
            continue
        for s in family.samples:
            if s.name.endswith("_total") and s.labels.get("subresource") == "binding":
                counts[s.labels["code"]] = counts.get(s.labels["code"], 0) + s.value
    return counts


async def scheduled_by(replica: SchedulerProcess) -> float:
    return (
        await replica.sample(SCHEDULED[0], result=SCHEDULED[1], profile="default-scheduler") or 0.0
    )


async def pending(replica: SchedulerProcess) -> tuple[float, float, float]:
    """The pods in its active queue, back-off queue and among its unschedulable ones."""
    metrics = await replica.metrics()
    active, backoff, unschedulable = (
        metrics.get(("scheduler_pending_pods", frozenset({("queue", q)})), 0.0)
        for q in ("active", "backoff", "unschedulable")
    )
    return active, backoff, unschedulable


async def settled(
    leader: SchedulerProcess,
    standby: SchedulerProcess,
    history: NodeNameHistory,
    *,
    scheduled: float,
    unschedulable: float = 0,
) -> None:
    """Every pod decided: the leader has bound `scheduled` pods (each bind answered), parked
    `unschedulable` and has nothing left to try (no pod is in flight then either); the standby's
    informers have seen each binding (no pod left in its active queue but those parked on the
    leader); the watch has seen every binding. A (wrong) extra binding would have landed."""

    async def decided() -> bool:
        return (
            await scheduled_by(leader) == scheduled
            and await pending(leader) == (0, 0, unschedulable)
            and (await pending(standby))[0] == unschedulable
            and history.bound() == scheduled
        )

    await eventually(decided, 30, what=f"{scheduled:g} pods bound, the others parked")


async def test_two_replicas_bind_every_pod_once_and_the_standby_takes_over_a_killed_leader(
    cluster: Client,
) -> None:
    await asyncio.gather(*(add_node(cluster, f"node-{i:02}", cpu="16") for i in range(20)))
    ns = await new_namespace(cluster, "ha-")
    leader, standby = await start_replicas(cluster)
    history = NodeNameHistory(cluster, ns)
    await history.start()
    binds_before = binds_by_code()
    try:
        # 200 pods over 20 nodes, created CREATES_AT_ONCE at a time.
        started = time.monotonic()
        creating = asyncio.Semaphore(CREATES_AT_ONCE)

        async def create(i: int) -> None:
            async with creating:
                await cluster.pods.create(pod_requesting(f"p-{i:03}", ns, "100m"))

        await asyncio.gather(*(create(i) for i in range(200)))
        await wait_bound(cluster, ns, 200, timeout=60)
        print(f"\n200 pods bound by the leader in {time.monotonic() - started:.1f}s")
        await settled(leader, standby, history, scheduled=200)  # any wrong binding has landed

        # Every pod got its nodeName once and kept it: one Binding each, none refused.
        assert len(history.node_names) == 200
        changed = {name: seen for name, seen in history.node_names.items() if len(seen) != 2}
        assert changed == {}, changed
        binds = {code: n - binds_before.get(code, 0) for code, n in binds_by_code().items()}
        assert {code: n for code, n in binds.items() if n} == {"OK": 200}
        # The leader made them all; the standby attempted nothing.
        assert await scheduled_by(leader) == 200
        standby_attempts = {
            k: v for k, v in (await standby.metrics()).items() if k[0] == SCHEDULED[0]
        }
        assert sum(standby_attempts.values()) == 0, standby_attempts
        assert await standby.sample("leader_election_master_status", name="kube-scheduler") == 0
        assert await leader.sample("leader_election_master_status", name="kube-scheduler") == 1
        assert "Successfully bound pod" not in standby.log()
        assert await standby.sample("scheduler_pending_pods", queue="active") == 0

        # SIGKILL: the leader cannot release; the standby waits out the lease, then schedules.
        standby_id = await standby.identity()
        renewed = (await cluster.leases.get("kube-scheduler", "kube-system")).spec.renew_time
        leader.kill()
        killed = time.monotonic()
        await asyncio.gather(
            *(cluster.pods.create(pod_requesting(f"orphan-{i}", ns, "100m")) for i in range(10))
        )

        async def standby_holds_them() -> bool:
            return (await pending(standby))[0] == 10

        # The standby has the orphans in its queue, and holds them: nobody schedules while the
        # lease runs.
        await eventually(standby_holds_them, 20, what="the standby to queue the orphans")
        assert await lease_holder(cluster) != standby_id
        assert await bound_count(cluster, ns) == 200
        await eventually(
            lambda: _holds(cluster, standby_id),
            LEASE_DURATION + 10,
            interval=0.05,
            what="the standby to take the lease",
        )
        takeover = time.monotonic() - killed
        print(
            f"takeover after SIGKILL of the leader: {takeover:.1f}s "
            f"(lease {LEASE_DURATION:g}s, last renewal {renewed})"
        )
        # At least the lease (less the renewal that may just have happened before the kill),
        # at most the lease plus two jittered retry periods of the standby.
        assert LEASE_DURATION - RETRY_PERIOD - 0.5 <= takeover, takeover
        assert takeover <= LEASE_DURATION + 2 * RETRY_PERIOD * (1 + JITTER_FACTOR) + 1, takeover

        await wait_bound(cluster, ns, 210, timeout=10)  # those that waited for a leader
        await asyncio.gather(
            *(cluster.pods.create(pod_requesting(f"new-{i}", ns, "100m")) for i in range(20))
        )
        await wait_bound(cluster, ns, 230, timeout=20)

        async def standby_done() -> bool:
            # Its 30 binds answered, nothing left to try, every binding seen by the watch.
            return (
                await scheduled_by(standby) == 30
                and await pending(standby) == (0, 0, 0)
                and history.bound() == 230
            )

        await eventually(standby_done, 30, what="the new leader's 30 binds")
        assert all(len(seen) == 2 for seen in history.node_names.values())
        binds = {code: n - binds_before.get(code, 0) for code, n in binds_by_code().items()}
        assert {code: n for code, n in binds.items() if n} == {"OK": 230}
    finally:
        await history.stop()
        leader_log = await leader.terminate()
        standby_log = await standby.terminate()
    assert standby.process.returncode == 0, standby_log
    assert leader_log.count("Successfully bound pod") == 200
    assert standby_log.count("Successfully bound pod") == 30
    assert "Binding rejected" not in leader_log + standby_log


async def test_concurrent_pods_never_overcommit_a_node_and_the_rest_say_why(
    cluster: Client,
) -> None:
    # 5 nodes of 1 cpu; 300m pods: 3 fit on each, 15 in all; 40 are created at once.
    await asyncio.gather(*(add_node(cluster, f"small-{i}", cpu="1", pods=10) for i in range(5)))
    ns = await new_namespace(cluster, "fit-")
    leader, standby = await start_replicas(cluster)
    history = NodeNameHistory(cluster, ns)
    await history.start()
    try:
        await asyncio.gather(
            *(cluster.pods.create(pod_requesting(f"p-{i:02}", ns, "300m")) for i in range(40))
        )
        await wait_bound(cluster, ns, 15, timeout=30)
        # Each of the 40 pods bound or parked: any over-commit would have landed by now.
        await settled(leader, standby, history, scheduled=15, unschedulable=25)
        assert await bound_count(cluster, ns) == 15
        assert history.peak_milli_cpu == {f"small-{i}": 900 for i in range(5)}

        message = (
            "0/5 nodes are available: 5 Insufficient cpu. "
            "preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod."
        )
        pending, _ = await cluster.pods.list_all(ns, field_selector="spec.nodeName=")
        assert len(pending) == 25

        async def all_marked() -> bool:
            pods, _ = await cluster.pods.list_all(ns, field_selector="spec.nodeName=")
            conditions = [
                [(c.type, c.status, c.reason, c.message) for c in p.status.conditions] for p in pods
            ]
            return all(
                c == [("PodScheduled", "False", "Unschedulable", message)] for c in conditions
            )

        await eventually(all_marked, 20, what="every pending pod to say why")

        async def failed_events() -> bool:
            events = await cluster.events.list(ns, field_selector="reason=FailedScheduling")
            names = {
                e.involved_object.name
                for e in events.items
                if e.type == "Warning" and e.message == message
            }
            return names == {p.metadata.name for p in pending}

        await eventually(failed_events, 20, what="a FailedScheduling event for each pending pod")
        # The standby holds them too (in its active queue), ready to schedule if it takes over.
        assert await standby.sample("scheduler_pending_pods", queue="active") == 25
        assert await leader.sample("scheduler_pending_pods", queue="unschedulable") == 25
    finally:
        await history.stop()
        await leader.terminate()
        await standby.terminate()


async def test_a_leader_paused_past_its_lease_decides_nothing_and_exits_when_it_resumes(
    cluster: Client,
) -> None:
    """SIGSTOP the leader (a stalled process): the standby takes over once the lease runs out and
    schedules; SIGCONT: the old leader finds its lease gone, binds nothing and exits with status 1
    (kube-scheduler's "leaderelection lost"), to be restarted as a standby."""
    short = (
        "--leader-elect-lease-duration",
        "3s",
        "--leader-elect-renew-deadline",
        "2s",
        "--leader-elect-retry-period",
        "500ms",
    )
    await asyncio.gather(*(add_node(cluster, f"node-{i}", cpu="8") for i in range(3)))
    ns = await new_namespace(cluster, "pause-")
    leader = SchedulerProcess.start(cluster.target, *short)
    leader_id = await leader.identity()
    await eventually(lambda: _holds(cluster, leader_id), 20, what="the first replica to lead")
    # The standby at kube-scheduler's defaults (15 s, 10 s, 2 s): it takes over once the
    # leader's own record (3 s) runs out, then holds on as a leader on a busy host does; with a
    # 2 s renew deadline of its own it lost the lease to the load beside it and exited.
    standby = SchedulerProcess.start(cluster.target)
    standby_id = await standby.identity()
    binds_before = binds_by_code()
    try:
        await eventually(standby.serving, 20, what="the standby's caches to sync")
        await cluster.pods.create(pod_requesting("before", ns, "100m"))
        await wait_bound(cluster, ns, 1, timeout=10)
        # The pod shows bound as soon as the apiserver has written it; the leader logs its bind
        # once the answer reaches it. Paused in between, it would log it after resuming.
        await eventually(
            lambda: _logged(leader, "Successfully bound"), 10, what="the leader to log its bind"
        )

        leader.process.send_signal(signal.SIGSTOP)
        await eventually(
            lambda: _holds(cluster, standby_id),
            15,
            interval=0.05,
            what="the standby to take over the paused leader's lease",
        )
        # Pods the paused leader's watches will deliver when it resumes.
        await asyncio.gather(
            *(cluster.pods.create(pod_requesting(f"during-{i}", ns, "100m")) for i in range(20))
        )
        await wait_bound(cluster, ns, 21, timeout=15)
        resumed_log_size = len(leader.log())
        leader.process.send_signal(signal.SIGCONT)
        code = await asyncio.to_thread(leader.process.wait, 15)
        after = leader.log()[resumed_log_size:]
        assert code == 1, after
        assert "leaderelection lost" in after
        assert "Successfully bound" not in after and "not binding" not in after, after

        async def binds_answered() -> bool:
            # The new leader's 20 binds answered; whatever the old one sent before it exited,
            # the apiserver is done handling.
            return await scheduled_by(standby) == 20 and mutating_requests_in_flight() == 0

        await eventually(binds_answered, 20, what="every bind to be answered")
        binds = {c: n - binds_before.get(c, 0) for c, n in binds_by_code().items()}
        assert {c: n for c, n in binds.items() if n} == {"OK": 21}
        assert await scheduled_by(standby) == 20
    finally:
        if leader.process.poll() is None:
            leader.process.send_signal(signal.SIGCONT)
        # Shown by pytest when the test fails (their log files go with them).
        print("--- the first leader's log\n" + await leader.terminate())
        print("--- the standby's log\n" + await standby.terminate())
