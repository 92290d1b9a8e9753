"""A CustomResourceDefinition's spec.conversion as Kubernetes validates it (validation.go
validateCustomResourceConversion): strategy None or Webhook, a webhook's client configuration
and ConversionReview versions, each refusal with Kubernetes' path and text; a valid Webhook
definition keeps every field it was given."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation
from podplane.componentbase import pki
from tests.unit.apiserver.definition_samples import CRD, STRATEGY, errors_of, good


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real CA certificate, PEM."""
    directory = tmp_path_factory.mktemp("ca")
    pki.ensure_ca(directory, common_name="conversion-test-ca")
    return (directory / "ca.crt").read_bytes()


def webhook(**client: Any) -> dict[str, Any]:
    return {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": client or {"url": "https://127.0.0.1:8443/convert"},
            "conversionReviewVersions": ["v1"],
        },
    }


def _conversion(value: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["spec"]["conversion"] = value

    return change


def _versions(versions: list[str]) -> dict[str, Any]:
    out = webhook()
    out["webhook"]["conversionReviewVersions"] = versions
    return out


CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "an unknown strategy",
        {"strategy": "Magic"},
        'spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"',
    ),
    (
        "webhook without a client configuration",
        {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"]}},
        "spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
        "Webhook",
    ),
    (
        "both url and service",
        webhook(url="https://a.example.com", service={"namespace": "ns", "name": "hook"}),
        "spec.conversion.webhookClientConfig: Required value: exactly one of url or service is "
        "required",
    ),
    (
        "an http url",
        webhook(url="http://127.0.0.1/convert"),
        "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only "
        "allowed URL scheme; desired format: https://host[/path]",
    ),
    (
        "a service without a name",
        webhook(service={"namespace": "ns", "name": ""}),
        "spec.conversion.webhookClientConfig.service.name: Required value: service name is "
        "required",
    ),
    (
        "a service port out of range",
        webhook(service={"namespace": "ns", "name": "hook", "port": 70000}),
        "spec.conversion.webhookClientConfig.service.port: Invalid value: 70000: port is not "
        "valid: must be between 1 and 65535, inclusive",
    ),
    (
        "no conversion review versions",
        _versions([]),
        "spec.conversion.conversionReviewVersions: Required value",
    ),
    (
        "only unknown conversion review versions",
        _versions(["v2"]),
        'spec.conversion.conversionReviewVersions: Invalid value: []string{"v2"}: must include '
        "at least one of v1, v1beta1",
    ),
    (
        "a duplicate conversion review version",
        _versions(["v1", "v1"]),
        'spec.conversion.conversionReviewVersions[1]: Invalid value: "v1": duplicate version',
    ),
    (
        "None with a client configuration",
        {"strategy": "None", "webhook": {"clientConfig": {"url": "https://a.example.com"}}},
        "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not "
        "set to Webhook",
    ),
    (
        "None with conversion review versions",
        {"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}},
        "spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy "
        "is not set to Webhook",
    ),
]


@pytest.mark.parametrize("value, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_conversions_are_named(value: dict[str, Any], message: str) -> None:
    data = good()
    data["spec"]["conversion"] = value
    found = errors_of(data)
    assert message in found, found


def test_a_webhook_conversion_is_valid_and_kept_whole(pem: bytes) -> None:
    data = good()
    data["spec"]["conversion"] = webhook(
        service={"namespace": "ns", "name": "hook", "path": "/convert"},
        caBundle=base64.b64encode(pem).decode(),
    )
    data["spec"]["conversion"]["webhook"]["conversionReviewVersions"] = ["v1", "v1beta1"]
    assert errors_of(data) == []
    crd, _ = codec.decode(CRD, data, FieldValidation.STRICT)
    STRATEGY.default(crd)
    assert codec.encode(crd)["spec"]["conversion"] == {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {
                "service": {"namespace": "ns", "name": "hook", "path": "/convert", "port": 443},
                "caBundle": base64.b64encode(pem).decode(),
            },
            "conversionReviewVersions": ["v1", "v1beta1"],
        },
    }


def test_an_invalid_ca_bundle_is_refused_once_established(pem: bytes) -> None:
    """Kubernetes' allowInvalidCABundle: accepted at creation, refused on an update of an
    established definition whose bundle was valid."""
    data = good()
    data["spec"]["conversion"] = webhook(
        url="https://127.0.0.1/convert", caBundle=base64.b64encode(pem).decode()
    )
    old, _ = codec.decode(CRD, data, FieldValidation.STRICT)
    STRATEGY.default(old)
    STRATEGY.prepare_for_create(old)
    old.status.conditions.add(type="Established", status="True")
    new = CRD()
    new.CopyFrom(old)
    new.spec.conversion.webhook.client_config.ca_bundle = b"no"
    data["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"] = "bm8="  # b"no"
    assert errors_of(data) == []  # a create may have it
    found = [str(e) for e in STRATEGY.validate_update(new, old)]
    assert found == [
        "spec.conversion.webhookClientConfig.caBundle: Invalid value: []byte{0x6e, 0x6f}: data "
        "does not contain any valid RSA or ECDSA certificates"
    ]


def test_an_update_may_keep_unknown_review_versions_it_already_had() -> None:
    """requireRecognizedConversionReviewVersion is off for an update of a definition whose
    stored versions were all unknown to the server; a create still needs one."""
    data = good()
    data["spec"]["conversion"] = webhook()
    old, _ = codec.decode(CRD, data, FieldValidation.STRICT)
    STRATEGY.default(old)
    STRATEGY.prepare_for_create(old)
    del old.spec.conversion.webhook.conversion_review_versions[:]
    old.spec.conversion.webhook.conversion_review_versions.append("v9")
    new = CRD()
    new.CopyFrom(old)
    assert [str(e) for e in STRATEGY.validate_update(new, old)] == []
    assert [str(e) for e in STRATEGY.validate(new)] == [
        'spec.conversion.conversionReviewVersions: Invalid value: []string{"v9"}: must include '
        "at least one of v1, v1beta1"
    ]
