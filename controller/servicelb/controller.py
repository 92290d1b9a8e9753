"""The service load balancer controller (k8s.io/cloud-provider's controllers/service, the
"service-lb-controller"), with an address pool for a cloud: every Service of type LoadBalancer
without spec.loadBalancerClass (or with --load-balancer-class's) gets an address of the pool in
status.loadBalancer.ingress, which kube-proxy on one node announces and every node's rules carry
(proxy/loadbalancer). A Service whose class is another's is left alone.

As Kubernetes' controller: the finalizer service.kubernetes.io/load-balancer-cleanup is added
before the address is given and removed once it is released (the Service deleted, or no longer of
type LoadBalancer), with the events EnsuringLoadBalancer, EnsuredLoadBalancer,
DeletingLoadBalancer, DeletedLoadBalancer and, when it fails (the pool exhausted, the requested
spec.loadBalancerIP outside it or taken), SyncLoadBalancerFailed; such a Service stays pending and
is tried again when an address is released, and every RETRY_PENDING seconds."""

from __future__ import annotations

import asyncio
import logging

from controller.framework.reconciler import ReconcileLoop
from controller.servicelb.network import default_pool
from controller.servicelb.pool import AUTO, AddressPool, AddressRefused, PoolExhausted
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svcutil
from podplane.client import events
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer import Informer, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
COMPONENT = "service-controller"
IP_MODE_VIP = "VIP"
RETRY_PENDING = 30.0
# While the apiserver's name does not resolve, the default pool is looked for again after this.
RESOLVE_RETRY = 2.0


def ingress_ips(svc: service_pb2.Service) -> list[str]:
    return [i.ip for i in svc.status.load_balancer.ingress if i.ip]


