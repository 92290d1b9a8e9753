"""The `kubernetes` Service in `default`: how pods reach the apiserver (kubernetes
pkg/controlplane/controller/kubernetesservice and the lease endpoint reconciler of
pkg/controlplane/reconcilers).

Every 10 seconds each apiserver makes sure the Service exists with its port 443 (https) to the
apiserver's REST port and the first address of the service range, renews its master lease
(/registry/masterleases/<its address>, an etcd lease of 15 seconds), and writes the Service's
Endpoints and EndpointSlice with the address of every apiserver whose lease is alive. One that
stops removes its lease and its address at once; one that dies drops out when its lease
expires."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import grpc

from apiserver import errors
from apiserver.registry.generic.store import Store
from apiserver.storage.etcd import EtcdClient, EtcdUnavailable, prefix_end
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import SERVICE_NAME_LABEL

log = logging.getLogger(__name__)

NAME = "kubernetes"
NAMESPACE = "default"
PORT_NAME = "https"
SERVICE_PORT = 443
LEASES_PREFIX = b"/registry/masterleases/"
INTERVAL = 10.0
LEASE_TTL = 15
# What a pass may fail with: the API's refusals, etcd out of reach.
FAILURES = (errors.APIError, EtcdUnavailable, grpc.RpcError)
# The Endpoints of `kubernetes` are the apiserver's own: not mirrored into other slices.
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"


class KubernetesService:
    def __init__(
        self,
        etcd: EtcdClient,
        services: Store[service_pb2.Service],
        endpoints: Store[service_pb2.Endpoints],
        slices: Store[discovery_pb2.EndpointSlice],
        *,
        cluster_ip: str,
        address: str | None,
        port: int,
    ) -> None:
        """`address` and `port`: where pods reach this apiserver's REST door (None: its
        address is not published, the Service is kept all the same)."""
        self.etcd = etcd
        self.services = services
        self.endpoints = endpoints
        self.slices = slices
        self.cluster_ip = cluster_ip
        self.address = address
        self.port = port

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except FAILURES as e:
                log.warning("unable to sync the kubernetes service: %s", e)
            await asyncio.sleep(INTERVAL)

    async def reconcile(self) -> None:
        await self.ensure_service()
        if self.address is not None:
            lease = await self.etcd.grant_lease(LEASE_TTL)
            record = json.dumps({"port": self.port}).encode()
            await self.etcd.put(self._lease_key(), record, lease=lease)
        await self.ensure_endpoints()

    async def stop(self) -> None:
        """Takes this apiserver's address out of the endpoints."""
        if self.address is None:
            return
        with contextlib.suppress(*FAILURES):
            await self.etcd.delete(self._lease_key())
            await self.ensure_endpoints()

    def _lease_key(self) -> bytes:
        return LEASES_PREFIX + str(self.address).encode()

    def _ports(self) -> list[service_pb2.ServicePort]:
        return [
            service_pb2.ServicePort(
                name=PORT_NAME, protocol="TCP", port=SERVICE_PORT, target_port=str(self.port)
            )
        ]

    async def ensure_service(self) -> None:
        """Creates the Service, or puts its port and type back as they should be."""
        try:
            svc = await self.services.get(NAMESPACE, NAME)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            await self._create_service()
            return
        if list(svc.spec.ports) == self._ports() and svc.spec.type == svc_helper.CLUSTER_IP:
            return
        del svc.spec.ports[:]
        svc.spec.ports.extend(self._ports())
        svc.spec.type = svc_helper.CLUSTER_IP
        await self.services.update(svc)

    async def _create_service(self) -> None:
        svc = service_pb2.Service(
            metadata=meta_pb2.ObjectMeta(
                name=NAME,
                namespace=NAMESPACE,
                labels={"component": "apiserver", "provider": "kubernetes"},
            ),
            spec=service_pb2.ServiceSpec(
                type=svc_helper.CLUSTER_IP,
                cluster_ip=self.cluster_ip,
                ports=self._ports(),
                session_affinity=svc_helper.AFFINITY_NONE,
            ),
        )
        try:
            await self.services.create(svc)
        except errors.APIError as e:
            if e.reason != "AlreadyExists":  # another apiserver made it meanwhile
                raise

    async def _live(self) -> dict[str, int]:
        """The address and REST port of every apiserver whose lease is alive."""
        kvs, _, _ = await self.etcd.range(LEASES_PREFIX, prefix_end(LEASES_PREFIX))
        live: dict[str, int] = {}
        for kv in kvs:
            try:
                live[kv.key[len(LEASES_PREFIX) :].decode()] = int(json.loads(kv.value)["port"])
            except (ValueError, KeyError, TypeError):
                continue
        return live

    async def ensure_endpoints(self) -> None:
        live = await self._live()
        addresses = sorted(live)
        port = live[addresses[0]] if addresses else self.port
        await self._write_endpoints(addresses, port)
        await self._write_slice(addresses, port)

    async def _write_endpoints(self, addresses: list[str], port: int) -> None:
        wanted = service_pb2.Endpoints(
            metadata=meta_pb2.ObjectMeta(
                name=NAME, namespace=NAMESPACE, labels={SKIP_MIRROR_LABEL: "true"}
            )
        )
        if addresses:
            wanted.subsets.append(
                service_pb2.EndpointSubset(
                    addresses=[service_pb2.EndpointAddress(ip=a) for a in addresses],
                    ports=[service_pb2.EndpointPort(name=PORT_NAME, port=port, protocol="TCP")],
                )
            )
        try:
            current = await self.endpoints.get(NAMESPACE, NAME)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            with contextlib.suppress(errors.APIError):  # made meanwhile: the next pass updates
                await self.endpoints.create(wanted)
            return
        if current.subsets == wanted.subsets and dict(current.metadata.labels) == dict(
            wanted.metadata.labels
        ):
            return
        current.ClearField("subsets")
        current.subsets.extend(wanted.subsets)
        current.metadata.labels.clear()
        current.metadata.labels.update(wanted.metadata.labels)
        await self.endpoints.update(current)

    async def _write_slice(self, addresses: list[str], port: int) -> None:
        family = (
            svc_helper.IPV6
            if addresses and all(svc_helper.ip_family(a) == svc_helper.IPV6 for a in addresses)
            else svc_helper.IPV4
        )
        wanted = discovery_pb2.EndpointSlice(
            metadata=meta_pb2.ObjectMeta(
                name=NAME, namespace=NAMESPACE, labels={SERVICE_NAME_LABEL: NAME}
            ),
            address_type=family,
            endpoints=[
                discovery_pb2.Endpoint(
                    addresses=[a], conditions=discovery_pb2.EndpointConditions(ready=True)
                )
                for a in addresses
            ],
            ports=[discovery_pb2.EndpointPort(name=PORT_NAME, port=port, protocol="TCP")],
        )
        try:
            current = await self.slices.get(NAMESPACE, NAME)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            with contextlib.suppress(errors.APIError):
                await self.slices.create(wanted)
            return
        if (
            current.address_type == wanted.address_type
            and list(current.endpoints) == list(wanted.endpoints)
            and list(current.ports) == list(wanted.ports)
            and dict(current.metadata.labels) == dict(wanted.metadata.labels)
        ):
            return
        if current.address_type != wanted.address_type:  # immutable: replaced
            await self.slices.delete(NAMESPACE, NAME)
            await self.slices.create(wanted)
            return
        current.ClearField("endpoints")
        current.endpoints.extend(wanted.endpoints)
        current.ClearField("ports")
        current.ports.extend(wanted.ports)
        current.metadata.labels.clear()
        current.metadata.labels.update(wanted.metadata.labels)
        await self.slices.update(current)
