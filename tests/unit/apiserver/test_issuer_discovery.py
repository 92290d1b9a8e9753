"""The service account issuer discovery documents (kubernetes pkg/serviceaccount/
openidmetadata.go): their fields and key set as Kubernetes renders them, the default jwks_uri
from the external address, and the issuers and URIs refused in Kubernetes' words."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver.auth.serviceaccount import jwt, openid

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


def test_the_documents_name_the_issuer_and_every_key() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    found = openid.metadata("https://issuer.example", "", "10.0.0.1:6443", [KEY, other])
    assert found.config_json == (
        b'{"issuer":"https://issuer.example","jwks_uri":"https://10.0.0.1:6443/openid/v1/jwks",'
        b'"response_types_supported":["id_token"],"subject_types_supported":["public"],'
        b'"id_token_signing_alg_values_supported":["RS256"]}'
    )
    keys = json.loads(found.keyset_json)["keys"]
    assert [k["kid"] for k in keys] == [jwt.key_id(KEY), jwt.key_id(other)]
    n = KEY.public_numbers().n.to_bytes(256, "big")
    assert keys[0] == {
        "use": "sig",
        "kty": "RSA",
        "kid": jwt.key_id(KEY),
        "alg": "RS256",
        "n": jwt.b64url_encode(n),
        "e": "AQAB",
    }


def test_a_jwks_uri_given_is_published() -> None:
    found = openid.metadata("https://a.example/x", "https://keys.example/jwks", "", [KEY])
    assert json.loads(found.config_json)["jwks_uri"] == "https://keys.example/jwks"


@pytest.mark.parametrize(
    ("issuer", "jwks_uri", "external", "message"),
    [
        ("", "", "h:1", "empty issuer URL"),
        (
            "https://a.example",
            "",
            "",
            "either the JWKS URI or the default external address, or both, must be set",
        ),
        (
            "http://a.example",
            "",
            "h:1",
            "issuer URL must use https scheme, got: http://a.example",
        ),
        (
            "https://a.example?x=1",
            "",
            "h:1",
            "issuer URL may not include a query, got: https://a.example?x=1",
        ),
        (
            "https://a.example",
            "http://keys.example",
            "",
            "jwksURI requires https scheme, parsed as: http://keys.example",
        ),
    ],
)
def test_refusals(issuer: str, jwks_uri: str, external: str, message: str) -> None:
    with pytest.raises(openid.MetadataError) as refused:
        openid.metadata(issuer, jwks_uri, external, [KEY])
    assert str(refused.value) == message
