"""A secret's values stay out of `describe` (only each key's size, as kubectl), while
`get -o yaml` shows them base64-encoded as kubectl does."""

from __future__ import annotations

import base64

from podctl.describe.secret import describe_secret
from podctl.printers.structured import render
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources

PASSWORD = b"s3cr3t!!"


def _secret() -> core_pb2.Secret:
    s = core_pb2.Secret(metadata=meta_pb2.ObjectMeta(name="db", namespace="shop"), type="Opaque")
    s.metadata.labels["app"] = "db"
    s.data["password"] = PASSWORD
    s.data["username"] = b"admin"
    return s


def test_describe_shows_keys_and_sizes_never_values() -> None:
    text = describe_secret(_secret())
    assert text.splitlines() == [
        "Name:         db",
        "Namespace:    shop",
        "Labels:       app=db",
        "Annotations:  <none>",
        "",
        "Type:  Opaque",
        "",
        "Data",
        "====",
        "password:  8 bytes",
        "username:  5 bytes",
    ]
    assert PASSWORD.decode() not in text
    assert base64.b64encode(PASSWORD).decode() not in text


def test_get_yaml_shows_base64_data_as_kubectl() -> None:
    text = render([_secret()], resources.SECRET, "yaml", single=True)
    assert f"password: {base64.b64encode(PASSWORD).decode()}" in text
    assert PASSWORD.decode() not in text
