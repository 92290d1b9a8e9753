"""The webhook client against a real HTTPS server on 127.0.0.1: a good call through a Service
(the URL, the Host and the reused connection as Kubernetes has them), and each failure with the
text kube-apiserver gives for it: an untrusted certificate, a server that outlives the timeout
(cut at the deadline), a refused connection, a Service without endpoints, an answer that is not
JSON, an HTTP error, an AdmissionReview without a response."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from apiserver.webhook.admission_review import verify_admission_response
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.config import ClientConfig, ServiceReference
from apiserver.webhook.errors import (
    CallError,
    DeadlineExceeded,
    DecodeError,
    DialError,
    InvalidResponse,
    ResolveError,
    ServerError,
    TLSError,
    failed_to_call,
    invalid_response,
)
from apiserver.webhook.resolver import resolve_endpoint
from tests.unit.apiserver.webhook.webhook_server import WebhookServer, other_ca, serving

UID = "6a2c5c2e-0000-4000-8000-000000000001"
REVIEW = {
    "apiVersion": "admission.k8s.io/v1",
    "kind": "AdmissionReview",
    "request": {"uid": UID, "operation": "CREATE"},
}
SERVICE_URL = "https://hook.ns.svc:443"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[WebhookServer]:
    async with serving(tmp_path) as s:
        yield s


def service(server: WebhookServer, path: str, ca: bytes | None = None) -> ClientConfig:
    ca_bundle = server.ca_pem if ca is None else ca
    return ClientConfig(service=ServiceReference("ns", "hook", path), ca_bundle=ca_bundle)


def to_server(server: WebhookServer) -> WebhookClient:
    """Resolves the Service hook in ns, port 443, to the test server."""

    def resolve(namespace: str, name: str, port: int) -> tuple[str, int]:
        assert (namespace, name, port) == ("ns", "hook", 443)
        return "127.0.0.1", server.port

    return WebhookClient(resolve)


async def failure(client: WebhookClient, config: ClientConfig, timeout: float = 10) -> CallError:
    with pytest.raises(CallError) as caught:
        await client.post(config, REVIEW, timeout)
    return caught.value


async def test_a_good_call_goes_to_the_services_endpoint_with_its_name_and_reuses_the_connection(
    server: WebhookServer,
) -> None:
    client = to_server(server)
    try:
        first = await client.post(service(server, "/allow/"), REVIEW, 10)
        second = await client.post(service(server, "/allow/"), REVIEW, 10)
    finally:
        await client.close()
    assert first["response"] == {"uid": UID, "allowed": True, "warnings": ["seen"]}
    assert verify_admission_response(UID, False, second).warnings == ("seen",)
    assert [(s.path_qs, s.host) for s in server.seen] == [
        ("/allow?timeout=10s", "hook.ns.svc:443"),
        ("/allow?timeout=10s", "hook.ns.svc:443"),  # path.Join drops the trailing slash
    ]
    assert server.seen[0].client_port == server.seen[1].client_port  # one connection


async def test_a_certificate_from_another_ca_is_refused_with_gos_x509_text(
    server: WebhookServer, tmp_path: Path
) -> None:
    client = to_server(server)
    try:
        err = await failure(client, service(server, "/allow", other_ca(tmp_path / "other")))
    finally:
        await client.close()
    assert isinstance(err, TLSError)
    assert str(failed_to_call("pods.example.com", err)) == (
        'failed calling webhook "pods.example.com": failed to call webhook: '
        f'Post "{SERVICE_URL}/allow?timeout=10s": '
        "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    )
    assert server.seen == []


async def test_a_certificate_for_another_name_is_refused_naming_the_names_it_has(
    server: WebhookServer,
) -> None:
    client = WebhookClient(lambda namespace, name, port: ("127.0.0.1", server.port))
    other = ClientConfig(service=ServiceReference("ns", "other", "/allow"), ca_bundle=server.ca_pem)
    by_name = ClientConfig(url=f"https://localhost:{server.port}/allow", ca_bundle=server.ca_pem)
    try:
        err = await failure(client, other)
        by_url = await failure(client, by_name)
    finally:
        await client.close()
    assert isinstance(err, TLSError)
    assert str(err) == (
        'Post "https://other.ns.svc:443/allow?timeout=10s": tls: failed to verify certificate: '
        "x509: certificate is valid for hook.ns.svc, not other.ns.svc"
    )
    assert str(by_url).endswith("x509: certificate is valid for hook.ns.svc, not localhost")
    assert server.seen == []


async def test_an_expired_certificate_is_refused_with_its_date(tmp_path: Path) -> None:
    async with serving(tmp_path, expired=True) as expired:
        client = to_server(expired)
        try:
            err = await failure(client, service(expired, "/allow"))
        finally:
            await client.close()
    assert isinstance(err, TLSError)
    prefix = (
        f'Post "{SERVICE_URL}/allow?timeout=10s": tls: failed to verify certificate: '
        "x509: certificate has expired or is not yet valid: current time "
    )
    assert str(err).startswith(prefix)
    assert str(err).endswith("Z is after 2025-01-02T03:04:05Z")
    assert expired.seen == []


async def test_a_server_that_outlives_the_timeout_is_cut_at_the_deadline(
    server: WebhookServer,
) -> None:
    client = to_server(server)
    start = time.monotonic()
    try:
        err = await failure(client, service(server, "/slow"), timeout=1)
    finally:
        await client.close()
    elapsed = time.monotonic() - start
    assert isinstance(err, DeadlineExceeded)
    assert str(err) == f'Post "{SERVICE_URL}/slow?timeout=1s": context deadline exceeded'
    assert 0.99 <= elapsed < 10.0, elapsed  # cut at the deadline, not when the server answers
    assert [s.path_qs for s in server.seen] == ["/slow?timeout=1s"]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_names_the_address_dialled() -> None:
    port = unused_port()
    client = WebhookClient(lambda namespace, name, p: ("127.0.0.1", port))
    url = ClientConfig(url=f"https://127.0.0.1:{port}/check")
    try:
        by_url = await failure(client, url)
        by_service = await failure(client, ClientConfig(service=ServiceReference("ns", "hook")))
    finally:
        await client.close()
    assert isinstance(by_url, DialError)
    assert str(by_url) == (
        f'Post "https://127.0.0.1:{port}/check?timeout=10s": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )
    assert str(by_service) == (
        f'Post "{SERVICE_URL}/?timeout=10s": dial tcp 127.0.0.1:{port}: connect: connection refused'
    )


async def test_a_service_without_ready_endpoints_is_not_dialled() -> None:
    svc = {"metadata": {"name": "hook"}, "spec": {"ports": [{"port": 443}]}}
    slices = [
        {
            "addressType": "IPv4",
            "ports": [{"name": "", "port": 8443}],
            "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": False}}],
        }
    ]
    client = WebhookClient(lambda ns, name, port: resolve_endpoint(svc, slices, name, port))
    try:
        err = await failure(client, ClientConfig(service=ServiceReference("ns", "hook", "/v")))
    finally:
        await client.close()
    assert isinstance(err, ResolveError)
    assert str(err) == (
        f'Post "{SERVICE_URL}/v?timeout=10s": no endpoints available for service "hook"'
    )
    assert err.status["code"] == 503


async def test_an_answer_that_is_not_json_fails_as_client_gos_decoder_fails(
    server: WebhookServer,
) -> None:
    client = to_server(server)
    try:
        err = await failure(client, service(server, "/garbage"))
    finally:
        await client.close()
    assert isinstance(err, DecodeError)
    assert str(failed_to_call("v.example.com", err)) == (
        'failed calling webhook "v.example.com": failed to call webhook: '
        "couldn't get version/kind; json parse error: json: cannot unmarshal string into Go "
        'value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
        'Kind string "json:\\"kind,omitempty\\"" }'
    )


async def test_an_http_error_is_client_gos_generic_server_response(
    server: WebhookServer,
) -> None:
    client = to_server(server)
    try:
        err = await failure(client, service(server, "/boom"))
    finally:
        await client.close()
    assert isinstance(err, ServerError)
    assert str(err) == 'an error on the server ("boom") has prevented the request from succeeding'
    assert (err.status["code"], err.status["reason"]) == (500, "InternalError")


async def test_a_review_without_a_response_is_an_invalid_webhook_response(
    server: WebhookServer,
) -> None:
    client = to_server(server)
    try:
        answer = await client.post(service(server, "/absent"), REVIEW, 10)
    finally:
        await client.close()
    with pytest.raises(InvalidResponse) as caught:
        verify_admission_response(UID, True, answer)
    assert str(invalid_response("m.example.com", caught.value)) == (
        'failed calling webhook "m.example.com": received invalid webhook response: '
        "webhook response was absent"
    )
