"""The webhook admission plugins' dispatchers over fakes: configurations as the watch cache
would hold them, and a webhook client whose answers each test writes (no network). What a
client would notice: the object a mutating webhook's patch leaves, which webhooks are called and
how often, the refusal each failure gives (code, reason, message), warnings and the request's
audit annotations."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission import warnings as admission_warnings
from apiserver.admission.attributes import Attributes, for_create
from apiserver.admission.webhooks import metrics
from apiserver.admission.webhooks.mutating import MutatingWebhooks
from apiserver.admission.webhooks.source import WebhookSource
from apiserver.admission.webhooks.validating import ValidatingWebhooks
from apiserver.endpoints.rest.status import failure
from apiserver.webhook.client import WebhookClient
from apiserver.webhook.config import ClientConfig
from apiserver.webhook.errors import DialError
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.json_types import JSONObject

Answer = Callable[[str, JSONObject], JSONObject]
"""(webhook URL, AdmissionReview request) -> the AdmissionReview response's `response`."""


class FakeClient(WebhookClient):
    """Answers by URL; records each call's URL and request; `delays` holds a call back."""

    def __init__(self, answer: Answer, delays: dict[str, float] | None = None) -> None:
        super().__init__()
        self.answer = answer
        self.delays = delays or {}
        self.calls: list[tuple[str, JSONObject]] = []

    async def post(self, config: ClientConfig, body: JSONObject, timeout: float) -> JSONObject:
        request = body["request"]
        self.calls.append((config.url, request))
        await asyncio.sleep(self.delays.get(config.url, 0))
        if config.url.endswith("/down"):
            raise DialError(
                f'Post "{config.url}": dial tcp 127.0.0.1:1: connect: connection refused'
            )
        response = {"uid": request["uid"], **self.answer(config.url, request)}
        return {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": response,
        }

    def urls(self) -> list[str]:
        return [url for url, _ in self.calls]