class ServiceLBController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        pool: str,
        apiserver: str = "",
        load_balancer_class: str = "",
    ) -> None:
        """`pool`: the addresses (pool.py), "auto" for the default pool of the network toward
        `apiserver` (network.py), "" for none: the controller then does nothing."""
        self.client = client
        self.pool_spec = pool
        self.apiserver = apiserver
        self.pool = AddressPool("")  # the real one once run() has resolved it
        self.load_balancer_class = load_balancer_class
        self.recorder = events.EventRecorder(client, COMPONENT)
        self.services: Informer[service_pb2.Service] = informers.informer_for(resources.SERVICE)
        # Services refused an address, tried again as soon as one is released.
        self._waiting: set[str] = set()
        self.loop = ReconcileLoop("service-lb", self.reconcile, informers, [self.services])

    def wants_load_balancer(self, svc: service_pb2.Service) -> bool:
        """Of type LoadBalancer and of this controller's class (wantsLoadBalancer)."""
        spec = svc.spec
        own = spec.load_balancer_class if spec.HasField("load_balancer_class") else ""
        return spec.type == svcutil.LOAD_BALANCER and own == self.load_balancer_class

    # The pool's book is kept in the handlers too, as node IPAM's: every address a cached Service
    # shows must be known taken before the first allocation, whatever order keys are worked in.
    def _on_service(self, svc: service_pb2.Service) -> None:
        key = object_key(svc)
        if self.wants_load_balancer(svc) and FINALIZER in svc.metadata.finalizers:
            for ip in ingress_ips(svc)[:1]:
                if self.pool.held(key) is None:
                    self.pool.hold(key, ip)
        self.loop.enqueue(key)

    def _on_delete(self, svc: service_pb2.Service) -> None:
        self.loop.enqueue(object_key(svc))

    async def run(self) -> None:
        self.pool = AddressPool(await self._resolve_pool())
        if not self.pool.size:
            log.warning("service-lb controller: no address pool, Services stay pending")
            return
        log.info("service-lb controller: address pool %s (%d)", self.pool.spec, self.pool.size)
        # Registered now, the handlers get every cached Service at once (and the rest as they
        # are listed), all before the workers start.
        self.services.add_handler(
            on_add=self._on_service,
            on_update=lambda _old, new: self._on_service(new),
            on_delete=self._on_delete,
        )
        await self.loop.run()

    async def _resolve_pool(self) -> str:
        if self.pool_spec != AUTO:
            return self.pool_spec
        while True:
            try:
                return await asyncio.to_thread(default_pool, self.apiserver)
            except OSError as e:
                log.info("service-lb controller: default pool not known yet: %s", e)
            await asyncio.sleep(RESOLVE_RETRY)

    def _release(self, key: str) -> None:
        if self.pool.release(key) is not None:
            for waiting in sorted(self._waiting):
                self.loop.enqueue(waiting)

    async def reconcile(self, key: str) -> float | None:
        svc = self.services.get(key)
        if svc is None:
            self._waiting.discard(key)
            self._release(key)
            return None
        wants = self.wants_load_balancer(svc)
        has_finalizer = FINALIZER in svc.metadata.finalizers
        if has_finalizer and (svc.metadata.deletion_timestamp or not wants):
            await self._delete_load_balancer(key, svc)
            return None
        if not wants or svc.metadata.deletion_timestamp:
            self._waiting.discard(key)
            self._release(key)
            return None
        address = self.pool.held(key)
        if has_finalizer and address is not None and ingress_ips(svc) == [address]:
            requested = svc.spec.load_balancer_ip
            if not requested or requested == address:
                return None
        return await self._ensure_load_balancer(key, svc, has_finalizer)

    async def _ensure_load_balancer(
        self, key: str, svc: service_pb2.Service, has_finalizer: bool
    ) -> float | None:
        self.recorder.record(svc, events.NORMAL, "EnsuringLoadBalancer", "Ensuring load balancer")
        if not has_finalizer:
            # Before any address is given: the Service cannot go without the address released.
            svc = await self._write_finalizers(svc, [*svc.metadata.finalizers, FINALIZER])
        try:
            address = self.pool.allocate(key, svc.spec.load_balancer_ip)
        except (PoolExhausted, AddressRefused) as e:
            self._waiting.add(key)
            log.warning("service %s: %s", key, e)
            self.recorder.record(
                svc,
                events.WARNING,
                "SyncLoadBalancerFailed",
                f"Error syncing load balancer: failed to ensure load balancer: {e}",
            )
            return RETRY_PENDING
        self._waiting.discard(key)
        if ingress_ips(svc) != [address]:
            status = service_pb2.Service()
            status.CopyFrom(svc)
            del status.status.load_balancer.ingress[:]
            status.status.load_balancer.ingress.add(ip=address, ip_mode=IP_MODE_VIP)
            await self.client.services.update_status(status)
            log.info("service %s: load balancer address %s", key, address)
        self.recorder.record(svc, events.NORMAL, "EnsuredLoadBalancer", "Ensured load balancer")
        return None

    async def _delete_load_balancer(self, key: str, svc: service_pb2.Service) -> None:
        if self.pool.held(key) is not None:
            self.recorder.record(
                svc, events.NORMAL, "DeletingLoadBalancer", "Deleting load balancer"
            )
            log.info("service %s: load balancer address %s released", key, self.pool.held(key))
        self._waiting.discard(key)
        self._release(key)
        try:
            svc = await self._write_finalizers(
                svc, [f for f in svc.metadata.finalizers if f != FINALIZER]
            )
        except Exception as e:
            if is_not_found(e):
                return
            raise
        self.recorder.record(svc, events.NORMAL, "DeletedLoadBalancer", "Deleted load balancer")
        if svc.metadata.deletion_timestamp or not svc.status.load_balancer.ingress:
            return
        cleared = service_pb2.Service()
        cleared.CopyFrom(svc)
        del cleared.status.load_balancer.ingress[:]
        try:
            await self.client.services.update_status(cleared)
        except Exception as e:
            if not is_not_found(e):
                raise

    async def _write_finalizers(
        self, svc: service_pb2.Service, finalizers: list[str]
    ) -> service_pb2.Service:
        updated = service_pb2.Service()
        updated.CopyFrom(svc)
        del updated.metadata.finalizers[:]
        updated.metadata.finalizers.extend(finalizers)
        return await self.client.services.update(updated)
