"""ConfigMap and Secret rules: config keys, the 1 MiB limit, well-known Secret types, immutability;
and their data as base64 in manifests, as Kubernetes writes it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from apiserver.defaulting import config as config_defaulting
from apiserver.validation import config
from apiserver.validation.fields import FieldError
from podplane.apimachinery import manifest

KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def config_map(**fields: Any) -> Any:
    return manifest.from_dict(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, **fields}
    )


def secret(**fields: Any) -> Any:
    obj: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, **fields}
    )
    config_defaulting.secret(obj)
    return obj


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def test_valid_objects_have_no_errors() -> None:
    assert (
        strings(
            config.config_map(
                config_map(
                    data={"game.properties": "lives=3", "UI_THEME": "dark", "a-b_c.d": ""},
                    binaryData={"logo.png": "iVBORw0KGgo="},
                )
            )
        )
        == []
    )
    assert strings(config.secret(secret(data={"password": "czNjcjN0"}))) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"data": {"a b": "x"}}, f'data[a b]: Invalid value: "a b": {KEY_MSG}'),
        ({"data": {"a/b": "x"}}, f'data[a/b]: Invalid value: "a/b": {KEY_MSG}'),
        ({"data": {"..": "x"}}, "data[..]: Invalid value: \"..\": must not be '..'"),
        ({"data": {".": "x"}}, "data[.]: Invalid value: \".\": must not be '.'"),
        (
            {"data": {"..data": "x"}},
            "data[..data]: Invalid value: \"..data\": must not start with '..'",
        ),
        (
            {"data": {"k" * 254: "x"}},
            f'data[{"k" * 254}]: Invalid value: "{"k" * 254}": must be no more than 253 characters',
        ),
        ({"binaryData": {"a b": "eA=="}}, f'binaryData[a b]: Invalid value: "a b": {KEY_MSG}'),
        (
            {"data": {"same": "x"}, "binaryData": {"same": "eA=="}},
            'data[same]: Invalid value: "same": duplicate of key present in binaryData',
        ),
        (
            {"data": {"big": "x" * (1024 * 1024 + 1)}},
            "data: Too long: must have at most 1048576 bytes",
        ),
        (
            {
                "data": {"a": "x" * (512 * 1024)},
                "binaryData": {"b": base64.b64encode(b"x" * (512 * 1024 + 1)).decode()},
            },
            "data: Too long: must have at most 1048576 bytes",
        ),
        ({"metadata": {"name": "Settings"}}, 'metadata.name: Invalid value: "Settings"'),
    ],
)
def test_invalid_config_map_names_the_field(fields: dict[str, Any], expected: str) -> None:
    errs = strings(config.config_map(config_map(**fields)))
    assert any(e.startswith(expected) for e in errs), errs


def test_exactly_one_mebibyte_is_allowed() -> None:
    assert strings(config.config_map(config_map(data={"big": "x" * (1024 * 1024)}))) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"data": {"a b": "eA=="}}, f'data[a b]: Invalid value: "a b": {KEY_MSG}'),
        ({"stringData": {"a b": "x"}}, f'data[a b]: Invalid value: "a b": {KEY_MSG}'),
        (
            {"stringData": {"big": "x" * (1024 * 1024 + 1)}},
            "data: Too long: must have at most 1048576 bytes",
        ),
        (
            {"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}},
            "data[tls.key]: Required value",
        ),
        ({"type": "kubernetes.io/ssh-auth"}, "data[ssh-privatekey]: Required value"),
        ({"type": "kubernetes.io/basic-auth"}, "data[username]: Required value"),
        (
            {
                "type": "kubernetes.io/dockerconfigjson",
                "stringData": {".dockerconfigjson": "{oops"},
            },
            'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>"',
        ),
        (
            {"type": "kubernetes.io/service-account-token"},
            "metadata.annotations[kubernetes.io/service-account.name]: Required value",
        ),
    ],
)
def test_invalid_secret_names_the_field(fields: dict[str, Any], expected: str) -> None:
    errs = strings(config.secret(secret(**fields)))
    assert any(e.startswith(expected) for e in errs), errs


def test_basic_auth_needs_only_one_of_username_and_password() -> None:
    assert (
        strings(
            config.secret(secret(type="kubernetes.io/basic-auth", stringData={"password": "x"}))
        )
        == []
    )


def test_string_data_is_merged_over_data_and_dropped() -> None:
    s = secret(data={"user": "YWRtaW4=", "password": "b2xk"}, stringData={"password": "new"})
    assert dict(s.data) == {"user": b"admin", "password": b"new"}
    assert not s.string_data
    assert s.type == "Opaque"
    assert secret(type="kubernetes.io/tls").type == "kubernetes.io/tls"


# ---------------------------------------------------------------- updates


def test_immutable_config_map_refuses_data_changes() -> None:
    old = config_map(data={"a": "1"}, binaryData={"b": "eA=="}, immutable=True)
    new = config_map(data={"a": "2"}, binaryData={"b": "eQ=="})
    assert strings(config.config_map_update(new, old)) == [
        "immutable: Forbidden: field is immutable when `immutable` is set",
        "data: Forbidden: field is immutable when `immutable` is set",
        "binaryData: Forbidden: field is immutable when `immutable` is set",
    ]
    same = config_map(
        data={"a": "1"},
        binaryData={"b": "eA=="},
        immutable=True,
        metadata={"name": "settings", "labels": {"new": "label"}},
    )
    assert strings(config.config_map_update(same, old)) == []


def test_mutable_config_map_may_change_and_become_immutable() -> None:
    old = config_map(data={"a": "1"})
    assert strings(config.config_map_update(config_map(data={"a": "2"}, immutable=True), old)) == []


def test_immutable_secret_refuses_data_changes_and_type_never_changes() -> None:
    old = secret(data={"a": "MQ=="}, immutable=True)
    assert strings(config.secret_update(secret(data={"a": "Mg=="}, immutable=True), old)) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    assert strings(config.secret_update(secret(stringData={"a": "2"}, immutable=True), old)) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    retyped = secret(data={"a": "MQ=="}, immutable=True, type="example.com/custom")
    assert strings(config.secret_update(retyped, old)) == [
        'type: Invalid value: "example.com/custom": field is immutable'
    ]


# ---------------------------------------------------------------- base64 in manifests


def test_bytes_are_base64_in_manifests() -> None:
    s: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "a"},
            "data": {"k": "aGVs\nbG8="},
        }
    )
    assert s.data["k"] == b"hello"  # line breaks are ignored, as by Go's decoder
    assert manifest.to_dict(s)["data"] == {"k": "aGVsbG8="}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aGV*bG8=", "data[k]: illegal base64 data at input byte 3"),
        ("aGVsbG8", "data[k]: illegal base64 data at input byte 7"),
        # Not ASCII: Go counts the bytes of its UTF-8 (once a ValueError, uncaught).
        ("aGé=", "data[k]: illegal base64 data at input byte 2"),
        ("éaGVsbG8=", "data[k]: illegal base64 data at input byte 0"),
    ],
)
def test_bad_base64_names_the_field(value: str, expected: str) -> None:
    with pytest.raises(manifest.ManifestError) as err:
        manifest.from_dict(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "data": {"k": value}}
        )
    assert str(err.value) == expected


def test_a_bootstrap_token_secret_has_no_rule_of_its_own() -> None:
    # ValidateSecret has no case for bootstrap.kubernetes.io/token: its keys are the
    # authenticator's and the token cleaner's to judge, not validation's.
    token = {"token-id": "YWJjZGVm", "token-secret": "MDEyMzQ1Njc4OWFiY2RlZg=="}
    assert strings(config.secret(secret(type="bootstrap.kubernetes.io/token", data=token))) == []
    assert strings(config.secret(secret(type="bootstrap.kubernetes.io/token"))) == []
