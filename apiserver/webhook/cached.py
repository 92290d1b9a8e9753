"""Services resolved over the apiserver's own watch caches of Services and EndpointSlices
(kube-apiserver's listers): what the admission webhooks, the CRD conversion webhooks and the
aggregation layer's proxy and availability controller read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from apiserver.objects import object_meta
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.resolver import ServiceResolver, endpoint_resolver
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.service import SERVICE_NAME_LABEL

M = TypeVar("M", bound=Message, covariant=True)


class WatchCache(Protocol[M]):
    """What is read of a kind's watch cache (a Cacher)."""

    @property
    def objects(self) -> Mapping[bytes, M]: ...

    def peek(self, namespace: str, name: str) -> M | None: ...


def service_slices(slices: WatchCache[M], namespace: str, service: str) -> list[M]:
    """The cache's EndpointSlices labelled kubernetes.io/service-name=<service> in `namespace`."""
    return [
        s
        for s in list(slices.objects.values())
        if object_meta(s).namespace == namespace
        and object_meta(s).labels.get(SERVICE_NAME_LABEL) == service
    ]


def cached_resolver(services: WatchCache[Message], slices: WatchCache[Message]) -> ServiceResolver:
    """A Service resolved to a ready endpoint of its EndpointSlices."""

    def get_service(namespace: str, name: str) -> JSONObject | None:
        found = services.peek(namespace, name)
        return codec.encode(found) if found is not None else None

    def list_slices(namespace: str, name: str) -> list[JSONObject]:
        return [codec.encode(s) for s in service_slices(slices, namespace, name)]

    return endpoint_resolver(get_service, list_slices)


def cached_service_client(
    services: WatchCache[Message], slices: WatchCache[Message]
) -> WebhookClient:
    """A webhook client resolving Services over the caches."""
    return WebhookClient(cached_resolver(services, slices))
