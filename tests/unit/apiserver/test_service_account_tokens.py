"""Service account token validation (pkg/serviceaccount's JWT validator): a token this server
signed for the API's audience, in its validity, naming an account and bound objects that still
exist with their uids, is the account's user; every other token is refused (401 at the doors,
None from the authenticator) with Kubernetes' reason, and none makes it raise."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver import errors
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.serviceaccount import claims as sa_claims
from apiserver.auth.serviceaccount import jwt
from apiserver.auth.serviceaccount.authenticator import (
    InvalidToken,
    Lookups,
    ServiceAccountTokenAuthenticator,
)
from apiserver.auth.serviceaccount.claims import Bound, Ref
from apiserver.auth.user import UserInfo
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.unit.apiserver.token_lookups import reads

ISSUER = "https://kubernetes.default.svc.cluster.local"
NOW = 1_800_000_000
NS = "team"
UNBOUND = Bound()
ROBOT = Ref("robot", "sa-uid")


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def meta(name: str, uid: str, namespace: str = NS, deletion: str = "") -> meta_pb2.ObjectMeta:
    return meta_pb2.ObjectMeta(name=name, namespace=namespace, uid=uid, deletion_timestamp=deletion)


class Cluster:
    """What the watch cache holds: a service account, a pod, a secret and a node."""

    def __init__(self) -> None:
        self.accounts = {"robot": core_pb2.ServiceAccount(metadata=meta("robot", "sa-uid"))}
        self.pods = {"worker": core_pb2.Pod(metadata=meta("worker", "pod-uid"))}
        self.secrets = {"s": core_pb2.Secret(metadata=meta("s", "secret-uid"))}
        self.nodes = {"node-1": core_pb2.Node(metadata=meta("node-1", "node-uid", ""))}
        # Storage unreachable for what the cache does not have.
        self.unreachable = False

    def lookups(self) -> Lookups:
        def get(objects: dict[str, Any], namespace: str, name: str) -> Any:
            if self.unreachable:
                raise errors.APIError(grpc.StatusCode.UNAVAILABLE, "InternalError", "etcd is gone")
            return objects.get(name) if namespace in (NS, "") else None

        def in_ns(objects: dict[str, Any]) -> Callable[[str, str], Any]:
            return reads(lambda namespace, name: get(objects, namespace, name))

        return Lookups(
            in_ns(self.accounts), in_ns(self.pods), in_ns(self.secrets), in_ns(self.nodes)
        )


def authenticator(key: rsa.RSAPrivateKey, cluster: Cluster) -> ServiceAccountTokenAuthenticator:
    return ServiceAccountTokenAuthenticator(
        [ISSUER], [key.public_key()], [ISSUER], cluster.lookups(), clock=lambda: NOW
    )


def token(
    key: rsa.RSAPrivateKey,
    *,
    issued_at: int = NOW - 10,
    seconds: int = 3600,
    audiences: tuple[str, ...] = (ISSUER,),
    bound: Bound = UNBOUND,
    account: Ref = ROBOT,
    issuer: str = ISSUER,
) -> str:
    claims = sa_claims.new_claims(
        issuer=issuer,
        namespace=NS,
        account=account,
        audiences=list(audiences),
        issued_at=issued_at,
        expiration_seconds=seconds,
        bound=bound,
    )
    return jwt.sign(claims, key)


def with_claims(signed: str, change: Callable[[dict[str, Any]], None]) -> str:
    """The token with its claims changed and its signature kept."""
    header, payload, signature = signed.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    return ".".join((header, jwt.b64url_encode(json.dumps(claims).encode()), signature))


async def test_a_valid_token_is_the_accounts_user(key: rsa.RSAPrivateKey) -> None:
    cluster = Cluster()
    bound = Bound(pod=Ref("worker", "pod-uid"), node=Ref("node-1", "node-uid"))
    signed = token(key, bound=bound)
    user = await authenticator(key, cluster).authenticate(signed)
    jti = json.loads(
        base64.urlsafe_b64decode(signed.split(".")[1] + "=" * (-len(signed.split(".")[1]) % 4))
    )["jti"]
    assert user == UserInfo(
        f"system:serviceaccount:{NS}:robot",
        frozenset({"system:serviceaccounts", f"system:serviceaccounts:{NS}"}),
        uid="sa-uid",
        extra=(
            ("authentication.kubernetes.io/credential-id", (f"JTI={jti}",)),
            ("authentication.kubernetes.io/node-name", ("node-1",)),
            ("authentication.kubernetes.io/node-uid", ("node-uid",)),
            ("authentication.kubernetes.io/pod-name", ("worker",)),
            ("authentication.kubernetes.io/pod-uid", ("pod-uid",)),
        ),
    )
    # The union adds system:authenticated, and keeps the uid and extra.
    assert await Authenticator(service_accounts=authenticator(key, cluster)).authenticate(
        None, signed
    ) == UserInfo(user.name, user.groups | {"system:authenticated"}, uid=user.uid, extra=user.extra)


def test_the_header_names_the_key_and_the_claims_are_kubernetes(key: rsa.RSAPrivateKey) -> None:
    parsed = jwt.parse(token(key, bound=Bound(secret=Ref("s", "secret-uid"))))
    assert parsed.header == {"alg": "RS256", "kid": jwt.key_id(key.public_key())}
    assert parsed.claims["iss"] == ISSUER and parsed.claims["aud"] == [ISSUER]
    assert parsed.claims["sub"] == f"system:serviceaccount:{NS}:robot"
    assert (parsed.claims["iat"], parsed.claims["nbf"], parsed.claims["exp"]) == (
        NOW - 10,
        NOW - 10,
        NOW + 3590,
    )
    assert parsed.claims["kubernetes.io"] == {
        "namespace": NS,
        "secret": {"name": "s", "uid": "secret-uid"},
        "serviceaccount": {"name": "robot", "uid": "sa-uid"},
    }


Maker = Callable[[rsa.RSAPrivateKey, rsa.RSAPrivateKey], str]
POD = Bound(pod=Ref("worker", "pod-uid"))


def unchanged(cluster: Cluster) -> None:
    return None


def pod_past_its_grace_period(cluster: Cluster) -> None:
    cluster.pods["worker"].metadata.deletion_timestamp = "2027-01-15T07:58:40Z"  # NOW - 80 s


# (case, what the cache holds, the token, the reason it is refused)
REFUSED: list[tuple[str, Callable[[Cluster], None], Maker, str]] = [
    ("signed by another key", unchanged, lambda key, other: token(other), "invalid signature"),
    (
        "claims changed after signing",
        unchanged,
        lambda key, other: with_claims(
            token(key), lambda c: c["kubernetes.io"].update(namespace="kube-system")
        ),
        "invalid signature",
    ),
    (
        "alg none",
        unchanged,
        lambda key, other: ".".join(
            [jwt.b64url_encode(b'{"alg":"none"}'), token(key).split(".")[1], ""]
        ),
        "invalid signature",
    ),
    (
        "another audience",
        unchanged,
        lambda key, other: token(key, audiences=("vault",)),
        "token audiences ['vault'] is invalid for the target audiences "
        "['https://kubernetes.default.svc.cluster.local']",
    ),
    (
        "expired past the leeway",
        unchanged,
        lambda key, other: token(key, issued_at=NOW - 3661, seconds=3600),
        "service account token has expired",
    ),
    (
        "not valid yet",
        unchanged,
        lambda key, other: token(key, issued_at=NOW + 120),
        "service account token is not valid yet",
    ),
    (
        "account deleted",
        lambda cluster: cluster.accounts.clear(),
        lambda key, other: token(key),
        f"service account {NS}/robot has been deleted",
    ),
    (
        "storage unreachable",
        lambda cluster: setattr(cluster, "unreachable", True),
        lambda key, other: token(key),
        f"could not retrieve service account {NS}/robot: etcd is gone",
    ),
    (
        "account deleted and made again",
        unchanged,
        lambda key, other: token(key, account=Ref("robot", "old-uid")),
        "service account UID (sa-uid) does not match claim (old-uid)",
    ),
    (
        "bound pod deleted",
        lambda cluster: cluster.pods.clear(),
        lambda key, other: token(key, bound=POD),
        f"pod {NS}/worker has been deleted",
    ),
    (
        "bound pod made again",
        unchanged,
        lambda key, other: token(key, bound=Bound(pod=Ref("worker", "old-pod"))),
        "pod UID (pod-uid) does not match claim (old-pod)",
    ),
    (
        "bound pod past its grace period",
        pod_past_its_grace_period,
        lambda key, other: token(key, bound=POD),
        f"pod {NS}/worker is being deleted",
    ),
    (
        "bound secret deleted",
        lambda cluster: cluster.secrets.clear(),
        lambda key, other: token(key, bound=Bound(secret=Ref("s", "secret-uid"))),
        f"secret {NS}/s has been deleted",
    ),
    (
        "bound node deleted",
        lambda cluster: cluster.nodes.clear(),
        lambda key, other: token(key, bound=Bound(node=Ref("node-1", "node-uid"))),
        "node node-1 has been deleted",
    ),
    (
        "no kubernetes.io claim",
        unchanged,
        lambda key, other: jwt.sign(
            {"iss": ISSUER, "aud": [ISSUER], "exp": NOW + 60, "sub": "x"}, key
        ),
        "service account token claims are missing",
    ),
]


@pytest.mark.parametrize(("case", "setup", "make", "reason"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_invalid_tokens_are_refused_with_the_reason(
    key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
    case: str,
    setup: Callable[[Cluster], None],
    make: Maker,
    reason: str,
) -> None:
    cluster = Cluster()
    setup(cluster)
    signed = make(key, other_key)
    sa = authenticator(key, cluster)
    with pytest.raises(InvalidToken) as refused:
        await sa.validate(signed)
    assert str(refused.value) == reason
    assert await sa.authenticate(signed) is None
    assert await Authenticator(service_accounts=sa).authenticate(None, signed) is None


async def test_a_pod_in_its_grace_period_still_vouches(key: rsa.RSAPrivateKey) -> None:
    cluster = Cluster()
    cluster.pods["worker"].metadata.deletion_timestamp = "2027-01-15T08:00:20Z"  # NOW + 20 s
    assert await authenticator(key, cluster).validate(token(key, bound=POD)) is not None


@pytest.mark.parametrize(
    "text",
    ["", "abc", "a.b", "a.b.c", "a.b.c.d", "\u00e9.x.y", "e30.e30.", "W10.W10.sig"],
)
async def test_what_is_not_a_jwt_is_left_to_the_other_authenticators(
    key: rsa.RSAPrivateKey, text: str
) -> None:
    sa = authenticator(key, Cluster())
    assert await sa.validate(text) is None
    assert await Authenticator(service_accounts=sa).authenticate(None, text) is None


async def test_another_issuers_token_is_not_judged(key: rsa.RSAPrivateKey) -> None:
    assert await authenticator(key, Cluster()).validate(token(key, issuer="https://other")) is None


async def test_the_signature_is_checked_once_per_token(
    key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster = Cluster()
    sa = authenticator(key, cluster)
    signed = token(key)
    checks: list[str] = []
    verify = jwt.ParsedToken.verify

    def counted(self: jwt.ParsedToken, keys: list[rsa.RSAPublicKey]) -> bool:
        checks.append("verify")
        return verify(self, keys)

    monkeypatch.setattr(jwt.ParsedToken, "verify", counted)
    assert await sa.authenticate(signed) is not None
    assert await sa.authenticate(signed) is not None
    assert checks == ["verify"]
    # The account is looked up every time: deleting it refuses the cached token at once.
    cluster.accounts.clear()
    assert await sa.authenticate(signed) is None
