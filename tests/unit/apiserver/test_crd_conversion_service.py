"""A conversion webhook referenced by a Service: the converter's client resolves the Service to
a ready endpoint of its EndpointSlices, read from the watch caches it is given, and verifies the
webhook's certificate for <name>.<namespace>.svc against the caBundle (a real HTTPS server on
127.0.0.1 with a CA made here); a Service without a ready endpoint fails the conversion with
Kubernetes' words."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web

from apiserver import errors
from apiserver.registry.cacher import Cacher
from apiserver.registry.customresource.conversion import (
    WebhookConversion,
    WebhookConverter,
    webhook_client,
)
from apiserver.webhook.config import ClientConfig, ServiceReference
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec, manifest
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.json_types import JSONObject
from tests.unit.apiserver.webhook.webhook_server import make_pki

GROUP = "stable.example.com"


class CachedObjects:
    """What the client reads of a watch cache: peek(namespace, name) and its objects."""

    def __init__(self, *objects: Any) -> None:
        self.objects = {f"{o.metadata.namespace}/{o.metadata.name}": o for o in objects}

    def peek(self, namespace: str, name: str) -> Any:
        return self.objects.get(f"{namespace}/{name}")


async def convert(request: web.Request) -> web.Response:
    review = await request.json()
    req = review["request"]
    objects = [
        {**o, "apiVersion": req["desiredAPIVersion"], "spec": {"schedule": o["spec"]["cronSpec"]}}
        for o in req["objects"]
    ]
    response = {"uid": req["uid"], "result": {"status": "Success"}, "convertedObjects": objects}
    return web.json_response(
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": response}
    )


@pytest.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[tuple[int, bytes]]:
    ca_pem, crt, key = make_pki(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    app = web.Application()
    app.router.add_post("/convert", convert)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    yield int(runner.addresses[0][1]), ca_pem
    await runner.cleanup()


def service() -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "hook", "namespace": "ns"},
            "spec": {"type": "ClusterIP", "ports": [{"name": "https", "port": 443}]},
        }
    )


def endpoint_slice(port: int, ready: bool) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": "hook-abcde",
                "namespace": "ns",
                "labels": {"kubernetes.io/service-name": "hook"},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": ready}}],
            "ports": [{"name": "https", "port": port}],
        }
    )


def converter(port: int, ca_pem: bytes, ready: bool) -> WebhookConverter:
    caches = {
        "services": cast(Cacher[Any], CachedObjects(service())),
        "endpointslices": cast(Cacher[Any], CachedObjects(endpoint_slice(port, ready))),
    }
    crd = apiextensions_pb2.CustomResourceDefinition()
    crd.spec.group = GROUP
    crd.spec.names.kind = "CronTab"
    crd.spec.versions.add(name="v1", served=True, storage=True)
    crd.spec.versions.add(name="v2", served=True)
    config = ClientConfig(service=ServiceReference("ns", "hook", "/convert"), ca_bundle=ca_pem)
    return WebhookConverter(
        webhook_client(caches), WebhookConversion(config, ["v1"]), crd, "v2", {}
    )


def crontab() -> CustomObject:
    data: JSONObject = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "CronTab",
        "metadata": {"name": "nightly", "namespace": "default", "uid": "u"},
        "spec": {"cronSpec": "@daily"},
    }
    obj, _ = codec.decode(CustomObject, data, FieldValidation.STRICT)
    return obj


async def test_a_service_webhook_is_called_at_its_ready_endpoint(
    webhook: tuple[int, bytes],
) -> None:
    port, ca_pem = webhook
    conversion = converter(port, ca_pem, ready=True)
    [out] = await conversion.to_served([crontab()])
    await conversion.client.close()
    assert (out.api_version, codec.encode(out)["spec"]) == (f"{GROUP}/v2", {"schedule": "@daily"})


async def test_a_service_without_a_ready_endpoint_fails_the_conversion(
    webhook: tuple[int, bytes],
) -> None:
    port, ca_pem = webhook
    conversion = converter(port, ca_pem, ready=False)
    with pytest.raises(errors.APIError) as refused:
        await conversion.to_served([crontab()])
    await conversion.client.close()
    assert refused.value.message == (
        f"conversion webhook for {GROUP}/v1, Kind=CronTab failed: Post "
        '"https://hook.ns.svc:443/convert?timeout=30s": no endpoints available for service '
        '"hook"'
    )
