"""`podctl token create` and `podctl token list` as `kubeadm token` has them: create stores
kube-system's bootstrap-token-<id> Secret (kubeadm's keys, a 24h expiration, both usages, the
default node group) and prints `<id>.<secret>`; list shows kubeadm's columns, <none> and
<forever> for what a token lacks, and skips (with a warning) a Secret that holds no token."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from podctl.__main__ import run
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.bootstraptoken import secret as token_secret
from podplane.bootstraptoken import token as bootstrap_token
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient

TOKEN_TYPE = "bootstrap.kubernetes.io/token"


class TokenCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        self.secrets = FakeResourceClient(resources.SECRET, itertools.count(1))


@pytest.fixture
def cluster() -> TokenCluster:
    return TokenCluster()


def podctl(cluster: TokenCluster, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


def data(secret: Any) -> dict[str, str]:
    return {k: v.decode() for k, v in secret.data.items()}


def test_create_prints_a_new_token_and_stores_it_as_kubeadm_does(
    cluster: TokenCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    assert podctl(cluster, "token", "create") == 0
    printed = capsys.readouterr().out
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}\n", printed)
    token_id, secret_value = printed.strip().split(".")
    stored = cluster.secrets.store[("kube-system", f"bootstrap-token-{token_id}")]
    assert stored.type == TOKEN_TYPE
    values = data(stored)
    expires = token_secret.parse_rfc3339(values.pop("expiration"))
    assert expires is not None
    assert timedelta(hours=23, minutes=59) < expires - before <= timedelta(hours=24, seconds=1)
    assert values == {
        "token-id": token_id,
        "token-secret": secret_value,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    }


def test_create_takes_the_token_ttl_groups_and_description(
    cluster: TokenCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "token",
        "create",
        "abcdef.0123456789abcdef",
        "--ttl",
        "0",
        "--groups",
        "system:bootstrappers:a,system:bootstrappers:b",
        "--description",
        "for node-4",
    ]
    assert podctl(cluster, *argv) == 0
    assert capsys.readouterr().out == "abcdef.0123456789abcdef\n"
    assert data(cluster.secrets.store[("kube-system", "bootstrap-token-abcdef")]) == {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "description": "for node-4",
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:a,system:bootstrappers:b",
    }
    assert podctl(cluster, *argv) == 1
    assert capsys.readouterr().err == 'error: a token with id "abcdef" already exists\n'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["ABCDEF.0123456789abcdef"],
            'error: the bootstrap token "ABCDEF.0123456789abcdef" was not of the form '
            '"\\\\A([a-z0-9]{6})\\\\.([a-z0-9]{16})\\\\z"',
        ),
        (
            ["--groups", "system:masters"],
            'error: bootstrap group "system:masters" is invalid (must match '
            "\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)",
        ),
        (
            ["--usages", "signing,login,fly"],
            "error: invalid bootstrap token usage string: fly,login, "
            "valid usage options: signing,authentication",
        ),
        (
            ["--usages", "signing"],
            'error: token groups cannot be specified unless --usages includes "authentication"',
        ),
    ],
)
def test_create_refuses_what_kubeadm_refuses(
    cluster: TokenCluster, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert podctl(cluster, "token", "create", *argv) == 1
    assert capsys.readouterr().err == message + "\n"
    assert cluster.secrets.store == {}


def store(cluster: TokenCluster, secret: core_pb2.Secret) -> None:
    asyncio.run(cluster.secrets.create(secret))


def token_secret_of(name: str, **values: str) -> core_pb2.Secret:
    return core_pb2.Secret(
        metadata=meta_pb2.ObjectMeta(name=name, namespace="kube-system"),
        type=TOKEN_TYPE,
        data={k: v.encode() for k, v in values.items()},
    )


def test_list_shows_kubeadms_columns(
    cluster: TokenCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    token = bootstrap_token.new_token(
        "abcdef.0123456789abcdef", now=datetime.now(UTC), ttl=timedelta(hours=5, minutes=30)
    )
    store(cluster, bootstrap_token.to_secret(token))
    store(
        cluster,
        token_secret_of(
            "bootstrap-token-zzzzzz", **{"token-id": "zzzzzz", "token-secret": "z" * 16}
        ),
    )
    store(
        cluster,
        token_secret_of("bootstrap-token-broken", **{"token-id": "other0", "token-secret": "x"}),
    )
    opaque = token_secret_of("not-a-token", **{"token-id": "abc"})
    opaque.type = "Opaque"
    store(cluster, opaque)
    assert podctl(cluster, "token", "list") == 0
    out, err = capsys.readouterr()
    assert token.expires is not None
    lines = out.splitlines()
    assert lines[0] == (
        "TOKEN                     TTL         EXPIRES                USAGES"
        "                   DESCRIPTION   EXTRA GROUPS"
    )
    first = re.split(r"\s{3,}", lines[1])
    assert first[0] == "abcdef.0123456789abcdef" and first[1] in ("5h", "4h")
    assert first[2] == token_secret.format_rfc3339(token.expires)
    assert first[3:] == [
        "authentication,signing",
        "<none>",
        "system:bootstrappers:kubeadm:default-node-token",
    ]
    assert re.split(r"\s{3,}", lines[2]) == [
        "zzzzzz.zzzzzzzzzzzzzzzz",
        "<forever>",
        "<never>",
        "<none>",
        "<none>",
        "<none>",
    ]
    assert len(lines) == 3
    assert err == (
        "[token] parsing token 'bootstrap-token-broken': bootstrap token name is not of the "
        "form 'bootstrap-token-(token-id)'. Actual: 'bootstrap-token-broken'. "
        "Expected: 'bootstrap-token-other0'\n"
    )


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-0.5), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=23, minutes=59), "23h"),
        (timedelta(days=3, hours=5), "3d"),
        (timedelta(days=800), "2y"),
    ],
)
def test_ttl_is_a_short_human_duration(left: timedelta, shown: str) -> None:
    from podctl.cmd.token import short_human_duration

    assert short_human_duration(left) == shown
