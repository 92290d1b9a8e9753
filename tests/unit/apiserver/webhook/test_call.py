"""One admission webhook called as kube-apiserver's dispatchers call it, against the real HTTPS
server: an allowing answer with a patch applied, a denial as the client sees it, a failure
wrapped in Kubernetes' words, a plain-HTTP server, and the cache of sessions per configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from apiserver.webhook.admission_review import (
    AdmissionRequest,
    GroupVersionKind,
    GroupVersionResource,
    UserInfo,
)
from apiserver.webhook.call import call_webhook
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.config import ClientConfig, ServiceReference
from apiserver.webhook.errors import (
    StatusError,
    TLSError,
    WebhookCallFailed,
    WebhookRejection,
    internal_error,
)
from apiserver.webhook.matching import Webhook
from apiserver.webhook.mutation import apply_patch
from podplane.apimachinery.json_types import JSONObject
from tests.unit.apiserver.webhook.webhook_server import (
    WebhookServer,
    serving,
    serving_plain_http,
)

POD: JSONObject = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}
CREATE = AdmissionRequest(
    uid="",
    kind=GroupVersionKind("", "v1", "Pod"),
    resource=GroupVersionResource("", "v1", "pods"),
    operation="CREATE",
    user_info=UserInfo("alice"),
    name="web",
    namespace="default",
    object=POD,
)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[WebhookServer]:
    async with serving(tmp_path) as s:
        yield s


@pytest.fixture
async def client(server: WebhookServer) -> AsyncIterator[WebhookClient]:
    c = WebhookClient(lambda namespace, name, port: ("127.0.0.1", server.port))
    yield c
    await c.close()


def webhook(
    server: WebhookServer, path: str, side_effects: str = "None", timeout_seconds: int = 10
) -> Webhook:
    config = ClientConfig(service=ServiceReference("ns", "hook", path), ca_bundle=server.ca_pem)
    return Webhook(
        name="pods.example.com",
        client_config=config,
        side_effects=side_effects,
        timeout_seconds=timeout_seconds,
    )


async def test_a_mutating_webhooks_patch_is_applied(
    server: WebhookServer, client: WebhookClient
) -> None:
    response = await call_webhook(client, webhook(server, "/patch"), CREATE, mutating=True)
    patched = apply_patch("pods.example.com", POD, response)
    assert patched == {**POD, "metadata": {"name": "web", "labels": {"patched": "yes"}}}


async def test_a_denial_is_the_status_the_client_gets(
    server: WebhookServer, client: WebhookClient
) -> None:
    with pytest.raises(WebhookRejection) as caught:
        await call_webhook(client, webhook(server, "/deny"), CREATE, mutating=False)
    assert caught.value.status["code"] == 403
    assert str(caught.value) == (
        'admission webhook "pods.example.com" denied the request: no latest tags'
    )


async def test_a_failed_call_fails_closed_in_kubernetes_words(
    server: WebhookServer, client: WebhookClient
) -> None:
    with pytest.raises(WebhookCallFailed) as caught:
        await call_webhook(client, webhook(server, "/slow", timeout_seconds=1), CREATE, False)
    assert internal_error(caught.value)["message"] == (
        'Internal error occurred: failed calling webhook "pods.example.com": failed to call '
        'webhook: Post "https://hook.ns.svc:443/slow?timeout=1s": context deadline exceeded'
    )
    with pytest.raises(WebhookCallFailed) as absent:
        await call_webhook(client, webhook(server, "/absent"), CREATE, mutating=True)
    assert str(absent.value) == (
        'failed calling webhook "pods.example.com": received invalid webhook response: '
        "webhook response was absent"
    )


async def test_a_dry_run_is_not_sent_to_a_webhook_with_side_effects(
    server: WebhookServer, client: WebhookClient
) -> None:
    with pytest.raises(StatusError) as caught:
        dry_run = replace(CREATE, dry_run=True)
        await call_webhook(client, webhook(server, "/allow", side_effects="Some"), dry_run, False)
    assert str(caught.value) == 'admission webhook "pods.example.com" does not support dry run'
    assert server.seen == []


async def test_a_webhook_serving_plain_http_is_a_scheme_mismatch() -> None:
    async with serving_plain_http() as port:
        client = WebhookClient()
        try:
            with pytest.raises(TLSError) as caught:
                await client.post(ClientConfig(url=f"https://127.0.0.1:{port}/"), {}, 10)
        finally:
            await client.close()
    assert str(caught.value) == (
        f'Post "https://127.0.0.1:{port}/?timeout=10s": '
        "http: server gave HTTP response to HTTPS client"
    )


async def test_sessions_are_kept_for_the_configurations_used_last(server: WebhookServer) -> None:
    client = WebhookClient(lambda namespace, name, port: ("127.0.0.1", server.port))
    client.MAX_CONFIGURATIONS = 2
    try:
        for path in ("/allow", "/allow/a/..", "/allow/./", "/allow"):
            await call_webhook(client, webhook(server, path), CREATE, mutating=False)
        assert client.configurations == 2
    finally:
        await client.close()
    assert [s.path_qs for s in server.seen] == ["/allow?timeout=10s"] * 4


async def test_a_configuration_without_service_or_url_cannot_make_a_client(
    client: WebhookClient,
) -> None:
    broken = Webhook(name="pods.example.com", client_config=ClientConfig(), side_effects="None")
    with pytest.raises(WebhookCallFailed) as caught:
        await call_webhook(client, broken, CREATE, mutating=False)
    assert str(caught.value) == (
        'failed calling webhook "pods.example.com": could not get REST client: '
        'failed calling webhook "pods.example.com": '
        "webhook configuration must have either service or URL"
    )
