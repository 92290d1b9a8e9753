"""The routes the served Ingresses ask for, resolved against the cluster: each host's paths in the
order they are matched, each backend's ready endpoints (a Service's port by name or number, mapped
to its target port through the EndpointSlices' ports), each TLS section's certificate. What cannot
be resolved (a missing Service or Secret) is a problem reported on the Ingress; its paths stay, and
answer 503 (no endpoint), as ingress-nginx's do.

Ingresses are merged as ingress-nginx merges them: the oldest first (creation time, then namespace
and name); a host and path two of them claim goes to the oldest. A host's unmatched paths go to
the default backend of the oldest Ingress naming that host with one, else to the cluster-wide
default: the oldest Ingress's spec.defaultBackend, else the 404 backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ingress import matching
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.networking.v1 import networking_pb2

TLS_SECRET = "kubernetes.io/tls"


@dataclass(frozen=True)
class Backend:
    """A Service's port: the addresses of its ready endpoints."""

    namespace: str
    service: str
    port: str  # the Service's port, by name or number
    servers: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.namespace}_{self.service}_{self.port}"


@dataclass(frozen=True)
class Route:
    path: str  # as matching.normal_path gives it
    path_type: str  # Exact or Prefix
    backend: str


@dataclass(frozen=True)
class Host:
    """A host's routes (`` for rules without a host), in the order they are tried."""

    host: str
    routes: tuple[Route, ...]
    default: str | None  # the backend of unmatched paths; None: the cluster-wide default
    redirect_to_https: bool = False


@dataclass(frozen=True)
class Certificate:
    name: str  # namespace_secret
    pem: bytes  # the certificate chain, then the key
    hosts: tuple[str, ...]  # the SNI names it is chosen for; empty: those it names


@dataclass(frozen=True)
class Problem:
    ingress: networking_pb2.Ingress
    reason: str
    message: str


@dataclass
class Routing:
    hosts: list[Host] = field(default_factory=list)
    default: str | None = None
    backends: dict[str, Backend] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Cluster:
    """The informers' caches as the routes read them."""

    service: Callable[[str, str], service_pb2.Service | None]
    slices: Callable[[str, str], list[discovery_pb2.EndpointSlice]]
    secret: Callable[[str, str], core_pb2.Secret | None]


def _age(ing: networking_pb2.Ingress) -> tuple[str, str, str]:
    m = ing.metadata
    return (m.creation_timestamp, m.namespace, m.name)


def _ready(endpoint: discovery_pb2.Endpoint) -> bool:
    # An unset condition counts as ready (the EndpointSlice API's rule).
    c = endpoint.conditions
    return not c.HasField("ready") or c.ready


def _usable(crt: bytes, key: bytes) -> bool:
    """Whether HAProxy can load them: it refuses a whole configuration for one bad file."""
    try:
        x509.load_pem_x509_certificate(crt)
        serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        return False
    return True


def ssl_redirect(ing: networking_pb2.Ingress) -> bool:
    """ingress-nginx's ssl-redirect, on by default for the hosts of a TLS section."""
    value = ing.metadata.annotations.get("nginx.ingress.kubernetes.io/ssl-redirect", "true")
    return value.lower() != "false"


