"""Bootstrap token authentication (plugin/pkg/auth/authenticator/token/bootstrap): a token
`<id>.<secret>` is system:bootstrap:<id> in system:bootstrappers and its Secret's extra groups,
only while kube-system's bootstrap-token-<id> Secret vouches for it; anything else is no user
(the caller's 401). The flag turns it on, the authenticator chain tries it after the others."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from apiserver import errors
from apiserver.__main__ import parse_args
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.bootstrap_token import BootstrapTokenAuthenticator
from apiserver.auth.serviceaccount.authenticator import Lookups
from apiserver.auth.token_file import TokenAuthenticator
from apiserver.auth.user import UserInfo
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.pki_support import apiserver_tls_flags, make_pki
from tests.unit.apiserver.token_lookups import reads

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
TOKEN = "abcdef.0123456789abcdef"


def token_secret(
    *,
    name: str = "bootstrap-token-abcdef",
    type_: str = "bootstrap.kubernetes.io/token",
    deleting: bool = False,
    **data: str,
) -> core_pb2.Secret:
    values = {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "usage-bootstrap-authentication": "true",
        **{k.replace("_", "-"): v for k, v in data.items()},
    }
    return core_pb2.Secret(
        metadata=meta_pb2.ObjectMeta(
            name=name,
            namespace="kube-system",
            deletion_timestamp="2026-11-23T11:00:00Z" if deleting else "",
        ),
        type=type_,
        data={k: v.encode() for k, v in values.items() if v != "<absent>"},
    )


def authenticator(*secrets: core_pb2.Secret) -> BootstrapTokenAuthenticator:
    by_key = {(s.metadata.namespace, s.metadata.name): s for s in secrets}
    return BootstrapTokenAuthenticator(reads(lambda ns, name: by_key.get((ns, name))), lambda: NOW)


async def test_a_token_whose_secret_vouches_for_it_is_its_bootstrap_user() -> None:
    user = await authenticator(token_secret()).authenticate(TOKEN)
    assert user == UserInfo("system:bootstrap:abcdef", frozenset({"system:bootstrappers"}))


async def test_extra_groups_are_added_sorted_and_once() -> None:
    extra = "system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:b"
    user = await authenticator(token_secret(auth_extra_groups=extra)).authenticate(TOKEN)
    assert user is not None
    assert user.groups == {
        "system:bootstrappers",
        "system:bootstrappers:b",
        "system:bootstrappers:kubeadm:default-node-token",
    }
    twice = authenticator(
        token_secret(auth_extra_groups="system:bootstrappers,system:bootstrappers:b")
    )
    # system:bootstrappers itself is not of the system:bootstrappers:<name> form: refused.
    assert await twice.authenticate(TOKEN) is None


@pytest.mark.parametrize(
    "extra",
    [
        "system:masters",
        "system:bootstrappers:",
        "system:bootstrappers:Upper",
        "system:bootstrappers:a,",
        "system:bootstrappers:ends-",
        "system:nodes,system:bootstrappers:a",
    ],
)
async def test_an_extra_group_outside_system_bootstrappers_refuses_the_token(extra: str) -> None:
    assert await authenticator(token_secret(auth_extra_groups=extra)).authenticate(TOKEN) is None


@pytest.mark.parametrize(
    ("secret", "token"),
    [
        (token_secret(), "abcdef.0123456789abcdee"),  # wrong secret
        (token_secret(), "abcdeg.0123456789abcdef"),  # no Secret of that id
        (token_secret(token_id="zzzzzz"), TOKEN),  # token-id differs from the name's
        (token_secret(token_secret="<absent>"), TOKEN),
        (token_secret(usage_bootstrap_authentication="false"), TOKEN),
        (token_secret(usage_bootstrap_authentication="<absent>"), TOKEN),
        (
            token_secret(usage_bootstrap_signing="true", usage_bootstrap_authentication="<absent>"),
            TOKEN,
        ),
        (token_secret(expiration="2026-11-23T11:59:59Z"), TOKEN),
        (token_secret(expiration="2026-11-23T12:00:00Z"), TOKEN),  # expires at that instant
        (token_secret(expiration="2026-11-24"), TOKEN),  # not RFC 3339: treated as expired
        (token_secret(expiration="tomorrow"), TOKEN),
        (token_secret(deleting=True), TOKEN),
        (token_secret(type_="Opaque"), TOKEN),
        (token_secret(name="bootstrap-token-abcdef", type_="kubernetes.io/tls"), TOKEN),
    ],
)
async def test_a_secret_that_does_not_vouch_refuses_the_token(
    secret: core_pb2.Secret, token: str
) -> None:
    assert await authenticator(secret).authenticate(token) is None


async def test_an_expiration_still_ahead_or_in_another_zone_is_honoured() -> None:
    ahead = authenticator(token_secret(expiration="2026-11-23T12:00:01Z"))
    assert await ahead.authenticate(TOKEN) is not None
    # 13:30+02:00 is 11:30Z: past.
    assert (
        await authenticator(token_secret(expiration="2026-11-23T13:30:00+02:00")).authenticate(
            TOKEN
        )
        is None
    )
    assert (
        await authenticator(token_secret(expiration="2026-11-23T12:30:00.5+00:00")).authenticate(
            TOKEN
        )
        is not None
    )


@pytest.mark.parametrize(
    "token",
    [
        "ABCDEF.0123456789abcdef",
        "abcdef.0123456789abcde",
        "abcdef0123456789abcdef",
        "abcdef.0123456789abcdef\n",
        " abcdef.0123456789abcdef",
        "abcdef.0123456789abcdef0",
        "eyJhbGciOiJSUzI1NiJ9.e30.sig",
    ],
)
async def test_what_is_not_a_bootstrap_token_is_not_looked_up(token: str) -> None:
    looked_up: list[tuple[str, str]] = []

    def lookup(ns: str, name: str) -> core_pb2.Secret | None:
        looked_up.append((ns, name))
        return token_secret()

    assert await BootstrapTokenAuthenticator(reads(lookup), lambda: NOW).authenticate(token) is None
    assert looked_up == []


async def test_the_chain_adds_system_authenticated_and_tries_bootstrap_tokens_last() -> None:
    static = TokenAuthenticator({TOKEN: UserInfo("static-user")})
    with_static = Authenticator(static, None, authenticator(token_secret()))
    user = await with_static.authenticate(None, TOKEN)
    assert user is not None and user.name == "static-user"
    chain = Authenticator(None, None, authenticator(token_secret()))
    user = await chain.authenticate(None, TOKEN)
    assert user is not None
    assert user.name == "system:bootstrap:abcdef"
    assert user.groups == {"system:bootstrappers", "system:authenticated"}
    assert await chain.authenticate(None, None) is None


async def test_the_flag_turns_bootstrap_token_authentication_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(tmp_path)
    tls = ["--etcd-servers", "https://127.0.0.1:2379", *apiserver_tls_flags(pki)]
    secrets = {("kube-system", "bootstrap-token-abcdef"): token_secret()}
    lookups = Lookups(
        service_account=reads(lambda ns, n: None),
        pod=reads(lambda ns, n: None),
        secret=reads(lambda ns, n: secrets.get((ns, n))),
        node=reads(lambda ns, n: None),
    )
    off = parse_args(tls).security
    assert off is not None and await off.authenticator(lookups).authenticate(None, TOKEN) is None
    on = parse_args([*tls, "--enable-bootstrap-token-auth"]).security
    assert on is not None and on.enable_bootstrap_token_auth
    user = await on.authenticator(lookups).authenticate(None, TOKEN)
    assert user is not None and user.name == "system:bootstrap:abcdef"
    with pytest.raises(SystemExit):
        parse_args([*tls[:2], "--insecure-serving", "--enable-bootstrap-token-auth"])
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("--insecure-serving: cannot be combined with --enable-bootstrap-token-auth")
    )


async def test_a_secret_that_cannot_be_read_refuses_the_token() -> None:
    def unreachable(ns: str, name: str) -> core_pb2.Secret | None:
        raise errors.APIError(grpc.StatusCode.UNAVAILABLE, "InternalError", "etcd is gone")

    assert (
        await BootstrapTokenAuthenticator(reads(unreachable), lambda: NOW).authenticate(TOKEN)
        is None
    )
