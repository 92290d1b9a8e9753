"""Who is asking, and whether they may (an aggregated API server's delegated authentication
and authorization, k8s.io/apiserver's requestheader, x509 and webhook authenticators and its
webhook authorizer): a client certificate of the front proxy (signed by kube-system's
extension-apiserver-authentication `requestheader-client-ca-file`, its common name one of
`requestheader-allowed-names`) makes the apiserver's X-Remote-User and X-Remote-Group the user;
one of the cluster's CA (`client-ca-file`) is its own user; a bearer token is asked of the
apiserver with a TokenReview. Every request is then asked of the apiserver with a
SubjectAccessReview, but /healthz, /livez and /readyz (always allowed, as metrics-server's)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2
from podplane.client.clientset import Client

AUTHENTICATED = "system:authenticated"
ALWAYS_ALLOWED = ("/healthz", "/livez", "/readyz")
DECISION_TTL = 10.0  # --authorization-webhook-cache-authorized-ttl (metrics-server's 10 s)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trust:
    """The extension-apiserver-authentication ConfigMap's settings."""

    client_ca: list[x509.Certificate]
    requestheader_ca: list[x509.Certificate]
    allowed_names: tuple[str, ...]
    username_headers: tuple[str, ...]
    group_headers: tuple[str, ...]

    @property
    def ca_pem(self) -> bytes:
        return b"".join(
            c.public_bytes(Encoding.PEM) for c in self.client_ca + self.requestheader_ca
        )


def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []


def trust_of(data: dict[str, str]) -> Trust:
    """The ConfigMap's data read (its lists are JSON, as kube-apiserver writes them)."""

    def listed(key: str, default: Sequence[str] = ()) -> tuple[str, ...]:
        raw = data.get(key, "")
        return tuple(json.loads(raw)) if raw else tuple(default)

    return Trust(
        _certificates(data.get("client-ca-file", "")),
        _certificates(data.get("requestheader-client-ca-file", "")),
        listed("requestheader-allowed-names"),
        listed("requestheader-username-headers", ("X-Remote-User",)),
        listed("requestheader-group-headers", ("X-Remote-Group",)),
    )


def _with_authenticated(user: User) -> User:
    """AuthenticatedGroupAdder: every authenticated user is in system:authenticated."""
    if AUTHENTICATED in user.groups:
        return user
    return User(user.name, (*user.groups, AUTHENTICATED))


def _signed_by(cert: x509.Certificate, cas: list[x509.Certificate]) -> bool:
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
            return True
        except (InvalidSignature, ValueError, TypeError):
            continue
    return False


def _common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""


class Authenticator:
    def __init__(self, trust: Trust, client: Client, clock: Callable[[], float] = time.monotonic):
        self.trust = trust
        self.client = client
        self.clock = clock
        self._tokens: dict[str, tuple[float, User | None]] = {}

    async def user(
        self, peer_der: bytes | None, headers: dict[str, list[str]], authorization: str
    ) -> User | None:
        """The request's user; None: not authenticated (401)."""
        if peer_der:
            cert = x509.load_der_x509_certificate(peer_der)
            if _signed_by(cert, self.trust.requestheader_ca):
                allowed = self.trust.allowed_names
                if allowed and _common_name(cert) not in allowed:
                    return None
                name = next(
                    (v for h in self.trust.username_headers for v in headers.get(h, [])), ""
                )
                if not name:
                    return None
                listed = [g for h in self.trust.group_headers for g in headers.get(h, [])]
                return _with_authenticated(User(name, tuple(listed)))
            if _signed_by(cert, self.trust.client_ca):
                orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
                return User(_common_name(cert), (*(str(o.value) for o in orgs), AUTHENTICATED))
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return await self._token_user(token.strip())
        return None

    async def _token_user(self, token: str) -> User | None:
        cached = self._tokens.get(token)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        review = await self.client.create_token_review(
            authentication_pb2.TokenReview(spec=authentication_pb2.TokenReviewSpec(token=token))
        )
        user = None
        if review.status.authenticated:
            user = _with_authenticated(
                User(review.status.user.username, tuple(review.status.user.groups))
            )
        self._tokens[token] = (self.clock() + DECISION_TTL, user)
        return user


@dataclass(frozen=True)
class Attributes:
    """What a request does: a verb on a metrics.k8s.io resource, or on a path."""

    verb: str
    resource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


class Authorizer:
    def __init__(self, client: Client, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._decisions: dict[tuple[User, Attributes], tuple[float, bool, str]] = {}

    async def allowed(self, user: User, a: Attributes) -> tuple[bool, str]:
        """Whether the SubjectAccessReview allows it, and its reason."""
        if a.path in ALWAYS_ALLOWED:
            return True, ""
        cached = self._decisions.get((user, a))
        if cached is not None and cached[0] > self.clock():
            return cached[1], cached[2]
        spec = authorization_pb2.SubjectAccessReviewSpec(user=user.name, groups=list(user.groups))
        if a.resource:
            spec.resource_attributes.CopyFrom(
                authorization_pb2.ResourceAttributes(
                    verb=a.verb,
                    group="metrics.k8s.io",
                    version="v1beta1",
                    resource=a.resource,
                    namespace=a.namespace,
                    name=a.name,
                )
            )
        else:
            spec.non_resource_attributes.CopyFrom(
                authorization_pb2.NonResourceAttributes(verb=a.verb, path=a.path)
            )
        review = await self.client.create_subject_access_review(
            authorization_pb2.SubjectAccessReview(spec=spec)
        )
        allowed, reason = review.status.allowed, review.status.reason
        self._decisions[(user, a)] = (self.clock() + DECISION_TTL, allowed, reason)
        return allowed, reason


def forbidden_message(user: User, a: Attributes, reason: str) -> str:
    """errors.NewForbidden's message of responsewriters.forbiddenMessage."""
    if not a.resource:
        text = f'forbidden: User "{user.name}" cannot {a.verb} path "{a.path}"'
        return text + (f": {reason}" if reason else "")
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    message = (
        f'User "{user.name}" cannot {a.verb} resource "{a.resource}" in API group '
        f'"metrics.k8s.io" {where}'
    ) + (f": {reason}" if reason else "")
    subject = f"{a.resource}.metrics.k8s.io" + (f' "{a.name}"' if a.name else "")
    return f"{subject} is forbidden: {message}"
