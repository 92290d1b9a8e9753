"""The aggregation layer assembled over the apiserver's stores and watch caches (kube-apiserver's
CreateAggregatorServer): the backends followed from the APIServices' cache, the transport and
proxy, the availability controller fed by the APIServices', Services' and EndpointSlices'
caches, the aggregated APIs' OpenAPI documents and discovery, and the authentication
ConfigMap's controller."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any

from apiserver.aggregator import aggregated_discovery
from apiserver.aggregator.aggregated_discovery import AggregatedDiscovery
from apiserver.aggregator.authentication_trust import AuthenticationTrust, authentication_data
from apiserver.aggregator.availability import discovery_probe
from apiserver.aggregator.available import AvailableConditionController, ServiceFeed, SliceFeed
from apiserver.aggregator.backends import Backends
from apiserver.aggregator.openapi import AggregatedOpenAPI, transport_fetch
from apiserver.aggregator.proxy import ProxyHandler
from apiserver.aggregator.transport import Transport
from apiserver.options.aggregator import AggregatorOptions
from apiserver.options.secure_serving import read_file
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic.store import Store
from apiserver.webhook.cached import cached_resolver, service_slices
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2


class Aggregation:
    """Everything of the aggregation layer one apiserver runs; `client_ca_file`: its
    --client-ca-file (published), `options`: the proxy's certificate and request headers."""

    def __init__(
        self,
        cachers: Mapping[str, Cacher[Any]],
        stores: Mapping[str, Store[Any]],
        client_ca_file: str | None,
        options: AggregatorOptions | None,
    ) -> None:
        client_ca = read_file("--client-ca-file", client_ca_file) if client_ca_file else b""
        self._services: Cacher[service_pb2.Service] = cachers["services"]
        self._slices: Cacher[discovery_pb2.EndpointSlice] = cachers["endpointslices"]
        self.backends = Backends()
        cachers["apiservices"].observers.append(self.backends)
        self.transport = Transport(
            cached_resolver(self._services, self._slices),
            options.client_certificate if options else None,
        )
        self.proxy = ProxyHandler(self.transport)
        self.openapi = AggregatedOpenAPI(self.backends, transport_fetch(self.transport), self.proxy)
        self.discovery = AggregatedDiscovery(
            self.backends, aggregated_discovery.transport_fetch(self.transport)
        )
        self.available = AvailableConditionController(
            cachers["apiservices"],
            stores["apiservices"],
            self._services.peek,
            self.slices_of,
            discovery_probe(self.transport),
        )
        cachers["apiservices"].observers.append(self.available)
        self._services.observers.append(ServiceFeed(self.available))
        self._slices.observers.append(SliceFeed(self.available))
        self.trust = AuthenticationTrust(
            stores["configmaps"],
            stores["roles"],
            stores["rolebindings"],
            authentication_data(client_ca, options),
        )
        cachers["configmaps"].observers.append(self.trust)

    def slices_of(self, namespace: str, service: str) -> list[discovery_pb2.EndpointSlice]:
        return service_slices(self._slices, namespace, service)

    def loops(self) -> list[Coroutine[Any, Any, None]]:
        """What runs once the caches are ready."""
        return [self.available.run(), self.trust.run(), self.openapi.run(), self.discovery.run()]

    async def close(self) -> None:
        await self.transport.close()
