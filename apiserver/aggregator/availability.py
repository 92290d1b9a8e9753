"""Whether an APIService that names a Service is available, as Kubernetes 1.31's
AvailableConditionController (kube-aggregator pkg/controllers/status/available_controller.go)
decides, with its reasons and texts: the Service must exist (ServiceNotFound); a ClusterIP
Service must have the port (ServicePortError) and a ready endpoint serving that port's name
(MissingEndpoints); then a GET of /apis/<group>/<version> at a resolved endpoint must answer
2xx within 5 s, as system:kube-aggregator in system:masters, the certificate not verified
(FailedDiscoveryCheck, of five attempts at once the last failure's text); else True, Passed.

Kubernetes 1.31 reads the Service's Endpoints object; podplane reads its EndpointSlices, as its
resolver does (a Service without a selector has the slices its owner writes), so an absent
slice is MissingEndpoints and there is no EndpointsNotFound."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp

from apiserver.aggregator.backends import Backend
from apiserver.aggregator.transport import Transport, failure_text
from apiserver.webhook.errors import ResolveError
from apiserver.webhook.resolver import join_host_port
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery.structural.field import go_quote

DISCOVERY_ATTEMPTS = 5
DISCOVERY_TIMEOUT = 5.0  # the discovery client's Timeout
ATTEMPT_TIMEOUT = 6.0  # "we added this as insurance"
AGGREGATOR_USER = "system:kube-aggregator"
AGGREGATOR_GROUPS = ("system:masters",)


@dataclass(frozen=True)
class Verdict:
    """The Available condition's status, reason and message."""

    status: str
    reason: str
    message: str


PASSED = Verdict("True", "Passed", "all checks passed")


def has_active_endpoint(slices: Sequence[discovery_pb2.EndpointSlice], port_name: str) -> bool:
    """A slice with a ready address and a port of that name."""
    for endpoint_slice in slices:
        ready = any(
            e.addresses and (not e.conditions.HasField("ready") or e.conditions.ready)
            for e in endpoint_slice.endpoints
        )
        named = any(
            p.HasField("port") and (p.name if p.HasField("name") else "") == port_name
            for p in endpoint_slice.ports
        )
        if ready and named:
            return True
    return False


def check_service(
    backend: Backend,
    service: service_pb2.Service | None,
    slices: Sequence[discovery_pb2.EndpointSlice],
) -> Verdict | None:
    """The verdict the Service and its endpoints give, or None when the discovery check
    decides."""
    name, namespace = backend.service, backend.namespace
    if service is None:
        return Verdict(
            "False", "ServiceNotFound", f"service/{name} in {go_quote(namespace)} is not present"
        )
    if (service.spec.type or "ClusterIP") != "ClusterIP":
        return None
    port_name = next((p.name for p in service.spec.ports if p.port == backend.port), None)
    if port_name is None:
        return Verdict(
            "False",
            "ServicePortError",
            f"service/{name} in {go_quote(namespace)} is not listening on port {backend.port}",
        )
    if not has_active_endpoint(slices, port_name):
        return Verdict(
            "False",
            "MissingEndpoints",
            f"endpoints for service/{name} in {go_quote(namespace)} have no addresses with "
            f"port name {go_quote(port_name)}",
        )
    return None


def discovery_path(backend: Backend) -> str:
    if backend.name == "v1.":
        return "/api/" + backend.version
    return f"/apis/{backend.group}/{backend.version}"


async def _attempt(transport: Transport, backend: Backend) -> str | None:
    """One attempt: None when it passed, else its error text."""
    try:
        address = transport.resolve(backend)
    except ResolveError as e:
        return str(e)
    url = f"https://{join_host_port(*address)}{discovery_path(backend)}"
    headers = {"X-Remote-User": AGGREGATOR_USER, "X-Remote-Group": AGGREGATOR_GROUPS[0]}
    session = transport.session(b"", insecure=True)
    try:
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            try:
                async with session.get(
                    url,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=DISCOVERY_TIMEOUT),
                ) as response:
                    code = response.status
            except (aiohttp.ClientError, TimeoutError) as e:
                text = await failure_text(e, address, backend.server_name, b"")
                return f"failing or missing response from {url}: Get {go_quote(url)}: {text}"
    except TimeoutError:
        return f"timed out waiting for {url}"
    if not 200 <= code < 300:
        return f"failing or missing response from {url}: bad status from {url}: {code}"
    return None


Probe = Callable[[Backend], Awaitable[str | None]]


def discovery_probe(transport: Transport) -> Probe:
    """The discovery check: five attempts at once; None as soon as one passes, else the text
    of the last to fail."""

    async def probe(backend: Backend) -> str | None:
        attempts = [
            asyncio.create_task(_attempt(transport, backend)) for _ in range(DISCOVERY_ATTEMPTS)
        ]
        last: str | None = None
        try:
            for finished in asyncio.as_completed(attempts):
                last = await finished
                if last is None:
                    return None
        finally:
            for task in attempts:
                task.cancel()
        return last

    return probe
