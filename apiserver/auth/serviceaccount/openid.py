"""Service account issuer discovery (kubernetes pkg/serviceaccount/openidmetadata.go): the OpenID
provider configuration at /.well-known/openid-configuration and the JSON Web Key Set at
/openid/v1/jwks, so that a relying party outside the cluster can verify the service account
tokens this server issues. Rendered once, as Kubernetes renders them; served only for an https
issuer (OIDC requires one): otherwise the reason is logged and the paths are not found."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver.auth.serviceaccount.jwt import ALGORITHM, b64url_encode, key_id

CONFIG_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
JWKS_CONTENT_TYPE = "application/jwk-set+json"
# Relying parties may cache both documents for an hour.
CACHE_CONTROL = "public, max-age=3600"


class MetadataError(ValueError):
    """Why the discovery documents cannot be served (in Kubernetes' words)."""


@dataclass(frozen=True)
class OpenIDMetadata:
    config_json: bytes
    keyset_json: bytes


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    """go-jose's JSON of a public RSA key, in its field order."""
    numbers = key.public_numbers()
    return {
        "use": "sig",
        "kty": "RSA",
        "kid": key_id(key),
        "alg": ALGORITHM,
        "n": b64url_encode(_int_bytes(numbers.n)),
        "e": b64url_encode(_int_bytes(numbers.e)),
    }


def _compact(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def metadata(
    issuer: str, jwks_uri: str, external_address: str, keys: list[rsa.RSAPublicKey]
) -> OpenIDMetadata:
    """The two documents for `issuer` (the first --service-account-issuer) and the verifying
    `keys`; `jwks_uri` (--service-account-jwks-uri) or else https://<external_address>/openid/v1/jwks
    as where the keys are."""
    if not issuer:
        raise MetadataError("empty issuer URL")
    if not jwks_uri and not external_address:
        raise MetadataError(
            "either the JWKS URI or the default external address, or both, must be set"
        )
    parts = urlsplit(issuer)
    if parts.scheme != "https":
        raise MetadataError(f"issuer URL must use https scheme, got: {issuer}")
    if parts.query:
        raise MetadataError(f"issuer URL may not include a query, got: {issuer}")
    if parts.fragment:
        raise MetadataError(f"issuer URL may not include a fragment, got: {issuer}")
    if not jwks_uri:
        jwks_uri = f"https://{external_address}{JWKS_PATH}"
    elif urlsplit(jwks_uri).scheme != "https":
        raise MetadataError(f"jwksURI requires https scheme, parsed as: {jwks_uri}")
    if not keys:
        raise MetadataError("no keys provided for validating keyset")
    config = {
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
    }
    return OpenIDMetadata(_compact(config), _compact({"keys": [jwk(k) for k in keys]}))