def webhook(name: str, url: str, **fields: Any) -> JSONObject:
    return {
        "name": name,
        "clientConfig": {"url": url},
        "rules": [
            {
                "operations": ["CREATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": ["configmaps"],
            }
        ],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **fields,
    }


def configurations(kind: type[Message], **by_name: list[JSONObject]) -> dict[bytes, Message]:
    """Configurations as a watch cache holds them, keyed in an order that is not their names'."""
    out: dict[bytes, Message] = {}
    for i, (name, hooks) in enumerate(reversed(by_name.items())):
        doc = {"metadata": {"name": name, "resourceVersion": "1"}, "webhooks": hooks}
        obj, _ = codec.decode(kind, doc, codec.FieldValidation.IGNORE)
        out[f"/{i}".encode()] = obj
    return out


async def no_namespace(name: str) -> dict[str, str] | None:
    return {}


def mutating(client: FakeClient, **by_name: list[JSONObject]) -> MutatingWebhooks:
    cached = configurations(admreg_pb2.MutatingWebhookConfiguration, **by_name)
    return MutatingWebhooks(WebhookSource(lambda: cached), client, no_namespace, lambda r, o: None)


def validating(client: FakeClient, **by_name: list[JSONObject]) -> ValidatingWebhooks:
    cached = configurations(admreg_pb2.ValidatingWebhookConfiguration, **by_name)
    return ValidatingWebhooks(WebhookSource(lambda: cached), client, no_namespace)


def create(name: str = "cm", dry_run: bool = False) -> Attributes:
    obj = core_pb2.ConfigMap(metadata={"name": name, "namespace": "default"}, data={"k": "v"})
    return for_create(resources.CONFIG_MAP, obj, dry_run=dry_run)


def patch(*operations: JSONObject) -> JSONObject:
    encoded = base64.b64encode(json.dumps(list(operations)).encode()).decode()
    return {"allowed": True, "patchType": "JSONPatch", "patch": encoded}


def allow(url: str, request: JSONObject) -> JSONObject:
    return {"allowed": True}


def status_of(err: errors.APIError) -> JSONObject:
    return failure(err)[1]


async def test_a_patch_changes_the_object_and_the_next_webhook_sees_it() -> None:
    def answer(url: str, request: JSONObject) -> JSONObject:
        if url.endswith("/label"):
            return patch({"op": "add", "path": "/metadata/labels", "value": {"a": "1"}})
        return {"allowed": True, "warnings": ["looked"], "auditAnnotations": {"saw": "it"}}

    client = FakeClient(answer)
    plugin = mutating(
        client,
        b=[webhook("look.example.com", "https://h/look")],
        a=[webhook("label.example.com", "https://h/label")],
    )
    attrs = create()
    with admission_warnings.recording() as recorder:
        await plugin.admit(attrs)
    recorded = recorder.warnings
    assert isinstance(attrs.object, core_pb2.ConfigMap)
    assert dict(attrs.object.metadata.labels) == {"a": "1"}
    # Configuration a before b, whatever order the cache keeps them in.
    assert client.urls() == ["https://h/label", "https://h/look"]
    assert client.calls[1][1]["object"]["metadata"]["labels"] == {"a": "1"}
    assert recorded == ["looked"]
    assert attrs.audit_annotations == {"look.example.com/saw": "it"}


async def test_reinvocation_calls_an_if_needed_webhook_again_after_a_later_change() -> None:
    def answer(url: str, request: JSONObject) -> JSONObject:
        if url.endswith("/label"):
            return patch({"op": "add", "path": "/metadata/labels", "value": {"b": "yes"}})
        return {"allowed": True}

    for policy, calls in (("IfNeeded", 2), ("Never", 1)):
        client = FakeClient(answer)
        hooks = [
            webhook("first.example.com", "https://h/first", reinvocationPolicy=policy),
            webhook("label.example.com", "https://h/label"),
        ]
        await mutating(client, only=hooks).admit(create())
        assert client.urls().count("https://h/first") == calls, policy
        assert client.urls().count("https://h/label") == 1


async def test_a_patch_that_makes_a_bad_object_is_an_internal_error() -> None:
    def answer(url: str, request: JSONObject) -> JSONObject:
        return patch({"op": "add", "path": "/data", "value": ["not", "a", "map"]})

    plugin = mutating(FakeClient(answer), c=[webhook("bad.example.com", "https://h/bad")])
    with pytest.raises(errors.APIError) as caught:
        await plugin.admit(create())
    status = status_of(caught.value)
    assert status["code"] == 500
    assert status["reason"] == "InternalError"
    assert str(status["message"]).startswith("Internal error occurred: ")
    assert "data" in str(status["message"])


async def test_validating_webhooks_are_called_at_once_and_the_first_refusal_wins() -> None:
    def answer(url: str, request: JSONObject) -> JSONObject:
        return {"allowed": False, "status": {"code": 422, "message": url.rsplit("/", 1)[1]}}

    client = FakeClient(answer, delays={"https://h/slow": 0.4, "https://h/fast": 0.2})
    plugin = validating(
        client,
        a=[webhook("slow.example.com", "https://h/slow")],
        b=[webhook("fast.example.com", "https://h/fast")],
    )
    started = time.monotonic()
    with pytest.raises(errors.APIError) as caught:
        await plugin.validate(create())
    assert time.monotonic() - started < 0.55  # together, not one after the other
    assert sorted(client.urls()) == ["https://h/fast", "https://h/slow"]
    status = status_of(caught.value)
    assert status["code"] == 422
    assert status["message"] == 'admission webhook "fast.example.com" denied the request: fast'
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_failed_call_refuses_under_fail_and_is_skipped_under_ignore() -> None:
    closed = validating(FakeClient(allow), a=[webhook("down.example.com", "https://h/down")])
    with pytest.raises(errors.APIError) as caught:
        await closed.validate(create())
    assert status_of(caught.value)["code"] == 500
    assert caught.value.message == (
        'Internal error occurred: failed calling webhook "down.example.com": failed to call '
        'webhook: Post "https://h/down": dial tcp 127.0.0.1:1: connect: connection refused'
    )
    name = "ignored-down.example.com"
    before = metrics.FAIL_OPEN.value(name, metrics.VALIDATING)
    opened = validating(
        FakeClient(allow), a=[webhook(name, "https://h/down", failurePolicy="Ignore")]
    )
    attrs = create()
    await opened.validate(attrs)
    assert metrics.FAIL_OPEN.value(name, metrics.VALIDATING) == before + 1
    assert attrs.audit_annotations == {
        "failed-open.validating.webhook.admission.k8s.io/round_0_index_0": name
    }


async def test_a_dry_run_is_refused_by_a_webhook_with_side_effects() -> None:
    client = FakeClient(allow)
    plugin = validating(
        client, a=[webhook("effects.example.com", "https://h/x", sideEffects="Unknown")]
    )
    with pytest.raises(errors.APIError) as caught:
        await plugin.validate(create(dry_run=True))
    status = status_of(caught.value)
    assert (status["code"], status["reason"]) == (400, "BadRequest")
    assert status["message"] == 'admission webhook "effects.example.com" does not support dry run'
    assert client.calls == []
    await plugin.validate(create(dry_run=False))
    assert client.urls() == ["https://h/x"]


async def test_the_admission_configuration_kinds_are_never_sent_to_webhooks() -> None:
    client = FakeClient(allow)
    rule = {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}
    plugin = validating(client, a=[webhook("all.example.com", "https://h/all", rules=[rule])])
    config = admreg_pb2.ValidatingWebhookConfiguration(metadata={"name": "x"})
    await plugin.validate(for_create(resources.by_message(config), config, dry_run=False))
    assert client.calls == []
    await plugin.validate(create())
    assert client.urls() == ["https://h/all"]
