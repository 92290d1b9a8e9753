"""The node's heartbeat: Lease kube-node-lease/<node>, renewed every 10 s (pkg/kubelet/nodelease).
The node lifecycle controller reads renewTime to tell a live node from a dead one."""

from __future__ import annotations

import asyncio
import logging

from podplane.api.coordination.v1 import lease_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import ResourceClient, is_not_found

log = logging.getLogger(__name__)
NAMESPACE = "kube-node-lease"
DURATION_SECONDS = 40
RENEW_INTERVAL = 10.0


class NodeLease:
    def __init__(
        self,
        leases: ResourceClient[lease_pb2.Lease],
        node_name: str,
        interval: float = RENEW_INTERVAL,
    ) -> None:
        self._leases = leases
        self.node_name = node_name
        self.interval = interval
        self.node_uid = ""
        self._lease: lease_pb2.Lease | None = None

    def _new_lease(self) -> lease_pb2.Lease:
        lease = lease_pb2.Lease(
            api_version="coordination.k8s.io/v1",
            kind="Lease",
            metadata=meta_pb2.ObjectMeta(name=self.node_name, namespace=NAMESPACE),
            spec=lease_pb2.LeaseSpec(
                holder_identity=self.node_name,
                lease_duration_seconds=DURATION_SECONDS,
                renew_time=timeutil.now_micro(),
            ),
        )
        if self.node_uid:  # the lease goes when the node object goes
            lease.metadata.owner_references.add(
                api_version="v1", kind="Node", name=self.node_name, uid=self.node_uid
            )
        return lease

    async def renew(self) -> lease_pb2.Lease:
        """Renews the lease, creating it if it does not exist."""
        if self._lease is None:
            try:
                self._lease = await self._leases.get(self.node_name, NAMESPACE)
            except Exception as e:
                if not is_not_found(e):
                    raise
                self._lease = await self._leases.create(self._new_lease())
                return self._lease
        lease = lease_pb2.Lease()
        lease.CopyFrom(self._lease)
        lease.spec.holder_identity = self.node_name
        lease.spec.lease_duration_seconds = DURATION_SECONDS
        lease.spec.renew_time = timeutil.now_micro()
        try:
            self._lease = await self._leases.update(lease)
        except Exception:
            self._lease = None  # stale or gone: read it afresh next time
            raise
        return self._lease

    async def run(self) -> None:
        """Renews every interval until cancelled; failures are retried sooner (0.2 s doubling to
        7 s)."""
        delay = 0.2
        while True:
            try:
                await self.renew()
                delay = 0.2
                await asyncio.sleep(self.interval)
            except Exception as e:  # noqa: BLE001 - retried with back-off
                log.warning(
                    "renewing lease %s/%s failed: %s; retrying in %.1fs",
                    NAMESPACE,
                    self.node_name,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 7.0)
