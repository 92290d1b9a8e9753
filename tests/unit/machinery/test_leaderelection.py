"""Leader election over a Lease, against an in-memory Lease store that does compare-and-swap like
the apiserver, with a clock the test moves: who may take the lease when, that a stale write loses,
that a graceful release lets a standby in at once, and that a leader that cannot renew stops its
work."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest

from podplane.api.coordination.v1 import lease_pb2
from podplane.client import leaderelection
from podplane.client.leaderelection import LeaderElectionConfig, LeaderElector, LeadershipLost
from podplane.componentbase import flags, leaderelection_flags
from tests.unit import waiting


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


@dataclass
class Event:
    type: str
    object: lease_pb2.Lease


class FakeWatch:
    def __init__(self, leases: FakeLeases, expired: bool = False) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self._leases = leases
        self._expired = expired

    def __aiter__(self) -> FakeWatch:
        return self

    async def __anext__(self) -> Event:
        if self._expired:
            raise rpc_error(grpc.StatusCode.OUT_OF_RANGE)
        return await self.events.get()

    def cancel(self) -> None:
        self._leases.watches.remove(self)


class FakeLeases:
    """Get/Create/Update/Watch of Leases with resourceVersion compare-and-swap; counts the
    reads."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], lease_pb2.Lease] = {}
        self.revision = 0
        self.failing = False
        self.gets = 0
        self.watches: list[FakeWatch] = []
        # The oldest resourceVersion a watch may start from (the watch cache's), as after an
        # apiserver restart; older ones fail "too old resource version" at their first read.
        self.oldest = 0
        self.watched_from: list[str] = []

    def watch(self, namespace: str, *, resource_version: str, field_selector: str) -> FakeWatch:
        assert (namespace, field_selector) == ("kube-system", "metadata.name=lock")
        self.watched_from.append(resource_version)
        stored = self.stored[(namespace, "lock")]
        if resource_version:
            assert resource_version == stored.metadata.resource_version
        watch = FakeWatch(
            self, expired=bool(resource_version) and int(resource_version) < self.oldest
        )
        if not resource_version:  # from now on, the current state first
            current = lease_pb2.Lease()
            current.CopyFrom(stored)
            watch.events.put_nowait(Event("ADDED", current))
        self.watches.append(watch)
        return watch

    def _check(self) -> None:
        if self.failing:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE)

    def _put(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        self.revision += 1
        stored = lease_pb2.Lease()
        stored.CopyFrom(lease)
        stored.metadata.resource_version = str(self.revision)
        self.stored[(lease.metadata.namespace, lease.metadata.name)] = stored
        for watch in self.watches:
            event = lease_pb2.Lease()
            event.CopyFrom(stored)
            watch.events.put_nowait(Event("MODIFIED", event))
        copy = lease_pb2.Lease()
        copy.CopyFrom(stored)
        return copy

    async def get(self, name: str, namespace: str = "") -> lease_pb2.Lease:
        self._check()
        self.gets += 1
        if (namespace, name) not in self.stored:
            raise rpc_error(grpc.StatusCode.NOT_FOUND)
        copy = lease_pb2.Lease()
        copy.CopyFrom(self.stored[(namespace, name)])
        return copy

    async def create(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        self._check()
        if (lease.metadata.namespace, lease.metadata.name) in self.stored:
            raise rpc_error(grpc.StatusCode.ALREADY_EXISTS)
        return self._put(lease)

    async def update(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        self._check()
        current = self.stored.get((lease.metadata.namespace, lease.metadata.name))
        if current is None:
            raise rpc_error(grpc.StatusCode.NOT_FOUND)
        if lease.metadata.resource_version != current.metadata.resource_version:
            raise rpc_error(grpc.StatusCode.ABORTED)
        return self._put(lease)

    def lease(self, name: str = "lock") -> lease_pb2.Lease:
        return self.stored[("kube-system", name)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def elector(leases: FakeLeases, identity: str, clock: Clock, **config: float) -> LeaderElector:
    cfg = LeaderElectionConfig(name="lock", identity=identity, **config)  # type: ignore[arg-type]
    return LeaderElector(leases, cfg, clock=clock)  # type: ignore[arg-type]


async def test_the_first_candidate_creates_the_lease_and_leads() -> None:
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    spec = leases.lease().spec
    assert (spec.holder_identity, spec.lease_duration_seconds, spec.lease_transitions) == (
        "a",
        15,
        0,
    )
    assert spec.acquire_time and spec.renew_time
    assert a.is_leader() and not b.is_leader() and b.leader == "a"


async def test_a_standby_waits_a_lease_duration_after_it_last_saw_a_change() -> None:
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    await a.try_acquire_or_renew()
    clock.now += 5
    assert not await b.try_acquire_or_renew()  # first look: counts from now
    clock.now += 14.9
    assert not await b.try_acquire_or_renew()
    assert await a.try_acquire_or_renew()  # the leader renews: the standby's wait starts over
    clock.now += 1
    assert not await b.try_acquire_or_renew()
    clock.now += 14.0
    assert not await b.try_acquire_or_renew()
    clock.now += 1.1
    assert await b.try_acquire_or_renew()
    spec = leases.lease().spec
    assert spec.holder_identity == "b" and spec.lease_transitions == 1
    assert not a.is_leader()


async def test_the_leader_believes_it_leads_only_until_the_renew_deadline() -> None:
    leases, clock = FakeLeases(), Clock()
    a = elector(leases, "a", clock)
    await a.try_acquire_or_renew()
    clock.now += 9.9
    assert a.is_leader()
    clock.now += 0.2
    assert not a.is_leader()  # 10 s (renew deadline) < 15 s (when a standby may take over)


async def test_of_two_candidates_with_the_same_stale_read_only_one_wins() -> None:
    leases, clock = FakeLeases(), Clock()
    old = elector(leases, "old", clock)
    await old.try_acquire_or_renew()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert not await a.try_acquire_or_renew() and not await b.try_acquire_or_renew()
    clock.now += 16
    # Both read the expired lease; each write carries the resourceVersion it read.
    get = leases.get
    reads: list[lease_pb2.Lease] = []

    async def same_read(name: str, namespace: str = "") -> lease_pb2.Lease:
        if not reads:
            reads.append(await get(name, namespace))
        copy = lease_pb2.Lease()
        copy.CopyFrom(reads[0])
        return copy

    leases.get = same_read  # type: ignore[method-assign]
    results = [await a.try_acquire_or_renew(), await b.try_acquire_or_renew()]
    assert results == [True, False]
    assert leases.lease().spec.holder_identity == "a"
    assert a.is_leader() and not b.is_leader()


async def until(condition: Callable[[], object], what: str) -> None:
    await waiting.until(condition, what, interval=0.001)


async def test_a_standby_follows_the_lease_through_a_watch_and_takes_it_at_its_release() -> None:
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert await a.try_acquire_or_renew()
    standby = asyncio.create_task(b.acquire())
    await until(lambda: leases.watches, "the standby's watch")
    assert leases.gets == 2  # the leader's first read and the standby's
    for _ in range(5):
        clock.now += 2
        assert await a.try_acquire_or_renew()
    await until(lambda: all(w.events.empty() for w in leases.watches), "renewals seen")
    # No read: the leader renews with a write over its last one (client-go's fast path), the
    # standby watches the renewals.
    assert leases.gets == 2
    assert not standby.done() and b.leader == "a"
    assert await a.release()  # a read and a write: the standby sees it, and takes the lease
    async with asyncio.timeout(5):
        await standby
    assert leases.gets == 4 and leases.watches == []
    assert b.is_leader() and leases.lease().spec.holder_identity == "b"


async def test_a_standby_whose_watch_is_too_old_follows_the_lease_from_now() -> None:
    """After an apiserver restart, its watch cache starts after the lease's last write: the
    standby's watch from the lease's resourceVersion is "too old", so it watches from now on at
    once, with no read and no retry period, and still takes the lease at its release."""
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert await a.try_acquire_or_renew()
    leases.oldest = leases.revision + 1
    standby = asyncio.create_task(b.acquire())
    await until(lambda: leases.watched_from[-1:] == [""], "the standby's watch from now on")
    assert leases.watched_from == [leases.lease().metadata.resource_version, ""]
    clock.now += 2
    assert await a.try_acquire_or_renew()
    await until(lambda: all(w.events.empty() for w in leases.watches), "the renewal seen")
    assert leases.gets == 2 and not standby.done() and b.leader == "a"
    assert await a.release()
    async with asyncio.timeout(5):
        await standby
    assert b.is_leader() and leases.lease().spec.holder_identity == "b"


async def test_a_watching_standby_takes_a_lease_whose_holder_stopped_renewing() -> None:
    leases = FakeLeases()
    timing = {"lease_duration": 0.3, "renew_deadline": 0.2, "retry_period": 0.05}
    a = LeaderElector(
        leases,  # type: ignore[arg-type]
        LeaderElectionConfig(name="lock", identity="a", **timing),  # type: ignore[arg-type]
        clock=time.monotonic,
    )
    b = LeaderElector(
        leases,  # type: ignore[arg-type]
        LeaderElectionConfig(name="lock", identity="b", **timing),  # type: ignore[arg-type]
        clock=time.monotonic,
    )
    assert await a.try_acquire_or_renew()
    started = time.monotonic()
    async with asyncio.timeout(5):
        await b.acquire()
    waited = time.monotonic() - started
    assert 0.3 <= waited < 2, waited
    assert leases.gets == 3  # the leader's, then the standby's first read and its last
    assert b.is_leader() and leases.lease().spec.lease_transitions == 1


async def test_a_released_lease_is_taken_at_once() -> None:
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    assert await a.release()
    spec = leases.lease().spec
    assert spec.holder_identity == "" and spec.lease_duration_seconds == 1
    assert not a.is_leader()
    assert await b.try_acquire_or_renew()
    assert leases.lease().spec.lease_transitions == 1
    assert not await a.release()  # not ours any more: nothing written
    assert leases.lease().spec.holder_identity == "b"


async def test_a_release_after_a_renewal_it_did_not_see_land_still_releases() -> None:
    """A renewal cancelled in flight (run() stops renewing, then releases) may be written without
    the elector seeing the new resourceVersion; the release must not then fail on a conflict and
    leave the standby waiting out the lease."""
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert await a.try_acquire_or_renew()
    landed = lease_pb2.Lease()
    landed.CopyFrom(leases.lease())
    landed.spec.renew_time = "2026-01-01T00:00:01.000000Z"
    leases._put(landed)  # the renewal written, its answer never seen
    assert await a.release()
    assert leases.lease().spec.holder_identity == ""
    assert await b.try_acquire_or_renew()


async def test_a_leader_past_its_renew_deadline_still_releases_a_lease_it_holds() -> None:
    """run() cancels the work and waits for it before it releases; work slow to stop may take
    longer than the renew deadline. The lease still names the leader, so it is released, as
    client-go's release (which asks only who the last seen holder is) does."""
    leases, clock = FakeLeases(), Clock()
    a, b = elector(leases, "a", clock), elector(leases, "b", clock)
    assert await a.try_acquire_or_renew()
    clock.now += leaderelection.RENEW_DEADLINE + 1  # the work took that long to stop
    assert not a.is_leader()
    assert await a.release()
    assert leases.lease().spec.holder_identity == ""
    assert await b.try_acquire_or_renew()


async def test_a_release_leaves_a_lease_another_candidate_took_meanwhile() -> None:
    leases, clock = FakeLeases(), Clock()
    a = elector(leases, "a", clock)
    assert await a.try_acquire_or_renew()
    taken = lease_pb2.Lease()
    taken.CopyFrom(leases.lease())
    taken.spec.holder_identity = "b"
    leases._put(taken)  # a still believes it leads: its renew deadline has not passed
    assert a.is_leader()
    assert not await a.release()
    assert leases.lease().spec.holder_identity == "b"


async def test_the_holder_renewing_keeps_acquire_time_and_transitions() -> None:
    leases, clock = FakeLeases(), Clock()
    a = elector(leases, "a", clock)
    await a.try_acquire_or_renew()
    first = lease_pb2.Lease()
    first.CopyFrom(leases.lease())
    await asyncio.sleep(0.002)
    assert await a.try_acquire_or_renew()
    spec = leases.lease().spec
    assert spec.acquire_time == first.spec.acquire_time
    assert spec.renew_time > first.spec.renew_time
    assert spec.lease_transitions == 0


async def test_run_leads_then_cancels_the_work_and_raises_when_renewals_fail() -> None:
    leases = FakeLeases()
    cfg = LeaderElectionConfig(
        name="lock", identity="a", lease_duration=0.6, renew_deadline=0.3, retry_period=0.05
    )
    a = LeaderElector(leases, cfg)  # type: ignore[arg-type]
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    running = asyncio.create_task(a.run(work))
    async with asyncio.timeout(2):
        await started.wait()
    assert a.is_leader()
    leases.failing = True
    with pytest.raises(LeadershipLost, match="leaderelection lost"):
        async with asyncio.timeout(2):
            await running
    assert cancelled.is_set() and not a.is_leader()


async def test_run_cancelled_stops_the_work_and_releases() -> None:
    leases = FakeLeases()
    cfg = LeaderElectionConfig(
        name="lock", identity="a", lease_duration=0.6, renew_deadline=0.3, retry_period=0.05
    )
    a = LeaderElector(leases, cfg)  # type: ignore[arg-type]
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.sleep(3600)

    running = asyncio.create_task(a.run(work))
    async with asyncio.timeout(2):
        await started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert leases.lease().spec.holder_identity == ""


async def test_run_returns_what_the_work_returns() -> None:
    leases = FakeLeases()
    a = LeaderElector(
        leases,  # type: ignore[arg-type]
        LeaderElectionConfig(
            name="lock", identity="a", lease_duration=0.6, renew_deadline=0.3, retry_period=0.05
        ),
    )

    async def work() -> str:
        return "done"

    assert await a.run(work) == "done"


@pytest.mark.parametrize(
    "config, error",
    [
        ({"lease_duration": 10, "renew_deadline": 10}, "lease duration must be greater"),
        ({"renew_deadline": 2, "retry_period": 2}, "renew deadline must be greater"),
        ({"retry_period": 0}, "retry period must be greater than zero"),
        ({"identity": ""}, "needs a lease name and an identity"),
    ],
)
def test_inconsistent_settings_are_refused(config: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        LeaderElectionConfig(**{"name": "lock", "identity": "a", **config})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("15s", 15.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("2", 2.0),
        ("0.25", 0.25),
        ("1h", 3600.0),
    ],
)
def test_duration_flags(value: str, seconds: float) -> None:
    assert flags.duration(value) == seconds


@pytest.mark.parametrize("value", ["", "s", "15x", "-1s", "0", "1s2"])
def test_bad_durations_are_refused(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        flags.duration(value)


def test_flags_make_a_config() -> None:
    parser = argparse.ArgumentParser()
    leaderelection_flags.add_flags(parser, "kube-controller-manager")
    args = parser.parse_args(
        ["--leader-elect-lease-duration", "30s", "--leader-elect-renew-deadline", "20s"]
    )
    cfg = leaderelection_flags.config_from_flags(parser, args, identity="me")
    assert (cfg.name, cfg.namespace, cfg.identity) == (
        "kube-controller-manager",
        "kube-system",
        "me",
    )
    assert (cfg.lease_duration, cfg.renew_deadline, cfg.retry_period) == (30.0, 20.0, 2.0)
    assert args.leader_elect is True
    assert parser.parse_args(["--leader-elect=false"]).leader_elect is False
    assert parser.parse_args(["--leader-elect"]).leader_elect is True
    assert "_" in leaderelection.default_identity()
