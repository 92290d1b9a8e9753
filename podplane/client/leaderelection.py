"""Leader election over a coordination.k8s.io Lease (client-go tools/leaderelection with its Lease
lock), so that of several replicas of a component exactly one does the work.

The Lease (kube-system/<name>) records holderIdentity, leaseDurationSeconds, acquireTime, renewTime
and leaseTransitions. Every write is a compare-and-swap on the resourceVersion just read, so two
candidates can never both take it. A candidate takes it only when it is free (no holder) or when
its record has not changed for leaseDurationSeconds as measured on the candidate's own clock from
the moment it saw the last change (clock skew between hosts does not matter, only clock rates).

The leader renews every retry period; it believes it leads only until renew_deadline after the
start of its last successful renewal. As the renewal was written after it started and a standby
waits lease_duration after seeing it, the leader has stopped before anyone else can start, with
lease_duration - renew_deadline to spare. A graceful stop releases the lease (holder emptied) so
that a standby takes over at once rather than after lease_duration: standbys follow the lease
through a watch, not by reading it every retry period."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

from podplane.api.coordination.v1 import lease_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import ResourceClient, is_already_exists, is_conflict, is_not_found
from podplane.client.resource_client import WatchStream

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
LEASE_DURATION = 15.0
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0
# Standbys retry after retry_period * (1 + up to JITTER_FACTOR), so that they do not all ask at
# once.
JITTER_FACTOR = 1.2

T = TypeVar("T")


class LeadershipLost(RuntimeError):
    """The lease could not be renewed within the renew deadline; the work was cancelled."""


@dataclass(frozen=True)
class LeaderElectionConfig:
    name: str
    identity: str
    namespace: str = NAMESPACE
    lease_duration: float = LEASE_DURATION
    renew_deadline: float = RENEW_DEADLINE
    retry_period: float = RETRY_PERIOD
    # Empty the holder on a graceful stop, so that a successor need not wait out the lease.
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        # client-go's NewLeaderElector checks.
        if not self.name or not self.identity:
            raise ValueError("leader election needs a lease name and an identity")
        if self.retry_period <= 0:
            raise ValueError("the retry period must be greater than zero")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("the lease duration must be greater than the renew deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"the renew deadline must be greater than {JITTER_FACTOR} x the retry period"
            )


def default_identity() -> str:
    """hostname_uuid, as kube-controller-manager names itself in its lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class LeaderElector:
    def __init__(
        self,
        leases: ResourceClient[lease_pb2.Lease],
        config: LeaderElectionConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._leases = leases
        self.config = config
        self._clock = clock
        self._lease: lease_pb2.Lease | None = None  # as last read or written
        self._observed_time = 0.0  # when the record was last seen to change (our clock)
        self._renewed_at = -math.inf  # when our last successful acquire/renew was started
        self._leader = ""

    # ------------------------------------------------------------------ state
    @property
    def leader(self) -> str:
        """The holder as last observed ("" when none)."""
        return self._leader

    def is_leader(self) -> bool:
        return self._holds() and self._clock() < self._renewed_at + self.config.renew_deadline

    def _holds(self) -> bool:
        """Whether the last lease observed names us its holder (client-go IsLeader)."""
        return self._lease is not None and self._lease.spec.holder_identity == self.config.identity

    def _observe(self, lease: lease_pb2.Lease, at: float) -> None:
        if self._lease is None or self._lease.spec != lease.spec:
            self._observed_time = at
        self._lease = lease
        holder = lease.spec.holder_identity
        if holder != self._leader:
            self._leader = holder
            if holder:
                log.info(
                    "new leader for lease %s/%s: %s",
                    self.config.namespace,
                    self.config.name,
                    holder,
                )

    def _expiry(self) -> float:
        """When the observed holder's lease runs out, on our clock: its duration after we saw
        its record change."""
        assert self._lease is not None
        spec = self._lease.spec
        duration = (
            spec.lease_duration_seconds
            if spec.HasField("lease_duration_seconds")
            else self.config.lease_duration
        )
        return self._observed_time + duration

    def _record_valid(self, now: float) -> bool:
        """Whether the observed holder's lease has not run out (measured from our observation)."""
        return now < self._expiry()

    # ------------------------------------------------------------------ one attempt
    def _record(self, old: lease_pb2.LeaseSpec | None, now: str) -> lease_pb2.LeaseSpec:
        spec = lease_pb2.LeaseSpec(
            holder_identity=self.config.identity,
            renew_time=now,
            lease_duration_seconds=max(1, math.ceil(self.config.lease_duration)),
            acquire_time=now,
            lease_transitions=0,
        )
        if old is not None:
            if old.holder_identity == self.config.identity:
                spec.acquire_time = old.acquire_time or now
                spec.lease_transitions = old.lease_transitions
            else:
                spec.lease_transitions = old.lease_transitions + 1
        return spec

    def _over(self, lease: lease_pb2.Lease, now: str) -> lease_pb2.Lease:
        """Our record written over `lease`, keeping its resourceVersion: the update is a
        compare-and-swap against it."""
        update = lease_pb2.Lease()
        update.CopyFrom(lease)
        update.spec.CopyFrom(self._record(lease.spec, now))
        return update

    def _hold(self, written: lease_pb2.Lease, attempt_started: float) -> bool:
        """We hold `written`, renewed as of the attempt's start."""
        self._observe(written, self._clock())
        self._renewed_at = attempt_started
        return True

    async def try_acquire_or_renew(self) -> bool:
        """Takes or renews the lease once; True if we hold it now (client-go tryAcquireOrRenew).
        The leader renews with one write over the lease as it last wrote it, and reads it first
        only when that write fails (client-go's optimistic fast path)."""
        started = self._clock()
        now = timeutil.now_micro()
        if self.is_leader() and self._lease is not None:
            try:
                written = await self._leases.update(self._over(self._lease, now))
            except Exception as e:  # noqa: BLE001 - the slow path reads it and says why
                log.info("renewing lease %s optimistically failed: %s", self.config.name, e)
            else:
                return self._hold(written, started)
        try:
            lease = await self._leases.get(self.config.name, self.config.namespace)
        except Exception as e:
            if not is_not_found(e):
                raise
            new = lease_pb2.Lease(
                api_version="coordination.k8s.io/v1",
                kind="Lease",
                metadata=meta_pb2.ObjectMeta(
                    name=self.config.name, namespace=self.config.namespace
                ),
                spec=self._record(None, now),
            )
            try:
                created = await self._leases.create(new)
            except Exception as e2:
                if is_already_exists(e2):
                    return False  # another candidate was first
                raise
            return self._hold(created, started)

        self._observe(lease, self._clock())
        holder = lease.spec.holder_identity
        if holder and holder != self.config.identity and self._record_valid(self._clock()):
            return False
        try:
            written = await self._leases.update(self._over(lease, now))
        except Exception as e:
            if is_conflict(e) or is_not_found(e):
                return False  # changed (or deleted) since we read it; look again next time
            raise
        if holder != self.config.identity:
            log.info(
                "acquired lease %s/%s as %s",
                self.config.namespace,
                self.config.name,
                self.config.identity,
            )
        return self._hold(written, started)

    async def release(self) -> bool:
        """Gives the lease up if we hold it: holder emptied and a 1 s duration, so that any
        candidate may take it at once (client-go release).

        As client-go's release it asks only whether the last lease seen names us, not whether the
        renew deadline has passed: work that took a while to stop (run() cancels it and waits
        before releasing) must not leave the standby waiting out the lease. The lease is read
        again before the write, so one another candidate took meanwhile is left alone."""
        if not self._holds():
            return False
        try:
            async with asyncio.timeout(self.config.renew_deadline):
                written = await self._write_release()
        except Exception as e:  # noqa: BLE001 - it runs out by itself then
            log.warning(
                "releasing lease %s/%s failed: %s", self.config.namespace, self.config.name, e
            )
            return False
        finally:
            self._renewed_at = -math.inf
        if written is None:
            return False
        self._observe(written, self._clock())
        log.info("released lease %s/%s", self.config.namespace, self.config.name)
        return True

    async def _write_release(self) -> lease_pb2.Lease | None:
        """The released lease as written, or None if another candidate holds it by now. The lease
        is read first, as client-go's release does: a renewal cancelled in flight (run() stops
        renewing before it releases) may have been written without our seeing its
        resourceVersion."""
        lease = await self._leases.get(self.config.name, self.config.namespace)
        if lease.spec.holder_identity != self.config.identity:
            return None
        now = timeutil.now_micro()
        lease.spec.CopyFrom(
            lease_pb2.LeaseSpec(
                holder_identity="",
                lease_duration_seconds=1,
                acquire_time=now,
                renew_time=now,
                lease_transitions=lease.spec.lease_transitions,
            )
        )
        return await self._leases.update(lease)

    # ------------------------------------------------------------------ loops
    async def _attempt(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                return await self.try_acquire_or_renew()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - retried
            log.warning(
                "error retrieving or updating lease %s/%s: %s",
                self.config.namespace,
                self.config.name,
                e or type(e).__name__,
            )
            return False

    def _retry_wait(self) -> float:
        return self.config.retry_period * (1 + random.random() * JITTER_FACTOR)

    async def acquire(self) -> None:
        """Returns once we hold the lease. Each attempt may take at most half the renew
        deadline: a renewal is counted from the start of the attempt that wrote it (the module's
        docstring says why), so an acquisition that waited out an apiserver not serving yet
        would leave its leader no time to renew. Between attempts, a standby follows the lease
        (_until_free)."""
        log.info(
            "attempting to acquire lease %s/%s as %s",
            self.config.namespace,
            self.config.name,
            self.config.identity,
        )
        while not await self._attempt(self.config.renew_deadline / 2):
            await self._until_free()

    async def _until_free(self) -> None:
        """Waits until the lease may be taken: its holder released it, or its record has not
        changed for its duration on our clock. The lease is followed through a watch: each of
        the leader's renewals reaches the standby as an event, with no request of the standby's
        own, where client-go's standby reads the lease every retry period. With no lease seen
        (the apiserver did not answer), or when the watch fails, it waits a retry period
        (jittered) instead."""
        lease = self._lease
        if lease is None or not lease.spec.holder_identity:
            await asyncio.sleep(self._retry_wait())
            return
        resource_version = lease.metadata.resource_version
        while True:
            try:
                stream = self._leases.watch(
                    self.config.namespace,
                    resource_version=resource_version,
                    field_selector=f"metadata.name={self.config.name}",
                )
            except Exception as e:  # noqa: BLE001 - polled instead
                log.warning("cannot watch lease %s: %s", self.config.name, e or type(e).__name__)
                await asyncio.sleep(self._retry_wait())
                return
            try:
                await self._follow(stream)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.OUT_OF_RANGE and resource_version:
                    # The apiserver's watch cache starts after the lease's last write (it
                    # restarted since): follow it from now on, its first event the lease as it is.
                    resource_version = ""
                    continue
                self._log_ended(e.details())
            except StopAsyncIteration:
                self._log_ended("closed")
            finally:
                stream.cancel()
            await asyncio.sleep(self._retry_wait())
            return

    async def _follow(self, stream: WatchStream[lease_pb2.Lease]) -> None:
        """Observes the lease's changes until it is free: released, deleted or expired."""
        while self._lease is not None and self._lease.spec.holder_identity:
            left = self._expiry() - self._clock()
            if left <= 0:
                return
            try:
                async with asyncio.timeout(left):
                    event = await anext(stream)
            except TimeoutError:
                return
            if event.type == "DELETED":
                return
            if event.type in ("ADDED", "MODIFIED"):
                self._observe(event.object, self._clock())

    def _log_ended(self, why: str | None) -> None:
        log.info(
            "watch of lease %s/%s ended (%s); reading it again in a retry period",
            self.config.namespace,
            self.config.name,
            why,
        )

    async def keep_renewing(self) -> None:
        """Renews every retry period; returns when a renewal did not succeed in time (leadership
        lost)."""
        while True:
            await asyncio.sleep(self.config.retry_period)
            while True:
                remaining = self._renewed_at + self.config.renew_deadline - self._clock()
                if remaining <= 0:
                    log.error(
                        "failed to renew lease %s/%s within %.1fs: leadership lost",
                        self.config.namespace,
                        self.config.name,
                        self.config.renew_deadline,
                    )
                    return
                if await self._attempt(remaining):
                    break
                await asyncio.sleep(min(self.config.retry_period, max(remaining, 0.0)))

    async def run(self, lead: Callable[[], Awaitable[T]]) -> T:
        """Waits until this candidate leads, then runs lead() for as long as it does.

        Returns what lead() returns (the lease is released then). Raises LeadershipLost, after
        cancelling lead(), when the lease could not be renewed in time. When cancelled, cancels
        lead() and then releases the lease (release_on_cancel)."""
        try:
            await self.acquire()
        except asyncio.CancelledError:
            if self.config.release_on_cancel:  # cancelled just as an attempt succeeded
                await self.release()
            raise
        work: asyncio.Future[T] = asyncio.ensure_future(lead())
        renewing = asyncio.create_task(self.keep_renewing(), name="leader-election-renew")
        lost = False
        try:
            waiting: set[asyncio.Future[T] | asyncio.Task[None]] = {work, renewing}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                return work.result()
            lost = True
            raise LeadershipLost(
                f"leaderelection lost: lease {self.config.namespace}/"
                f"{self.config.name} not renewed within "
                f"{self.config.renew_deadline:g}s"
            )
        finally:
            for task in (work, renewing):
                task.cancel()
            await asyncio.gather(work, renewing, return_exceptions=True)
            if not lost and self.config.release_on_cancel:
                await self.release()
