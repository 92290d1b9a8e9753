"""A webhook client whose Services are resolved over the apiserver's own watch caches of Services
and EndpointSlices (kube-apiserver's listers): what the admission webhooks and the CRD conversion
webhooks call through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from google.protobuf.message import Message

from apiserver.objects import object_meta
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.resolver import endpoint_resolver
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.service import SERVICE_NAME_LABEL


class WatchCache(Protocol):
    """What is read of a kind's watch cache (a Cacher)."""

    @property
    def objects(self) -> Mapping[bytes, Message]: ...

    def peek(self, namespace: str, name: str) -> Message | None: ...


def cached_service_client(services: WatchCache, slices: WatchCache) -> WebhookClient:
    """A webhook client resolving a Service to a ready endpoint of its EndpointSlices."""

    def get_service(namespace: str, name: str) -> JSONObject | None:
        found = services.peek(namespace, name)
        return codec.encode(found) if found is not None else None

    def list_slices(namespace: str, name: str) -> list[JSONObject]:
        return [
            codec.encode(s)
            for s in list(slices.objects.values())
            if object_meta(s).namespace == namespace
            and object_meta(s).labels.get(SERVICE_NAME_LABEL) == name
        ]

    return WebhookClient(endpoint_resolver(get_service, list_slices))