class _Builder:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.routing = Routing()

    def backend(self, ing: networking_pb2.Ingress, ref: networking_pb2.IngressBackend) -> str:
        ns = ing.metadata.namespace
        svc_ref = ref.service
        port = svc_ref.port.name or str(svc_ref.port.number)
        backend = Backend(ns, svc_ref.name, port)
        if backend.name not in self.routing.backends:
            self.routing.backends[backend.name] = self._resolve(ing, backend)
        return backend.name

    def _resolve(self, ing: networking_pb2.Ingress, backend: Backend) -> Backend:
        svc = self.cluster.service(backend.namespace, backend.service)
        where = f"{backend.namespace}/{backend.service}"
        if svc is None:
            self._problem(ing, "ServiceNotFound", f'service "{where}" not found')
            return backend
        port = next(
            (p for p in svc.spec.ports if backend.port in (p.name, str(p.port))),
            None,
        )
        if port is None:
            self._problem(
                ing, "ServicePortNotFound", f'service "{where}" has no port {backend.port}'
            )
            return backend
        servers: set[tuple[str, int]] = set()
        for slice_ in self.cluster.slices(backend.namespace, backend.service):
            target = next((p.port for p in slice_.ports if p.name == port.name), None)
            if target is None:
                continue
            for endpoint in slice_.endpoints:
                if _ready(endpoint) and endpoint.addresses:
                    servers.add((endpoint.addresses[0], target))
        return Backend(backend.namespace, backend.service, backend.port, tuple(sorted(servers)))

    def certificate(self, ing: networking_pb2.Ingress, tls: networking_pb2.IngressTLS) -> None:
        ns = ing.metadata.namespace
        where = f"{ns}/{tls.secret_name}"
        secret = self.cluster.secret(ns, tls.secret_name)
        if secret is None:
            self._problem(ing, "SecretNotFound", f'secret "{where}" not found')
            return
        crt, key = secret.data.get("tls.crt", b""), secret.data.get("tls.key", b"")
        if secret.type != TLS_SECRET or not crt or not key:
            self._problem(
                ing,
                "InvalidSecret",
                f'secret "{where}" is not of type {TLS_SECRET} with tls.crt and tls.key',
            )
            return
        if not _usable(crt, key):
            self._problem(
                ing, "InvalidSecret", f'secret "{where}": tls.crt or tls.key cannot be read'
            )
            return
        name = f"{ns}_{tls.secret_name}"
        pem = crt.rstrip(b"\n") + b"\n" + key.rstrip(b"\n") + b"\n"
        self.routing.certificates.append(
            Certificate(name, pem, tuple(h.lower() for h in tls.hosts))
        )

    def _problem(self, ing: networking_pb2.Ingress, reason: str, message: str) -> None:
        self.routing.problems.append(Problem(ing, reason, message))


def build(ingresses: Iterable[networking_pb2.Ingress], cluster: Cluster) -> Routing:
    builder = _Builder(cluster)
    routing = builder.routing
    routes: dict[str, dict[tuple[str, str], Route]] = {}
    defaults: dict[str, str] = {}
    redirected: set[str] = set()
    for ing in sorted(ingresses, key=_age):
        spec = ing.spec
        own_default = (
            builder.backend(ing, spec.default_backend)
            if spec.default_backend.service.name
            else None
        )
        if own_default is not None and routing.default is None:
            routing.default = own_default
        tls_hosts = {h.lower() for tls in spec.tls for h in tls.hosts}
        for rule in spec.rules:
            host = rule.host.lower()
            paths = routes.setdefault(host, {})
            if own_default is not None:
                defaults.setdefault(host, own_default)
            if host and host in tls_hosts and ssl_redirect(ing):
                redirected.add(host)
            for p in rule.http.paths:
                path_type = matching.PREFIX if p.path_type != matching.EXACT else matching.EXACT
                pattern = matching.normal_path(p.path or "/", path_type)
                if (pattern, path_type) not in paths:
                    paths[(pattern, path_type)] = Route(
                        pattern, path_type, builder.backend(ing, p.backend)
                    )
        for tls in spec.tls:
            if tls.secret_name:
                builder.certificate(ing, tls)
    for host in sorted(routes, key=_host_order):
        ordered = sorted(
            routes[host].values(), key=lambda r: matching.precedence(r.path, r.path_type)
        )
        routing.hosts.append(Host(host, tuple(ordered), defaults.get(host), host in redirected))
    return routing


def _host_order(host: str) -> tuple[int, str]:
    """Exact hosts first, then wildcards, then the rules without a host."""
    return (2 if not host else 1 if host.startswith("*.") else 0, host)
