"""A Service to one ready endpoint, as kube-apiserver resolves webhooks and aggregated APIs with
--enable-aggregator-routing (k8s.io/apiserver/pkg/util/proxy ResolveEndpoint and
RandomEndpoint): the Service must be ClusterIP, NodePort or LoadBalancer and have the port; its
EndpointSlices of the Service's primary IP family are tried first, in random order, and within a
slice that serves the port's name a ready endpoint is picked from a random start. Works on the
Service's and the EndpointSlices' JSON, so any cache or client can feed it."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Sequence

from apiserver.webhook.errors import ResolveError, service_unavailable
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural.field import go_quote

ServiceResolver = Callable[[str, str, int], tuple[str, int]]
"""resolve(namespace, name, port) -> (host, port) to connect to; raises ResolveError."""

ROUTABLE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")


def _not_found(name: str) -> ResolveError:
    """The Service lister's NotFound (client-go's listers name the resource `service`)."""
    message = f"service {go_quote(name)} not found"
    status = {**service_unavailable(message), "code": 404, "reason": "NotFound"}
    status["details"] = {"name": name, "kind": "service"}
    return ResolveError(message, status)


def _unavailable(message: str) -> ResolveError:
    return ResolveError(message, service_unavailable(message))


def _service_port_name(service: JSONObject, port: int) -> str:
    for p in service.get("spec", {}).get("ports") or []:
        if p.get("port") == port:
            return str(p.get("name") or "")
    name = service.get("metadata", {}).get("name", "")
    raise _unavailable(f"no service port {port} found for service {go_quote(name)}")


def resolve_endpoint(
    service: JSONObject | None,
    slices: Sequence[JSONObject],
    name: str,
    port: int,
    rng: random.Random | None = None,
) -> tuple[str, int]:
    """The (address, port) of a ready endpoint of `service` (None: not found) serving `port`,
    from the Service's EndpointSlices."""
    rng = rng or random.Random()
    if service is None:
        raise _not_found(name)
    spec = service.get("spec", {})
    service_type = spec.get("type") or "ClusterIP"
    if service_type not in ROUTABLE_TYPES:
        raise ResolveError(f"unsupported service type {go_quote(service_type)}")
    port_name = _service_port_name(service, port)
    service_name = service.get("metadata", {}).get("name", name)
    families = spec.get("ipFamilies") or []
    preferred = families[0] if families else ""
    order = list(slices)
    rng.shuffle(order)
    order.sort(key=lambda s: s.get("addressType") != preferred)
    for endpoint_slice in order:
        found = _ready_endpoint(endpoint_slice, port_name, rng)
        if found is not None:
            return found
    raise _unavailable(f"no endpoints available for service {go_quote(service_name)}")


def _ready_endpoint(
    endpoint_slice: JSONObject, port_name: str, rng: random.Random
) -> tuple[str, int] | None:
    endpoints = endpoint_slice.get("endpoints") or []
    for slice_port in endpoint_slice.get("ports") or []:
        if slice_port.get("name") != port_name or slice_port.get("port") is None:
            continue
        if not endpoints:
            continue
        offset = rng.randrange(len(endpoints))
        for i in range(len(endpoints)):
            endpoint = endpoints[(i + offset) % len(endpoints)]
            if endpoint.get("conditions", {}).get("ready") is False:
                continue
            return str(endpoint["addresses"][0]), int(slice_port["port"])
    return None


def join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort: an IPv6 address in brackets."""
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = ":" in host
    return f"[{host}]:{port}" if is_v6 else f"{host}:{port}"


def endpoint_resolver(
    get_service: Callable[[str, str], JSONObject | None],
    list_slices: Callable[[str, str], Sequence[JSONObject]],
    rng: random.Random | None = None,
) -> ServiceResolver:
    """A ServiceResolver over lookups the apiserver gives: the Service by namespace and name,
    and the EndpointSlices labelled kubernetes.io/service-name=<name> in the namespace."""

    def resolve(namespace: str, name: str, port: int) -> tuple[str, int]:
        return resolve_endpoint(
            get_service(namespace, name), list_slices(namespace, name), name, port, rng
        )

    return resolve
