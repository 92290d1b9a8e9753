"""The front proxy's headers as client-go's SetAuthProxyHeaders writes them (transport/
round_trippers.go): the user, one X-Remote-Group per group, one X-Remote-Extra-<key> per value
with the key escaped as headerKeyEscape escapes it; what the client sent under those names, its
credentials and impersonation, and hop-by-hop headers are not passed on."""

from __future__ import annotations

import pytest

from apiserver.aggregator.headers import auth_proxy_headers, header_key_escape


@pytest.mark.parametrize(
    ("key", "escaped"),
    [
        ("scopes", "scopes"),
        ("authentication.kubernetes.io/pod-name", "authentication.kubernetes.io%2Fpod-name"),
        ("100%", "100%25"),
        ("a b", "a%20b"),
        ("ünï", "%C3%BCn%C3%AF"),
        ("!#$&'*+-.^_`|~", "!#$&'*+-.^_`|~"),
    ],
)
def test_extra_keys_are_escaped_as_header_key_escape_does(key: str, escaped: str) -> None:
    assert header_key_escape(key) == escaped


def test_the_user_replaces_what_the_client_said_and_its_credentials_are_dropped() -> None:
    incoming = [
        ("Accept", "application/json"),
        ("Authorization", "Bearer secret"),
        ("X-Remote-User", "mallory"),
        ("x-remote-group", "system:masters"),
        ("X-Remote-Extra-Scopes", "all"),
        ("Impersonate-User", "someone"),
        ("Connection", "keep-alive"),
        ("Host", "127.0.0.1:8443"),
        ("Content-Type", "application/json"),
    ]
    headers = auth_proxy_headers(
        incoming,
        "alice",
        ["developers", "system:authenticated"],
        {"authentication.kubernetes.io/pod-name": ["web-0"], "scopes": ["read", "write"]},
    )
    assert headers == [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("X-Remote-User", "alice"),
        ("X-Remote-Group", "developers"),
        ("X-Remote-Group", "system:authenticated"),
        ("X-Remote-Extra-authentication.kubernetes.io%2Fpod-name", "web-0"),
        ("X-Remote-Extra-scopes", "read"),
        ("X-Remote-Extra-scopes", "write"),
    ]
