"""ConfigMap and Secret through the real apiserver over a real etcd: manifests from the Kubernetes
docs apply unchanged, data is base64 in YAML, stringData is merged into data and never stored,
immutability and the Secret types' rules hold."""

from __future__ import annotations

import base64

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.api_objects import decode, invalid
from tests.support import new_namespace

GAME_CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-demo
data:
  player_initial_lives: "3"
  ui_properties_file_name: "user-interface.properties"
  game.properties: |
    enemy.types=aliens,monsters
    player.maximum-lives=5
binaryData:
  logo.bin: AAECAw==
"""

BASIC_AUTH_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: secret-basic-auth
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
stringData:
  password: t0p-Secret
"""


async def test_config_map_from_the_kubernetes_docs(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.configmaps.create(decode(GAME_CONFIG_MAP, ns))
    assert (created.api_version, created.kind) == ("v1", "ConfigMap")
    assert created.data["player_initial_lives"] == "3"
    assert created.data["game.properties"].startswith("enemy.types=aliens,monsters\n")
    assert created.binary_data["logo.bin"] == b"\x00\x01\x02\x03"
    assert manifest.to_dict(created)["binaryData"] == {"logo.bin": "AAECAw=="}

    bad_key = decode(GAME_CONFIG_MAP, ns)
    bad_key.metadata.name = "bad-key"
    bad_key.data["a b"] = "x"
    assert (
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.'"
    ) in await invalid(client.configmaps, bad_key)
    too_big = decode(GAME_CONFIG_MAP, ns)
    too_big.metadata.name = "too-big"
    too_big.data["big"] = "x" * (1024 * 1024)
    assert "data: Too long: must have at most 1048576 bytes" in await invalid(
        client.configmaps, too_big
    )


async def test_immutable_config_map_data_cannot_change(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    cm = decode(GAME_CONFIG_MAP, ns)
    cm.immutable = True
    created = await client.configmaps.create(cm)
    changed = core_pb2.ConfigMap()
    changed.CopyFrom(created)
    changed.data["player_initial_lives"] = "4"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.configmaps.update(changed)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "data: Forbidden: field is immutable when `immutable` is set" in str(err.value.details())
    relabeled = core_pb2.ConfigMap()
    relabeled.CopyFrom(created)
    relabeled.metadata.labels["ok"] = "yes"  # metadata stays mutable
    assert (await client.configmaps.update(relabeled)).metadata.labels["ok"] == "yes"


async def test_secret_string_data_is_merged_into_data_and_never_stored(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    created = await client.secrets.create(decode(BASIC_AUTH_SECRET, ns))
    assert (created.api_version, created.kind) == ("v1", "Secret")
    assert created.type == "kubernetes.io/basic-auth"
    assert dict(created.data) == {"username": b"admin", "password": b"t0p-Secret"}
    assert not created.string_data
    got = await client.secrets.get("secret-basic-auth", ns)
    assert got == created
    assert manifest.to_dict(got)["data"] == {
        "password": base64.b64encode(b"t0p-Secret").decode(),
        "username": "YWRtaW4=",
    }

    rotated = core_pb2.Secret()
    rotated.CopyFrom(got)
    rotated.string_data["password"] = "n3w"
    updated = await client.secrets.update(rotated)
    assert dict(updated.data) == {"username": b"admin", "password": b"n3w"}
    assert not updated.string_data
    assert not (await client.secrets.get("secret-basic-auth", ns)).string_data


async def test_secret_defaults_and_rules(client: Client) -> None:
    ns = await new_namespace(client, "wl-")
    opaque = await client.secrets.create(
        core_pb2.Secret(metadata=meta_pb2.ObjectMeta(name="opaque", namespace=ns), data={"k": b"v"})
    )
    assert opaque.type == "Opaque"
    assert [
        s.metadata.name for s in (await client.secrets.list(ns, field_selector="type=Opaque")).items
    ] == ["opaque"]

    retyped = core_pb2.Secret()
    retyped.CopyFrom(opaque)
    retyped.type = "kubernetes.io/tls"
    retyped.data["tls.crt"] = retyped.data["tls.key"] = b"x"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.secrets.update(retyped)
    assert 'type: Invalid value: "kubernetes.io/tls": field is immutable' in str(
        err.value.details()
    )

    tls = core_pb2.Secret(
        metadata=meta_pb2.ObjectMeta(name="tls", namespace=ns),
        type="kubernetes.io/tls",
        data={"tls.crt": b"x"},
    )
    assert "data[tls.key]: Required value" in await invalid(client.secrets, tls)
