"""Who may use the kubelet's HTTPS API, as Kubernetes' kubelet decides it with webhook
authentication and authorization (pkg/kubelet/server/auth.go, server.go's InstallAuthFilter):
a client certificate of the cluster CA (user = CN, groups = O) or a bearer token the apiserver
names in a TokenReview, else 401 "Unauthorized"; then a SubjectAccessReview for the node
resource the request maps to (/stats/* -> nodes/stats, /metrics* -> nodes/metrics, /logs/* ->
nodes/log, /spec/* -> nodes/spec, everything else nodes/proxy; the verb from the HTTP method),
else 403 "Forbidden (user=..., verb=..., resource=nodes, subresource=...)". Decisions are cached
as the kubelet's webhooks cache them: tokens 2 minutes (an unknown one 30 s), authorized 5
minutes, unauthorized 30 seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2
from podplane.componentbase.x509_subject import name_and_groups

AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHORIZED = "Unauthorized"
METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
# The first path segment that names a subresource narrower than nodes/proxy.
PATH_SUBRESOURCES = (("/stats/", "stats"), ("/metrics", "metrics"), ("/logs/", "log"),
                     ("/spec/", "spec"))  # fmt: skip
TOKEN_TTL, UNKNOWN_TOKEN_TTL = 120.0, 30.0
AUTHORIZED_TTL, UNAUTHORIZED_TTL = 300.0, 30.0


def is_subpath(subpath: str, path: str) -> bool:
    path = path.removesuffix("/")
    return subpath == path or (subpath.startswith(path) and subpath[len(path)] == "/")


def request_attributes(method: str, path: str) -> tuple[str, str]:
    """(verb, subresource) of nodes/<subresource> that a request needs (GetRequestAttributes)."""
    verb = METHOD_VERBS.get(method, "")
    for prefix, subresource in PATH_SUBRESOURCES:
        if is_subpath(path, prefix):
            return verb, subresource
    return verb, "proxy"


def forbidden(user: str, verb: str, subresource: str) -> str:
    return f"Forbidden (user={user}, verb={verb}, resource=nodes, subresource={subresource})"


def authorization_error(user: str, verb: str, subresource: str) -> str:
    return (
        f"Authorization error (user={user}, verb={verb}, resource=nodes, subresource={subresource})"
    )


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""


def certificate_user(subject: str | None) -> User | None:
    """The user of a verified client certificate's subject (x509's CommonNameUserConversion)."""
    parsed = name_and_groups(subject) if subject else None
    if parsed is None:
        return None
    return User(parsed[0], (*sorted(parsed[1]), AUTHENTICATED_GROUP))


class Reviews(Protocol):
    """The apiserver's review calls (podplane.client.clientset.Client has them)."""

    async def create_token_review(
        self, review: authentication_pb2.TokenReview
    ) -> authentication_pb2.TokenReview: ...

    async def create_subject_access_review(
        self, review: authorization_pb2.SubjectAccessReview
    ) -> authorization_pb2.SubjectAccessReview: ...


class WebhookAuth:
    def __init__(
        self, reviews: Reviews, node_name: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.reviews = reviews
        self.node_name = node_name
        self.clock = clock
        self._tokens: dict[str, tuple[float, User | None]] = {}
        self._decisions: dict[tuple[User, str, str], tuple[float, bool]] = {}

    async def authenticate(self, subject: str | None, authorization: str) -> User | None:
        """The certificate's user, else the bearer token's; None: anonymous. Raises what the
        TokenReview raised."""
        user = certificate_user(subject)
        if user is not None:
            return user
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await self._token_user(token.strip())

    async def _token_user(self, token: str) -> User | None:
        cached = self._tokens.get(token)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        review = await self.reviews.create_token_review(
            authentication_pb2.TokenReview(spec=authentication_pb2.TokenReviewSpec(token=token))
        )
        user = None
        if review.status.authenticated:
            info = review.status.user
            groups = list(info.groups)
            if AUTHENTICATED_GROUP not in groups:
                groups.append(AUTHENTICATED_GROUP)
            user = User(info.username, tuple(groups), info.uid)
        ttl = TOKEN_TTL if user is not None else UNKNOWN_TOKEN_TTL
        self._tokens[token] = (self.clock() + ttl, user)
        return user

    async def authorize(self, user: User, verb: str, subresource: str) -> bool:
        """Whether the user may `verb` nodes/<subresource> of this node; raises what the
        SubjectAccessReview raised."""
        key = (user, verb, subresource)
        cached = self._decisions.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        review = await self.reviews.create_subject_access_review(
            authorization_pb2.SubjectAccessReview(
                spec=authorization_pb2.SubjectAccessReviewSpec(
                    user=user.name,
                    groups=list(user.groups),
                    uid=user.uid,
                    resource_attributes=authorization_pb2.ResourceAttributes(
                        verb=verb,
                        version="v1",
                        resource="nodes",
                        subresource=subresource,
                        name=self.node_name,
                    ),
                )
            )
        )
        allowed = review.status.allowed
        self._decisions[key] = (
            self.clock() + (AUTHORIZED_TTL if allowed else UNAUTHORIZED_TTL),
            allowed,
        )
        return allowed
