"""Each apiserver's identity: the Lease kube-system/apiserver-<hash of its hostname>, labelled
apiserver.kubernetes.io/identity=kube-apiserver and kubernetes.io/hostname=<hostname>, renewed
every 10 seconds for an hour (kubernetes pkg/controlplane/apiserver's
start-kube-apiserver-identity-lease-controller, with component-helpers' lease controller); and
the collector of the leases of apiservers gone for longer than their lease
(pkg/controlplane/controller/apiserverleasegc, every hour). `kubectl get leases -n kube-system
-l apiserver.kubernetes.io/identity=kube-apiserver` counts the apiservers of the control plane.

The lease is not deleted when the apiserver stops, as in Kubernetes: a restarted apiserver on the
same host renews the same lease; one that never comes back has its lease collected."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import struct
import uuid
from datetime import UTC, datetime, timedelta

import grpc

from apiserver import errors
from apiserver.registry.generic.options import DeleteOptions, ListOptions, Preconditions
from apiserver.registry.generic.store import Store
from apiserver.storage.etcd import EtcdUnavailable
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
COMPONENT = "kube-apiserver"
IDENTITY_LABEL = "apiserver.kubernetes.io/identity"
HOSTNAME_LABEL = "kubernetes.io/hostname"
SELECTOR = f"{IDENTITY_LABEL}={COMPONENT}"
# IdentityLeaseDurationSeconds, IdentityLeaseRenewIntervalPeriod, IdentityLeaseGCPeriod.
DURATION_SECONDS = 3600
RENEW_INTERVAL = 10.0
GC_PERIOD = 3600.0
MAX_UPDATE_RETRIES = 5  # component-helpers' lease controller's maxUpdateRetries
# What a pass may fail with: the API's refusals, etcd out of reach.
FAILURES = (errors.APIError, EtcdUnavailable, grpc.RpcError)


def apiserver_id(hostname: str) -> str:
    """The apiserver's ID, its lease's name: "apiserver-" and the lower-case, unpadded base32 of
    the first 16 bytes of the SHA-256 of the hostname and "kube-apiserver", each prefixed with
    its length in two bytes (kube-apiserver's APIServerID)."""
    data = b"".join(struct.pack(">H", len(s)) + s for s in (hostname.encode(), COMPONENT.encode()))
    digest = hashlib.sha256(data).digest()[:16]
    return "apiserver-" + base64.b32encode(digest).decode().rstrip("=").lower()


class IdentityLease:
    """Keeps this apiserver's lease renewed: created if missing, else its renewTime (and
    duration, and labels) brought up to date. Its holderIdentity is the ID and a UUID of this
    run; a lease kept from an earlier run on the same host keeps the holder it was created with,
    as component-helpers' lease controller does."""

    def __init__(
        self,
        leases: Store[lease_pb2.Lease],
        hostname: str,
        *,
        duration_seconds: int = DURATION_SECONDS,
        interval: float = RENEW_INTERVAL,
    ) -> None:
        self.leases = leases
        self.hostname = hostname
        self.name = apiserver_id(hostname)
        self.holder = f"{self.name}_{uuid.uuid4()}"
        self.duration_seconds = duration_seconds
        self.interval = interval
        self._latest: lease_pb2.Lease | None = None

    def _asserted(self, base: lease_pb2.Lease | None) -> lease_pb2.Lease:
        if base is None:
            lease = lease_pb2.Lease(
                metadata=meta_pb2.ObjectMeta(name=self.name, namespace=NAMESPACE),
                spec=lease_pb2.LeaseSpec(holder_identity=self.holder),
            )
        else:
            lease = lease_pb2.Lease()
            lease.CopyFrom(base)
        lease.spec.lease_duration_seconds = self.duration_seconds
        lease.spec.renew_time = timeutil.now_micro()
        lease.metadata.labels[IDENTITY_LABEL] = COMPONENT
        lease.metadata.labels[HOSTNAME_LABEL] = self.hostname
        return lease

    async def renew(self) -> lease_pb2.Lease:
        """One heartbeat: an update of the last lease written (read afresh when it is stale or
        gone), or a create when there is none."""
        last: errors.APIError | None = None
        for _ in range(MAX_UPDATE_RETRIES):
            if self._latest is None:
                try:
                    self._latest = await self.leases.get(NAMESPACE, self.name)
                except errors.APIError as e:
                    if e.reason != "NotFound":
                        raise
                    self._latest = await self.leases.create(self._asserted(None))
                    return self._latest
            try:
                self._latest = await self.leases.update(self._asserted(self._latest))
                return self._latest
            except errors.APIError as e:
                self._latest = None  # stale (another writer) or gone: read afresh
                if e.reason not in ("Conflict", "NotFound"):
                    raise
                last = e
        assert last is not None
        raise last

    async def run(self) -> None:
        while True:
            try:
                await self.renew()
            except FAILURES as e:
                log.warning("renewing the identity lease %s/%s: %s", NAMESPACE, self.name, e)
            await asyncio.sleep(self.interval)


class IdentityLeaseGC:
    """Deletes kube-system's identity leases whose renewTime and duration have passed (or that
    have none): apiservers gone for good. A lease renewed between the list and the delete is
    kept (the delete names the resourceVersion it judged)."""

    def __init__(self, leases: Store[lease_pb2.Lease], period: float = GC_PERIOD) -> None:
        self.leases = leases
        self.period = period

    async def collect(self, now: datetime | None = None) -> list[str]:
        """One pass; the names of the leases deleted."""
        now = now or datetime.now(UTC)
        listed = await self.leases.list(NAMESPACE, ListOptions(label_selector=SELECTOR))
        deleted = []
        for lease in listed.items:
            if not expired(lease, now):
                continue
            options = DeleteOptions(
                preconditions=Preconditions(
                    uid=lease.metadata.uid, resource_version=lease.metadata.resource_version
                )
            )
            try:
                await self.leases.delete(NAMESPACE, lease.metadata.name, options)
            except errors.APIError as e:
                if e.reason not in ("NotFound", "Conflict"):  # gone, or renewed: not expired
                    raise
                continue
            deleted.append(lease.metadata.name)
            log.info("deleted the expired identity lease %s/%s", NAMESPACE, lease.metadata.name)
        return deleted

    async def run(self) -> None:
        """A pass at once (a new apiserver collects what its predecessors left), then every
        period."""
        while True:
            try:
                await self.collect()
            except FAILURES as e:
                log.warning("collecting expired identity leases: %s", e)
            await asyncio.sleep(self.period)


def expired(lease: lease_pb2.Lease, now: datetime) -> bool:
    """No renewTime or duration (not a heartbeat's lease), or renewTime + duration before now."""
    renewed = timeutil.parse(lease.spec.renew_time)
    if renewed is None or not lease.spec.HasField("lease_duration_seconds"):
        return True
    return renewed + timedelta(seconds=lease.spec.lease_duration_seconds) < now
