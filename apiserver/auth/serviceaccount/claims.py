"""Kubernetes' service account token claims (pkg/serviceaccount/claims.go): the registered
claims (iss, sub, aud, exp, iat, nbf, jti) and the private `kubernetes.io` claim naming the
namespace, the service account and the objects the token is bound to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.serviceaccount import make_username

KUBERNETES_CLAIM = "kubernetes.io"
# jwt.DefaultLeeway: the clock skew tolerated on exp, nbf and iat.
LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class Ref:
    """An object a token names: its name and uid (uid may be empty for a pod's node)."""

    name: str
    uid: str

    def claim(self) -> dict[str, str]:
        return {"name": self.name, "uid": self.uid}


@dataclass(frozen=True)
class Bound:
    """The objects a token is bound to; a pod-bound token names its pod's node too."""

    pod: Ref | None = None
    secret: Ref | None = None
    node: Ref | None = None


def new_claims(
    *,
    issuer: str,
    namespace: str,
    account: Ref,
    audiences: list[str],
    issued_at: int,
    expiration_seconds: int,
    bound: Bound = Bound(),
) -> JSONObject:
    """A token's claims, as serviceaccount.Claims and the JWT generator write them."""
    private: JSONObject = {"namespace": namespace}
    for key, ref in (("node", bound.node), ("pod", bound.pod), ("secret", bound.secret)):
        if ref is not None:
            private[key] = ref.claim()
    private["serviceaccount"] = account.claim()
    return {
        "aud": list(audiences),
        "exp": issued_at + expiration_seconds,
        "iat": issued_at,
        "iss": issuer,
        "jti": str(uuid.uuid4()),
        KUBERNETES_CLAIM: private,
        "nbf": issued_at,
        "sub": make_username(namespace, account.name),
    }


class InvalidClaims(ValueError):
    """A token whose claims are not a service account's, with Kubernetes' reason."""


def _ref(value: object, what: str) -> Ref:
    if not isinstance(value, dict):
        raise InvalidClaims(f"{what} claim is not an object")
    name, uid = value.get("name"), value.get("uid", "")
    if not isinstance(name, str) or not name or not isinstance(uid, str):
        raise InvalidClaims(f"{what} claim has no name")
    return Ref(name, uid)


@dataclass(frozen=True)
class PrivateClaims:
    """The `kubernetes.io` claim, read."""

    namespace: str
    account: Ref
    bound: Bound


def private_claims(claims: JSONObject) -> PrivateClaims:
    private = claims.get(KUBERNETES_CLAIM)
    if not isinstance(private, dict):
        raise InvalidClaims("service account token claims are missing")
    namespace = private.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise InvalidClaims("namespace claim is missing")
    account = _ref(private.get("serviceaccount"), "serviceaccount")
    bound = Bound(
        pod=_ref(private["pod"], "pod") if "pod" in private else None,
        secret=_ref(private["secret"], "secret") if "secret" in private else None,
        node=_ref(private["node"], "node") if "node" in private else None,
    )
    if claims.get("sub") != make_username(namespace, account.name):
        raise InvalidClaims("sub claim does not name the service account")
    return PrivateClaims(namespace, account, bound)


def _number(claims: JSONObject, key: str) -> float | None:
    value = claims.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidClaims(f"{key} claim is not a number")
    return float(value)


def check_times(claims: JSONObject, now: float) -> None:
    """exp, nbf and iat against the clock with the leeway, in Kubernetes' words."""
    exp, nbf, iat = (_number(claims, k) for k in ("exp", "nbf", "iat"))
    if exp is None:
        raise InvalidClaims("service account token has no expiry")
    if now - LEEWAY_SECONDS > exp:
        raise InvalidClaims("service account token has expired")
    if nbf is not None and now + LEEWAY_SECONDS < nbf:
        raise InvalidClaims("service account token is not valid yet")
    if iat is not None and now + LEEWAY_SECONDS < iat:
        raise InvalidClaims("service account token is issued in the future")


def audiences(claims: JSONObject) -> list[str]:
    """The aud claim: one string or a list of them."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return aud
    raise InvalidClaims("aud claim is missing")
