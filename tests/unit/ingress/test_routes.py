"""The routes the served Ingresses resolve to, and the haproxy.cfg they render: Ingresses merged
oldest first, a Service's port by name or number mapped to the EndpointSlices' target port, only
ready endpoints, the problems reported (a missing Service or Secret), TLS hosts redirected, the
404 backend last."""

from __future__ import annotations

from typing import Any

from ingress.haproxy import config
from ingress.routes import Cluster, Routing, build
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest

LISTEN = config.Listen("127.0.0.1", 8080, 8443, 0, "/state")


def _ingress(name: str, created: str, spec: dict[str, Any]) -> networking_pb2.Ingress:
    obj = manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
            "spec": spec,
        }
    )
    assert isinstance(obj, networking_pb2.Ingress)
    return obj


def _rule(host: str, *paths: tuple[str, str, str, Any]) -> dict[str, Any]:
    return {
        "host": host,
        "http": {
            "paths": [
                {
                    "path": p,
                    "pathType": t,
                    "backend": {
                        "service": {
                            "name": s,
                            "port": {"number": port} if isinstance(port, int) else {"name": port},
                        }
                    },
                }
                for p, t, s, port in paths
            ]
        },
    }


def _cluster() -> Cluster:
    svc = service_pb2.Service()
    svc.metadata.name, svc.metadata.namespace = "web", "ns"
    svc.spec.ports.add(name="http", port=80, target_port="http")
    slice_ = discovery_pb2.EndpointSlice(address_type="IPv4")
    slice_.metadata.name, slice_.metadata.namespace = "web-1", "ns"
    slice_.ports.add(name="http", port=8080)
    slice_.endpoints.add(addresses=["10.0.0.2"]).conditions.ready = True
    slice_.endpoints.add(addresses=["10.0.0.1"])  # no condition: ready
    slice_.endpoints.add(addresses=["10.0.0.3"]).conditions.ready = False
    return Cluster(
        service=lambda ns, name: svc if (ns, name) == ("ns", "web") else None,
        slices=lambda ns, name: [slice_] if (ns, name) == ("ns", "web") else [],
        secret=lambda ns, name: None,
    )


def _build(*ingresses: networking_pb2.Ingress) -> Routing:
    return build(ingresses, _cluster())


def test_ready_endpoints_on_the_target_port_by_port_name_or_number() -> None:
    routing = _build(
        _ingress(
            "a", "2026-01-01T00:00:00Z", {"rules": [_rule("a.com", ("/", "Prefix", "web", 80))]}
        ),
        _ingress(
            "b", "2026-01-01T00:00:01Z", {"rules": [_rule("b.com", ("/", "Prefix", "web", "http"))]}
        ),
    )
    servers = (("10.0.0.1", 8080), ("10.0.0.2", 8080))
    assert routing.backends["ns_web_80"].servers == servers
    assert routing.backends["ns_web_http"].servers == servers
    assert routing.problems == []


def test_the_oldest_ingress_wins_a_path_and_sets_the_default() -> None:
    young = _ingress(
        "young",
        "2026-01-02T00:00:00Z",
        {
            "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
            "rules": [_rule("a.com", ("/x", "Prefix", "web", "http"))],
        },
    )
    old = _ingress(
        "old", "2026-01-01T00:00:00Z", {"rules": [_rule("a.com", ("/x/", "Prefix", "web", 80))]}
    )
    routing = _build(young, old)
    [host] = routing.hosts
    assert [(r.path, r.path_type, r.backend) for r in host.routes] == [
        ("/x", "Prefix", "ns_web_80")
    ]
    assert routing.default == "ns_web_80"


def test_missing_service_and_secret_are_problems_and_the_paths_stay() -> None:
    ing = _ingress(
        "a",
        "2026-01-01T00:00:00Z",
        {
            "tls": [{"hosts": ["a.com"], "secretName": "cert"}],
            "rules": [_rule("a.com", ("/", "Prefix", "gone", 80), ("/p", "Exact", "web", 81))],
        },
    )
    routing = _build(ing)
    assert [(p.reason, p.message) for p in routing.problems] == [
        ("ServiceNotFound", 'service "ns/gone" not found'),
        ("ServicePortNotFound", 'service "ns/web" has no port 81'),
        ("SecretNotFound", 'secret "ns/cert" not found'),
    ]
    assert routing.backends["ns_gone_80"].servers == ()
    assert routing.hosts[0].redirect_to_https


def test_rendered_configuration() -> None:
    ing = _ingress(
        "a",
        "2026-01-01T00:00:00Z",
        {
            "rules": [
                _rule("*.a.com", ("/", "Prefix", "web", 80)),
                _rule("a.com", ("/p", "Exact", "web", 80), ("/q/", "Prefix", "web", 80)),
                _rule("", ("/", "Prefix", "web", 80)),
            ]
        },
    )
    text = config.render(_build(ing), LISTEN, "/state/default.pem", "/state/crt-list")
    lines = [line.strip() for line in text.splitlines()]
    h0, h1 = "{ var(txn.rule) -m str h0 }", "{ var(txn.rule) -m str h1 }"
    expected = [
        "bind 127.0.0.1:8080",
        "bind 127.0.0.1:8443 ssl crt /state/default.pem crt-list /state/crt-list",
        "http-request set-var(txn.rule) str(h0) if !{ var(txn.rule) -m found } "
        '{ var(txn.host) -m str "a.com" }',
        "http-request set-var(txn.rule) str(h1) if !{ var(txn.rule) -m found } "
        '{ var(txn.host) -m reg "^[^.]+\\\\.a\\\\.com\\$" }',
        f'use_backend ns_web_80 if {h0} {{ path -m str "/q" }} || {h0} {{ path -m beg "/q/" }}',
        f'use_backend ns_web_80 if {h0} {{ path -m str "/p" }}',
        f"use_backend ns_web_80 if {h1}",
        "use_backend ns_web_80 if !{ var(txn.rule) -m found }",
        "default_backend default-backend-404",
        'http-request return status 404 content-type text/plain string "default backend - 404"',
        "server 10.0.0.1_8080 10.0.0.1:8080",
    ]
    missing = [line for line in expected if line not in lines]
    assert not missing, text
    # Equal lengths: Exact /p before Prefix /q; the wildcard host after the exact one.
    assert lines.index(expected[5]) < lines.index(expected[4]) < lines.index(expected[6])
