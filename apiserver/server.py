"""Assembles the apiserver: etcd client, one store per resource, servicers, health and reflection."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from apiserver import errors
from apiserver.registry.store import Store
from apiserver.registry.strategy import STRATEGIES
from apiserver.servicer import PodsServicer, ResourceServicer
from apiserver.storage.etcd import EtcdClient, wait_until_ready
from podplane import resources
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.serving import Server

log = logging.getLogger(__name__)

# Namespaces every cluster has (kube-node-lease holds the nodes' heartbeat leases).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class APIServer:
    etcd_endpoints: list[str]
    address: str = "0.0.0.0:6443"
    etcd: EtcdClient = field(init=False)
    stores: dict[str, Store] = field(init=False)
    server: Server = field(init=False)

    def __post_init__(self) -> None:
        self.etcd = EtcdClient(self.etcd_endpoints)
        self.stores = {plural: Store(self.etcd, s) for plural, s in STRATEGIES.items()}

        def register(grpc_server: object) -> None:
            for r in resources.ALL:
                store = self.stores[r.plural]
                servicer = (PodsServicer(store, self.stores["nodes"]) if r is resources.POD
                            else ResourceServicer(store))
                r.add_servicer(servicer, grpc_server)

        self.server = Server(self.address, register, [r.service for r in resources.ALL])
        self._health_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.server.port)

    async def start(self, etcd_timeout: float = 60.0) -> None:
        await self.server.start()
        await self.server.set_serving(False)
        await wait_until_ready(self.etcd, etcd_timeout)
        await self._ensure_system_namespaces()
        await self.server.set_serving(True)
        self._health_task = asyncio.create_task(self._watch_etcd_health())
        log.info("apiserver serving on port %d (etcd %s)", self.port, ",".join(self.etcd_endpoints))

    async def _ensure_system_namespaces(self) -> None:
        store = self.stores["namespaces"]
        for name in SYSTEM_NAMESPACES:
            with contextlib.suppress(errors.APIError):  # already there
                await store.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name)))

    async def _watch_etcd_health(self) -> None:
        """Reports NOT_SERVING while etcd is unreachable, so health checks and balancers see it."""
        serving = True
        while True:
            await asyncio.sleep(5)
            try:
                await asyncio.wait_for(self.etcd.status(), 5)
                ok = True
            except Exception:
                ok = False
            if ok != serving:
                log.warning("etcd %s", "reachable again" if ok else "unreachable")
                await self.server.set_serving(ok)
                serving = ok

    async def stop(self, grace: float = 5.0) -> None:
        if self._health_task:
            self._health_task.cancel()
        await self.server.stop(grace)
        await self.etcd.close()
