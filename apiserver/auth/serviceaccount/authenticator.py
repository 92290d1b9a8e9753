"""The service account token authenticator (pkg/serviceaccount/jwt.go and claims.go's
validator): a JWT of one of this server's issuers, signed by one of its keys, for one of its API
audiences, within its validity, naming a service account that still exists with the token's uid
and, for a bound token, a pod, secret or node that still exists with its uid. The objects are read
as Kubernetes' token getter reads them: from the apiserver's watch cache, else from storage when
the cache does not have them (an account created a moment ago), so a token issued for a new
account is good at once. The signature is checked once per token (a bounded cache of verified
tokens), the rest on every request, so a deleted account or pod invalidates its tokens as soon as
the cache sees it gone.

Every failure is the caller's 401: `authenticate` answers None, and logs why."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from apiserver import errors
from apiserver.auth.serviceaccount import claims as sa_claims
from apiserver.auth.serviceaccount import jwt
from apiserver.auth.serviceaccount.claims import InvalidClaims, PrivateClaims
from apiserver.auth.user import UserInfo
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.serviceaccount import make_group_names, make_username

log = logging.getLogger(__name__)
T = TypeVar("T")

# user.Info extra keys a bound token carries (pkg/serviceaccount/util.go).
POD_NAME_KEY = "authentication.kubernetes.io/pod-name"
POD_UID_KEY = "authentication.kubernetes.io/pod-uid"
NODE_NAME_KEY = "authentication.kubernetes.io/node-name"
NODE_UID_KEY = "authentication.kubernetes.io/node-uid"
CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id"
# Verified tokens remembered, so their signature is not checked again.
SIGNATURE_CACHE_SIZE = 4096


class InvalidToken(ValueError):
    """A service account token this server issued's kind that is not valid, and why."""


@dataclass(frozen=True)
class Lookups:
    """Reads of the apiserver's watch cache, else storage: (namespace, name) -> object or None."""

    service_account: Callable[[str, str], Awaitable[core_pb2.ServiceAccount | None]]
    pod: Callable[[str, str], Awaitable[core_pb2.Pod | None]]
    secret: Callable[[str, str], Awaitable[core_pb2.Secret | None]]
    node: Callable[[str, str], Awaitable[core_pb2.Node | None]]


@dataclass(frozen=True)
class _Verified:
    claims: JSONObject
    private: PrivateClaims


