"""What signs service account tokens: --service-account-issuer's first value as iss, the
--service-account-signing-key-file key, and the audiences a token gets when its request names
none (--api-audiences)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver.auth.serviceaccount import jwt
from podplane.apimachinery.json_types import JSONObject


@dataclass(frozen=True)
class TokenIssuer:
    issuer: str
    key: rsa.RSAPrivateKey
    api_audiences: tuple[str, ...]
    clock: Callable[[], float] = time.time

    def sign(self, claims: JSONObject) -> str:
        return jwt.sign(claims, self.key)
