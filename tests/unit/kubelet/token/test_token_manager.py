"""The kubelet's token manager on a fake clock: a token is kept until 80 % of its lifetime has
passed (or 24 h, less the jitter), then asked for again; a refresh that fails keeps the old token
while it is valid; tokens of a pod that is gone are forgotten."""

from __future__ import annotations

import pytest

from kubelet.token.manager import TokenError, TokenManager
from podplane.api.authentication.v1 import token_request_pb2
from tests.unit.kubelet.tokenfakes import START, FakeClock, FakeTokenAPI


def request(seconds: int, uid: str = "pod-uid") -> token_request_pb2.TokenRequest:
    r = token_request_pb2.TokenRequest()
    r.spec.expiration_seconds = seconds
    r.spec.bound_object_ref.kind, r.spec.bound_object_ref.name = "Pod", "web"
    r.spec.bound_object_ref.uid = uid
    return r


def manager(jitter: float = 0.0) -> tuple[TokenManager, FakeClock, FakeTokenAPI]:
    clock = FakeClock()
    api = FakeTokenAPI(clock)
    return TokenManager(api, clock=clock, jitter=lambda: jitter), clock, api


async def token(m: TokenManager, seconds: int = 600, uid: str = "pod-uid") -> str:
    return (await m.service_account_token("ns", "default", request(seconds, uid))).status.token


@pytest.mark.parametrize(
    ("seconds", "kept_until"),
    [(600, 480), (3607, 2886), (86400 * 2, 86400)],  # 80 % of the lifetime, at most 24 h
)
async def test_a_token_is_refreshed_at_80_percent_of_its_life(
    seconds: int, kept_until: int
) -> None:
    m, clock, _ = manager()
    assert await token(m, seconds) == "token-1"
    clock.now = START + kept_until
    assert await token(m, seconds) == "token-1"
    clock.now = START + kept_until + 1
    assert await token(m, seconds) == "token-2"
    clock.now += 1
    assert await token(m, seconds) == "token-2"  # the new one is kept in turn


async def test_the_jitter_refreshes_a_little_earlier() -> None:
    m, clock, _ = manager(jitter=10.0)
    await token(m)
    clock.now = START + 471
    assert await token(m) == "token-2"


async def test_requests_that_differ_get_tokens_of_their_own() -> None:
    m, _, _ = manager()
    assert await token(m, 600) == "token-1"
    assert await token(m, 3600) == "token-2"
    assert await token(m, 600, uid="other-pod") == "token-3"
    assert await token(m, 600) == "token-1"


async def test_a_failed_refresh_keeps_the_valid_token_and_fails_once_it_expired() -> None:
    m, clock, api = manager()
    await token(m)
    api.failing = True
    clock.now = START + 500
    assert await token(m) == "token-1"
    clock.now = START + 601
    with pytest.raises(TokenError, match="expired and refresh failed: the apiserver is away"):
        await token(m)


async def test_no_token_at_all_is_an_error() -> None:
    m, _, api = manager()
    api.failing = True
    with pytest.raises(TokenError, match="failed to fetch token: the apiserver is away"):
        await token(m)


async def test_the_tokens_of_a_pod_that_is_gone_are_forgotten() -> None:
    m, clock, _ = manager()
    await token(m, uid="a")
    await token(m, uid="b")
    m.delete_for_pod("a")
    assert await token(m, uid="a") == "token-3"
    assert await token(m, uid="b") == "token-2"
    clock.now = START + 700
    m.remove_expired()
    assert await token(m, uid="b") == "token-4"