class ServiceAccountTokenAuthenticator:
    def __init__(
        self,
        issuers: Iterable[str],
        keys: list[rsa.RSAPublicKey],
        api_audiences: Iterable[str],
        lookups: Lookups,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = frozenset(issuers)
        self.keys = keys
        self.api_audiences = tuple(api_audiences)
        self.lookups = lookups
        self.clock = clock
        self._verified: collections.OrderedDict[str, _Verified] = collections.OrderedDict()

    async def authenticate(
        self, token: str, audiences: Iterable[str] | None = None
    ) -> UserInfo | None:
        """The token's service account user, or None: not a token of this server's issuers, or
        not valid (logged with the reason). `audiences`: the recipient's (default the API's)."""
        try:
            return await self.validate(token, audiences)
        except InvalidToken as e:
            log.info("service account token refused: %s", e)
            return None

    async def validate(self, token: str, audiences: Iterable[str] | None = None) -> UserInfo | None:
        """As authenticate, but an invalid token raises InvalidToken with Kubernetes' reason;
        None is a token that is not this server's to judge (not a JWT, another issuer)."""
        verified = self._verify(token)
        if verified is None:
            return None
        now = self.clock()
        try:
            sa_claims.check_times(verified.claims, now)
            wanted = tuple(self.api_audiences if audiences is None else audiences)
            token_audiences = sa_claims.audiences(verified.claims)
            if not set(token_audiences) & set(wanted):
                raise InvalidToken(
                    f"token audiences {token_audiences!r} is invalid for the target audiences "
                    f"{list(wanted)!r}"
                )
        except InvalidClaims as e:
            raise InvalidToken(str(e)) from None
        return await self._user(verified, now)

    def _verify(self, token: str) -> _Verified | None:
        """The token's claims once its signature and form are checked (remembered per token)."""
        cached = self._verified.get(token)
        if cached is not None:
            self._verified.move_to_end(token)
            return cached
        try:
            parsed = jwt.parse(token)
        except jwt.MalformedToken:
            return None  # not a JWT: another authenticator's, or nobody's
        if parsed.claims.get("iss") not in self.issuers:
            return None
        if not parsed.verify(self.keys):
            raise InvalidToken("invalid signature")
        try:
            verified = _Verified(parsed.claims, sa_claims.private_claims(parsed.claims))
        except InvalidClaims as e:
            raise InvalidToken(str(e)) from None
        self._verified[token] = verified
        if len(self._verified) > SIGNATURE_CACHE_SIZE:
            self._verified.popitem(last=False)
        return verified

    async def _user(self, verified: _Verified, now: float) -> UserInfo:
        """The user, once the account and the bound objects are found alive."""
        private, lookups = verified.private, self.lookups
        namespace, account = private.namespace, private.account
        found = await _read("service account", lookups.service_account, namespace, account.name)
        if found is None:
            raise InvalidToken(f"service account {namespace}/{account.name} has been deleted")
        if found.metadata.uid != account.uid:
            raise InvalidToken(
                f"service account UID ({found.metadata.uid}) does not match claim ({account.uid})"
            )
        if found.metadata.deletion_timestamp and _deleted_before(
            found.metadata.deletion_timestamp, now
        ):
            raise InvalidToken(f"service account {namespace}/{account.name} is being deleted")
        extra: dict[str, tuple[str, ...]] = {}
        bound = private.bound
        if bound.secret is not None:
            secret = await _read("secret", lookups.secret, namespace, bound.secret.name)
            self._alive("secret", secret, bound.secret, now, namespace)
        if bound.pod is not None:
            pod = await _read("pod", lookups.pod, namespace, bound.pod.name)
            self._alive("pod", pod, bound.pod, now, namespace)
            extra[POD_NAME_KEY] = (bound.pod.name,)
            extra[POD_UID_KEY] = (bound.pod.uid,)
        if bound.node is not None:
            if bound.pod is None:  # a pod-bound token's node is informative only
                node = await _read("node", lookups.node, "", bound.node.name)
                self._alive("node", node, bound.node, now)
            extra[NODE_NAME_KEY] = (bound.node.name,)
            if bound.node.uid:
                extra[NODE_UID_KEY] = (bound.node.uid,)
        jti = verified.claims.get("jti")
        if isinstance(jti, str) and jti:
            extra[CREDENTIAL_ID_KEY] = (f"JTI={jti}",)
        return UserInfo(
            make_username(namespace, account.name),
            frozenset(make_group_names(namespace)),
            uid=account.uid,
            extra=tuple(sorted(extra.items())),
        )

    @staticmethod
    def _alive(
        what: str,
        obj: core_pb2.Pod | core_pb2.Secret | core_pb2.Node | None,
        ref: sa_claims.Ref,
        now: float,
        namespace: str = "",
    ) -> None:
        shown = f"{namespace}/{ref.name}" if namespace else ref.name
        if obj is None:
            raise InvalidToken(f"{what} {shown} has been deleted")
        if obj.metadata.uid != ref.uid:
            raise InvalidToken(f"{what} UID ({obj.metadata.uid}) does not match claim ({ref.uid})")
        if obj.metadata.deletion_timestamp and _deleted_before(
            obj.metadata.deletion_timestamp, now
        ):
            raise InvalidToken(f"{what} {shown} is being deleted")


async def _read(
    what: str, lookup: Callable[[str, str], Awaitable[T | None]], namespace: str, name: str
) -> T | None:
    """The object as the lookup finds it; a failed read (storage unreachable) is the token's
    401, as Kubernetes' validator returns the getter's error."""
    try:
        return await lookup(namespace, name)
    except errors.APIError as e:
        shown = f"{namespace}/{name}" if namespace else name
        raise InvalidToken(f"could not retrieve {what} {shown}: {e.message}") from None


def _deleted_before(deletion_timestamp: str, now: float) -> bool:
    """Kubernetes' invalidIfDeletedBefore: an object whose deletion was due more than the leeway
    ago no longer vouches for a token (a pod in its grace period still does)."""
    when = timeutil.parse(deletion_timestamp)
    return when is not None and when.timestamp() < now - sa_claims.LEEWAY_SECONDS
