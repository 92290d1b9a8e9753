"""The ingress controller as a user sees it: a real `python -m ingress` process running real
HAProxy, over the real apiserver and etcd, routes to real HTTP servers standing in for pods (their
EndpointSlices made here): by host (exact and wildcard) and path (Exact before Prefix, element-wise
prefixes), 404 from the default backend for what nothing matches, an Ingress's defaultBackend,
503 without a ready endpoint, TLS chosen by SNI, reloads that refuse no connection, and the
published address in each Ingress's status."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.ingress.ingress_support import (
    IngressProcess,
    backend_server,
    get,
    service_with_endpoints,
)
from tests.support import eventually, new_namespace
from tests.tls_hosts import CA, get_tls

PUBLISHED = "192.0.2.10"


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, int]]:
    names = ("exact", "prefix", "root", "wild", "default", "a", "b", "steady", "new")
    with ExitStack() as stack:
        yield {n: stack.enter_context(backend_server(n)) for n in names}


@pytest_asyncio.fixture(scope="module")
async def controller(
    apiserver: APIServer, client: Client, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[IngressProcess, str, str]]:
    """The process, its class and the namespace of its published LoadBalancer Service."""
    suffix = os.urandom(3).hex()
    class_name, controller_class = f"haproxy-{suffix}", f"podplane.io/ingress-haproxy-{suffix}"
    ingress_class = networking_pb2.IngressClass()
    ingress_class.metadata.name = class_name
    ingress_class.spec.controller = controller_class
    await client.ingressclasses.create(ingress_class)
    system = await new_namespace(client, "ingress-system-")
    lb = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ingress-haproxy", "namespace": system},
            "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
        }
    )
    created = await client.services.create(lb)  # type: ignore[arg-type]
    created.status.load_balancer.ingress.add(ip=PUBLISHED)
    await client.services.update_status(created)
    state = tmp_path_factory.mktemp("ingress-state")
    process = IngressProcess.start(
        f"127.0.0.1:{apiserver.port}",
        controller_class,
        str(state),
        f"--publish-service={system}/ingress-haproxy",
    )
    try:
        await process.healthy()
        yield process, class_name, system
    finally:
        log = process.stop()
        await client.ingressclasses.delete(class_name)
        # The session's etcd outlives this module and no namespace controller empties the
        # namespace: a LoadBalancer Service left behind with its address would be announced by
        # the next module's kube-proxy on the same worker (test_load_balancer_addresses).
        await client.services.delete("ingress-haproxy", system)
        await client.namespaces.delete(system)
        assert "Traceback" not in log, log


def ingress(namespace: str, name: str, class_name: str, spec: dict[str, Any]) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ingressClassName": class_name, **spec},
        }
    )


def path(p: str, path_type: str, service: str, port: int | str = 80) -> dict[str, Any]:
    number_or_name = {"number": port} if isinstance(port, int) else {"name": port}
    return {
        "path": p,
        "pathType": path_type,
        "backend": {"service": {"name": service, "port": number_or_name}},
    }


async def answers(port: int, host: str, p: str, expected: tuple[int, str]) -> None:
    async def check() -> bool:
        return await asyncio.to_thread(get, port, host, p) == expected

    await eventually(check, 30, interval=0.1, what=f"{host}{p} -> {expected}")


async def test_host_and_path_routing(
    client: Client, controller: tuple[IngressProcess, str, str], backends: dict[str, int]
) -> None:
    process, class_name, _ = controller
    ns = await new_namespace(client, "ing-")
    for name in ("exact", "prefix", "root", "wild"):
        await service_with_endpoints(client, ns, name, 80, [backends[name]])
    await service_with_endpoints(client, ns, "named", 8080, [backends["a"]], port_name="web")
    await service_with_endpoints(client, ns, "unready", 80, [backends["b"]], ready=False)
    spec = {
        "rules": [
            {
                "host": "a.example.com",
                "http": {
                    "paths": [
                        path("/", "Prefix", "root"),
                        path("/foo", "Prefix", "prefix"),
                        path("/foo", "Exact", "exact"),
                        path("/named", "ImplementationSpecific", "named", "web"),
                        path("/unready", "Prefix", "unready"),
                    ]
                },
            },
            {"host": "*.wild.example.com", "http": {"paths": [path("/", "Prefix", "wild")]}},
        ]
    }
    # Another controller's: ignored, though created first.
    other = {"rules": [{"host": "a.example.com", "http": {"paths": [path("/", "Exact", "wild")]}}]}
    await client.ingresses.create(ingress(ns, "another-class", "nginx-example", other))
    await client.ingresses.create(ingress(ns, "routes", class_name, spec))
    port = process.http_port
    await answers(port, "a.example.com", "/foo", (200, "exact /foo"))
    cases = [
        ("a.example.com", "/foo/", (200, "prefix /foo/")),
        ("a.example.com", "/foo/bar", (200, "prefix /foo/bar")),
        ("A.Example.com:80", "/foo/bar?x=1", (200, "prefix /foo/bar?x=1")),
        ("a.example.com", "/foobar", (200, "root /foobar")),
        ("a.example.com", "/", (200, "root /")),
        ("a.example.com", "/named/x", (200, "a /named/x")),
        ("x.wild.example.com", "/any", (200, "wild /any")),
        ("y.x.wild.example.com", "/", (404, "default backend - 404")),
        ("wild.example.com", "/", (404, "default backend - 404")),
        ("unknown.example.com", "/foo", (404, "default backend - 404")),
    ]
    # Each backend's endpoints come on their own watch: the Ingress may be served before them.
    for host, p, expected in cases:
        await answers(port, host, p, expected)
    status, body = await asyncio.to_thread(get, port, "a.example.com", "/unready")
    assert status == 503 and "503 Service Unavailable" in body, body

    async def published() -> bool:
        ing = await client.ingresses.get("routes", ns)
        return [i.ip for i in ing.status.load_balancer.ingress] == [PUBLISHED]

    await eventually(published, 30, what="status.loadBalancer.ingress")
    ignored = await client.ingresses.get("another-class", ns)
    assert not ignored.status.load_balancer.ingress
    await client.ingresses.create(
        ingress(
            ns,
            "broken",
            class_name,
            {
                "rules": [
                    {"host": "b.example.com", "http": {"paths": [path("/", "Prefix", "missing")]}}
                ]
            },
        )
    )

    async def unavailable() -> bool:
        status, body = await asyncio.to_thread(get, port, "b.example.com", "/")
        return status == 503 and "503 Service Unavailable" in body

    await eventually(unavailable, 30, what="503 for a missing Service")

    async def warned() -> bool:
        items, _ = await client.events.list_all(ns)
        return any(
            e.reason == "ServiceNotFound"
            and e.type == "Warning"
            and e.message == f'service "{ns}/missing" not found'
            and e.involved_object.name == "broken"
            for e in items
        )

    await eventually(warned, 30, what="a ServiceNotFound event")
    await client.namespaces.delete(ns)


async def test_default_backend(
    client: Client, controller: tuple[IngressProcess, str, str], backends: dict[str, int]
) -> None:
    process, class_name, _ = controller
    ns = await new_namespace(client, "ing-")
    await service_with_endpoints(client, ns, "fallback", 80, [backends["default"]])
    spec = {"defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}}}
    await client.ingresses.create(ingress(ns, "fallback", class_name, spec))
    await answers(process.http_port, "nothing.example.com", "/x", (200, "default /x"))
    await client.ingresses.delete("fallback", ns)
    await answers(process.http_port, "nothing.example.com", "/x", (404, "default backend - 404"))
    await client.namespaces.delete(ns)


async def test_tls_chosen_by_sni(
    client: Client,
    controller: tuple[IngressProcess, str, str],
    backends: dict[str, int],
    tmp_path: Path,
) -> None:
    process, class_name, _ = controller
    ns = await new_namespace(client, "ing-")
    ca = CA.make(tmp_path)
    for name, host in (("a", "tls-a.example.com"), ("b", "tls-b.example.com")):
        await service_with_endpoints(client, ns, name, 80, [backends[name]])
        await client.secrets.create(ca.tls_secret(ns, f"{name}-tls", host))
    spec = {
        "tls": [
            {"hosts": ["tls-a.example.com"], "secretName": "a-tls"},
            {"hosts": ["tls-b.example.com"], "secretName": "b-tls"},
        ],
        "rules": [
            {"host": f"tls-{n}.example.com", "http": {"paths": [path("/", "Prefix", n)]}}
            for n in ("a", "b")
        ],
    }
    await client.ingresses.create(ingress(ns, "tls", class_name, spec))
    port = process.https_port

    async def served(host: str, body: str) -> bool:
        status, text, cert = await asyncio.to_thread(get_tls, port, host, "/x", ca.path)
        return (status, text) == (200, body) and host in cert.subject.rfc4514_string()

    await eventually(lambda: served("tls-a.example.com", "a /x"), 30, what="tls-a")
    # Each Secret comes on the Secrets' watch: one may be served a moment after the other.
    await eventually(lambda: served("tls-b.example.com", "b /x"), 30, what="tls-b")
    status, body, cert = await asyncio.to_thread(get_tls, port, "other.example.com", "/", None)
    assert (status, body) == (404, "default backend - 404")
    assert cert.subject.rfc4514_string() == (
        "CN=Kubernetes Ingress Controller Fake Certificate,O=Acme Co"
    )
    # Plain HTTP to a TLS host: ingress-nginx's ssl-redirect.
    assert (await asyncio.to_thread(get, process.http_port, "tls-a.example.com", "/x"))[0] == 308
    await client.namespaces.delete(ns)


async def test_reloads_refuse_no_connection(
    client: Client, controller: tuple[IngressProcess, str, str], backends: dict[str, int]
) -> None:
    process, class_name, _ = controller
    ns = await new_namespace(client, "ing-")
    await service_with_endpoints(client, ns, "steady", 80, [backends["steady"]])
    await service_with_endpoints(client, ns, "new", 80, [backends["new"]])
    rule = {"host": "steady.example.com", "http": {"paths": [path("/", "Prefix", "steady")]}}
    await client.ingresses.create(ingress(ns, "steady", class_name, {"rules": [rule]}))
    await answers(process.http_port, "steady.example.com", "/", (200, "steady /"))
    results: list[tuple[int, str] | str] = []
    stop = threading.Event()

    def keep_requesting() -> None:
        while not stop.is_set():
            try:
                results.append(get(process.http_port, "steady.example.com", "/"))
            except OSError as e:
                results.append(repr(e))

    reloads = process.log().count("haproxy reloaded")
    requester = threading.Thread(target=keep_requesting)
    requester.start()
    try:
        for i in range(5):  # each a new configuration, so a reload
            extra = {"host": f"r{i}.example.com", "http": {"paths": [path("/", "Prefix", "new")]}}
            await client.ingresses.create(ingress(ns, f"r{i}", class_name, {"rules": [extra]}))
            try:
                await answers(process.http_port, f"r{i}.example.com", "/", (200, "new /"))
            except AssertionError as e:
                raise AssertionError(f"{e}; the controller's log:\n{process.log()}") from None
    finally:
        stop.set()
        await asyncio.to_thread(requester.join)
    failed = [r for r in results if r != (200, "steady /")]
    assert len(results) > 20 and not failed, (len(results), failed[:5])
    assert process.log().count("haproxy reloaded") >= reloads + 5
    await client.namespaces.delete(ns)


async def test_at_rest_it_costs_next_to_no_cpu(
    controller: tuple[IngressProcess, str, str],
) -> None:
    """No polling: with nothing changing, the controller waits on its informers and HAProxy on
    its sockets (the cluster at rest must stay near 8 % of a core in all)."""
    process, _, _ = controller
    before, started = process.cpu_seconds(), asyncio.get_running_loop().time()
    await asyncio.sleep(5)  # the window measured, not a wait for a condition
    used = process.cpu_seconds() - before
    elapsed = asyncio.get_running_loop().time() - started
    assert used / elapsed < 0.02, f"{used:.3f} CPU seconds in {elapsed:.1f}s"
