"""Where a call goes: the URL built from a webhook's clientConfig as client-go builds it, and a
Service resolved to a ready endpoint of its EndpointSlices as kube-apiserver's endpoint resolver
does, with its texts when it cannot."""

from __future__ import annotations

import base64
import random

import pytest

from apiserver.webhook.config import (
    ClientConfig,
    ServiceReference,
    client_config_from_json,
    target,
)
from apiserver.webhook.errors import ResolveError
from apiserver.webhook.resolver import endpoint_resolver, join_host_port, resolve_endpoint
from podplane.apimachinery.json_types import JSONObject


@pytest.mark.parametrize(
    ("config", "timeout", "url"),
    [
        (
            ClientConfig(service=ServiceReference("ns", "hook")),
            10,
            "https://hook.ns.svc:443/?timeout=10s",
        ),
        (
            ClientConfig(service=ServiceReference("ns", "hook", "/a//b/", 8443)),
            30,
            "https://hook.ns.svc:8443/a/b?timeout=30s",
        ),
        (
            ClientConfig(service=ServiceReference("ns", "hook", "/x/../y")),
            90,
            "https://hook.ns.svc:443/y?timeout=1m30s",
        ),
        (
            ClientConfig(url="https://example.com/validate"),
            5,
            "https://example.com/validate?timeout=5s",
        ),
        (ClientConfig(url="https://10.0.0.1:9443"), 1, "https://10.0.0.1:9443/?timeout=1s"),
        (ClientConfig(url="https://[::1]:9443/v"), None, "https://[::1]:9443/v"),
    ],
)
def test_the_url_is_client_gos(config: ClientConfig, timeout: int | None, url: str) -> None:
    assert target(config, timeout).url == url


def test_a_service_is_verified_and_addressed_by_its_service_name() -> None:
    call = target(ClientConfig(service=ServiceReference("kube-system", "metrics", "", 6443)), 10)
    name = "metrics.kube-system.svc"
    assert (call.server_name, call.host_header) == (name, f"{name}:6443")


def test_a_configuration_without_service_or_url_says_so() -> None:
    with pytest.raises(
        ValueError, match=r"^webhook configuration must have either service or URL$"
    ):
        target(ClientConfig(), 10)


def test_client_config_json_decodes_the_bundle_and_defaults_the_port() -> None:
    pem = b"-----BEGIN CERTIFICATE-----\n"
    obj = {
        "service": {"namespace": "ns", "name": "hook", "path": "/v"},
        "caBundle": base64.b64encode(pem).decode(),
    }
    assert client_config_from_json(obj) == ClientConfig(
        service=ServiceReference("ns", "hook", "/v", 443), ca_bundle=pem
    )


def service(type_: str = "ClusterIP", families: tuple[str, ...] = ()) -> JSONObject:
    spec: JSONObject = {"type": type_, "ports": [{"name": "https", "port": 443}]}
    if families:
        spec["ipFamilies"] = list(families)
    return {"metadata": {"name": "hook", "namespace": "ns"}, "spec": spec}


def endpoint_slice(
    address_type: str, port_name: str | None, *endpoints: tuple[str, bool | None]
) -> JSONObject:
    port: JSONObject = {"port": 8443}
    if port_name is not None:
        port["name"] = port_name
    eps = []
    for address, ready in endpoints:
        ep: JSONObject = {"addresses": [address]}
        if ready is not None:
            ep["conditions"] = {"ready": ready}
        eps.append(ep)
    return {"addressType": address_type, "ports": [port], "endpoints": eps}


def test_only_ready_endpoints_of_the_services_port_are_chosen() -> None:
    slices = [
        endpoint_slice("IPv4", "metrics", ("10.0.0.9", True)),  # another port
        endpoint_slice("IPv4", "https", ("10.0.0.1", False), ("10.0.0.2", None)),
    ]
    chosen = {resolve_endpoint(service(), slices, "hook", 443, random.Random(s)) for s in range(20)}
    assert chosen == {("10.0.0.2", 8443)}


def test_the_services_primary_family_is_preferred() -> None:
    slices = [
        endpoint_slice("IPv4", "https", ("10.0.0.1", True)),
        endpoint_slice("IPv6", "https", ("fd00::1", True)),
    ]
    svc = service(families=("IPv6", "IPv4"))
    chosen = {resolve_endpoint(svc, slices, "hook", 443, random.Random(s)) for s in range(20)}
    assert chosen == {("fd00::1", 8443)}
    assert join_host_port("fd00::1", 8443) == "[fd00::1]:8443"


NO_ENDPOINTS = 'no endpoints available for service "hook"'


@pytest.mark.parametrize(
    ("svc", "slices", "port", "message", "code"),
    [
        (None, [], 443, 'service "hook" not found', 404),
        (service("ExternalName"), [], 443, 'unsupported service type "ExternalName"', 400),
        (service(), [], 80, 'no service port 80 found for service "hook"', 503),
        (service(), [], 443, NO_ENDPOINTS, 503),
        (service(), [endpoint_slice("IPv4", None, ("10.0.0.1", True))], 443, NO_ENDPOINTS, 503),
        (service(), [endpoint_slice("IPv4", "https", ("10.0.0.1", False))], 443, NO_ENDPOINTS, 503),
    ],
)
def test_a_service_that_cannot_be_reached_says_why(
    svc: JSONObject | None, slices: list[JSONObject], port: int, message: str, code: int
) -> None:
    with pytest.raises(ResolveError) as caught:
        resolve_endpoint(svc, slices, "hook", port)
    assert (str(caught.value), caught.value.status["code"]) == (message, code)


def test_the_resolver_looks_the_service_and_its_slices_up_by_namespace_and_name() -> None:
    looked_up: list[tuple[str, str]] = []

    def get_service(namespace: str, name: str) -> JSONObject:
        looked_up.append((namespace, name))
        return service()

    resolve = endpoint_resolver(
        get_service, lambda ns, name: [endpoint_slice("IPv4", "https", ("10.0.0.3", True))]
    )
    assert resolve("ns", "hook", 443) == ("10.0.0.3", 8443)
    assert looked_up == [("ns", "hook")]
