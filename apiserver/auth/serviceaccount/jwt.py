"""JSON Web Tokens signed with RS256 (RFC 7515, 7518): base64url(header).base64url(claims) signed
with RSASSA-PKCS1-v1_5 over SHA-256, written with `cryptography` directly (the images carry no JWT
library). Only what service account tokens need: one algorithm, compact serialization."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from podplane.apimachinery.json_types import JSONObject

ALGORITHM = "RS256"


class MalformedToken(ValueError):
    """Not a compact JWS this server reads."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise MalformedToken(f"invalid base64url: {e}") from None


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """Kubernetes' keyIDFromPublicKey: base64url(SHA-256 of the key's PKIX DER), so a verifier
    can pick the key a token names."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return b64url_encode(hashlib.sha256(der).digest())


def sign(claims: JSONObject, key: rsa.RSAPrivateKey) -> str:
    header = {"alg": ALGORITHM, "kid": key_id(key.public_key())}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


@dataclass(frozen=True)
class ParsedToken:
    """A token split and decoded, its signature not yet checked."""

    header: JSONObject
    claims: JSONObject
    signing_input: bytes
    signature: bytes

    def verify(self, keys: list[rsa.RSAPublicKey]) -> bool:
        """Whether one of `keys` (the one the header's kid names, when it names one of them)
        signed the token."""
        if self.header.get("alg") != ALGORITHM:
            return False
        kid = self.header.get("kid")
        named = [k for k in keys if key_id(k) == kid] if isinstance(kid, str) else []
        for key in named or keys:
            try:
                key.verify(self.signature, self.signing_input, padding.PKCS1v15(), hashes.SHA256())
                return True
            except InvalidSignature:
                continue
        return False


def _json_object(part: str, what: str) -> JSONObject:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedToken(f"the {what} is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the {what} is not a JSON object")
    return value


def parse(token: str) -> ParsedToken:
    """The token's parts; MalformedToken when it is not header.claims.signature of JSON."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a JWT has three dot-separated parts")
    try:
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("a JWT is ASCII") from None
    return ParsedToken(
        _json_object(parts[0], "header"),
        _json_object(parts[1], "claims"),
        signing_input,
        b64url_decode(parts[2]),
    )
