"""Leader election against a real apiserver over real etcd: two electors on one Lease never lead at
the same time; a standby takes over within the lease duration when the leader dies without
releasing, or cannot renew any more (which stops its work first); at once when the leader releases
on a graceful stop. Then two controller-manager processes: one leads, the other stands by (both
healthy); SIGTERM makes the leader release, and the standby takes over."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from podplane.client.clientset import Client
from podplane.client.leaderelection import LeaderElectionConfig, LeaderElector, LeadershipLost
from tests.support import eventually, free_port

ROOT = Path(__file__).resolve().parents[3]
# A Lease holds whole seconds. The renew deadline bounds how long a leader's renewal may take
# before it gives up leading, as client-go's does: a host that stalls the event loop past it makes
# the leader step down, which is right, so it is long enough for a loaded 2-core host (a 1 s
# deadline lost the lead once in a fresh clone's whole suite).
LEASE, RENEW, RETRY = 5.0, 4.0, 0.5
# A standby sees a renewal up to one jittered retry period late, and its next attempt comes up to
# one more after the lease runs out.
RETRY_SLACK = 2 * RETRY * 2.2 + 0.2


class Candidate:
    """An elector whose work only marks that it runs; `leading` is true while the work runs."""

    def __init__(
        self,
        client: Client,
        lock: str,
        identity: str,
        *,
        release: bool = True,
        lease: float = LEASE,
    ) -> None:
        self.elector = LeaderElector(
            client.leases,
            LeaderElectionConfig(
                name=lock,
                identity=identity,
                lease_duration=lease,
                renew_deadline=RENEW,
                retry_period=RETRY,
                release_on_cancel=release,
            ),
        )
        self.leading = False
        self.started_at = 0.0
        self.task: asyncio.Task[None] | None = None

    async def _work(self) -> None:
        self.leading, self.started_at = True, time.monotonic()
        try:
            await asyncio.sleep(3600)
        finally:
            self.leading = False

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(self._work))

    async def stop(self) -> BaseException | None:
        assert self.task is not None
        self.task.cancel()
        (result,) = await asyncio.gather(self.task, return_exceptions=True)
        return result if isinstance(result, BaseException) else None


class Sampler:
    """Looks every 10 ms at who runs the work and who believes it leads; both must be at most
    one at every look. `phase` ends a phase of the test: `looks` holds how many looks each had
    (how many a busy host's event loop allows, which no assertion counts on; every phase has
    some)."""

    def __init__(self, *candidates: Candidate) -> None:
        self.candidates = candidates
        self.samples = 0
        self.looks: list[int] = []
        self.overlaps: list[float] = []
        self._task = asyncio.create_task(self._run())

    def phase(self) -> None:
        self.looks.append(self.samples - sum(self.looks))

    async def look(self) -> None:
        """Returns after one more look (a phase that may end within 10 ms has one too)."""
        seen = self.samples
        while self.samples == seen:
            await asyncio.sleep(0.005)

    async def _run(self) -> None:
        while True:
            working = sum(c.leading for c in self.candidates)
            believing = sum(c.elector.is_leader() for c in self.candidates)
            self.samples += 1
            if working > 1 or believing > 1:
                self.overlaps.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def sees(candidate: Candidate, leader: str) -> bool:
    """Whether the candidate has read the lease and found `leader` holding it."""
    return candidate.elector.leader == leader


async def leader_of(candidates: list[Candidate], timeout: float) -> Candidate:
    async def one() -> Candidate | None:
        leading = [c for c in candidates if c.leading]
        return leading[0] if len(leading) == 1 else None

    return await eventually(one, timeout, interval=0.01, what="a leader")


@pytest_asyncio.fixture
async def lock() -> AsyncIterator[str]:
    yield f"test-lock-{uuid.uuid4().hex[:8]}"


async def test_one_leader_at_a_time_and_takeover_after_a_crash_or_a_release(
    client: Client, lock: str
) -> None:
    a, b = Candidate(client, lock, "a", release=False), Candidate(client, lock, "b")
    a.start()
    await leader_of([a], 5)
    b.start()
    sampler = Sampler(a, b)
    try:
        # Steady: a renews, b stands by, for longer than a lease duration (the time the
        # property is about). Then b tries once more, as its next attempt would: it takes the
        # lease unless it has seen a renew it within the last lease duration.
        await asyncio.sleep(1.5 * LEASE)
        assert not await b.elector.try_acquire_or_renew()
        assert a.leading and not b.leading and b.elector.leader == "a"
        sampler.phase()

        # a dies without releasing: b waits out the lease (measured from when it saw the last
        # renewal), then takes over.
        assert await a.stop() is not None  # cancelled
        died = time.monotonic()
        assert await leader_of([a, b], LEASE + 3) is b
        sampler.phase()
        waited = b.started_at - died
        assert LEASE - RETRY - 0.1 <= waited <= LEASE + RETRY_SLACK, waited
        lease = await client.leases.get(lock, "kube-system")
        assert lease.spec.holder_identity == "b" and lease.spec.lease_transitions == 1

        # b stops gracefully: it releases, and a (back as a candidate) takes over at once.
        a = Candidate(client, lock, "a")
        a.start()
        sampler.candidates = (a, b)
        await eventually(lambda: sees(a, "b"), 10, interval=0.01, what="a to see b lead")
        assert b.leading and not a.leading
        await sampler.look()
        sampler.phase()
        await b.stop()
        released_lease = await client.leases.get(lock, "kube-system")
        assert released_lease.spec.holder_identity in ("", "a")
        assert await leader_of([a, b], 3) is a  # "at once": the test below
        await sampler.look()
        sampler.phase()
        assert (await client.leases.get(lock, "kube-system")).spec.lease_transitions == 2
    finally:
        await sampler.close()
        for c in (a, b):
            if c.task is not None and not c.task.done():
                await c.stop()
    # Looks in each phase: a's lead, the takeover after its crash, b's lead, the release.
    assert len(sampler.looks) == 4 and all(sampler.looks), sampler.looks
    assert sampler.overlaps == []


async def test_a_released_lease_is_taken_at_once(client: Client, lock: str) -> None:
    """A leader that stops gracefully releases its lease: the standby takes it at its next
    retry, long before a lease longer than the test waits would run out (what a stopwatch
    cannot tell on a busy host, the lease's length does)."""
    a = Candidate(client, lock, "a", lease=60)
    b = Candidate(client, lock, "b", lease=60)
    a.start()
    await leader_of([a], 5)
    b.start()
    sampler = Sampler(a, b)
    try:
        # b has read the lease and follows it: what happens next reaches it as a watch event.
        await eventually(lambda: sees(b, "a"), 10, interval=0.01, what="b to see a lead")
        assert a.leading and not b.leading
        await a.stop()
        released = await client.leases.get(lock, "kube-system")
        assert released.spec.holder_identity in ("", "b")
        assert await leader_of([a, b], 10) is b  # within 10 s: not after the 60 s lease
        assert (await client.leases.get(lock, "kube-system")).spec.lease_transitions == 1
    finally:
        await sampler.close()
        for c in (a, b):
            if c.task is not None and not c.task.done():
                await c.stop()
    assert sampler.overlaps == []


async def test_a_leader_that_cannot_renew_stops_before_the_standby_starts(
    client: Client, lock: str
) -> None:
    own = Client(client.target, timeout=2)  # the leader's connection, to be cut
    a, b = Candidate(own, lock, "a"), Candidate(client, lock, "b")
    a.start()
    await leader_of([a], 5)
    b.start()
    sampler = Sampler(a, b)
    try:
        await eventually(lambda: sees(b, "a"), 10, interval=0.01, what="b to see a lead")
        await own.close()  # every renewal fails from now on
        cut = time.monotonic()

        async def b_leads() -> bool:
            return b.leading

        await eventually(b_leads, LEASE + 3, interval=0.01, what="b to take over")
        assert a.task is not None and a.task.done()
        assert isinstance(a.task.exception(), LeadershipLost)
        assert b.started_at - cut <= LEASE + RETRY * 2 + RETRY_SLACK
    finally:
        await sampler.close()
        await b.stop()
    assert sampler.overlaps == []


def controller_manager(server: str, lock: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A controller-manager process and its health port; its output goes to `log`."""
    health = free_port()
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controller",
                "--server",
                server,
                "--health-port",
                str(health),
                "--metrics-bind-address",
                "",
                "--controllers",
                "namespace",
                "--leader-elect-resource-name",
                lock,
                # A lease far longer than the test waits for a takeover: one seen can only follow
                # a release.
                "--leader-elect-lease-duration",
                "60s",
                "--leader-elect-renew-deadline",
                "2s",
                "--leader-elect-retry-period",
                "500ms",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return proc, health


async def healthy(port: int) -> bool:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "podplane.componentbase.healthcheck", f"127.0.0.1:{port}"],
        capture_output=True,
        cwd=ROOT,
    )
    return result.returncode == 0


async def test_two_controller_managers_one_leads_and_a_sigterm_hands_over(
    client: Client, lock: str, tmp_path: Path
) -> None:
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first, first_health = controller_manager(client.target, lock, first_log)
    try:

        async def holder() -> str:
            lease = await client.leases.get(lock, "kube-system")
            return str(lease.spec.holder_identity)

        leader = await eventually(holder, 20, what="the first controller-manager to lead")
        second, second_health = controller_manager(client.target, lock, second_log)
        try:
            for port in (first_health, second_health):
                await eventually(functools.partial(healthy, port), 20, what="health SERVING")

            async def second_saw_the_leader() -> bool:
                return (
                    f"new leader for lease kube-system/{lock}: {leader}" in second_log.read_text()
                )

            # The second one has read the lease, found it held and left it: it stands by.
            await eventually(second_saw_the_leader, 20, what="the second to see the leader")
            assert await holder() == leader

            first.send_signal(signal.SIGTERM)
            await asyncio.to_thread(first.wait, 15)
            output = first_log.read_text()
            assert first.returncode == 0, output
            assert f"released lease kube-system/{lock}" in output

            async def new_holder() -> str | None:
                h = await holder()
                return h if h and h != leader else None

            # Within 10 s: at once, not after the 60 s lease.
            await eventually(new_holder, 10, interval=0.05, what="the standby to take over")
            assert await healthy(second_health)
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.to_thread(second.wait, 15)
        output = second_log.read_text()
        assert second.returncode == 0, output
        assert "starting the namespace controller" in output
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
