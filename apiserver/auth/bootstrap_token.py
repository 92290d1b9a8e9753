"""The bootstrap token authenticator (plugin/pkg/auth/authenticator/token/bootstrap): a bearer
token `<id>.<secret>` is the user system:bootstrap:<id> when kube-system holds the Secret
bootstrap-token-<id> of type bootstrap.kubernetes.io/token whose token-id and token-secret match
it, that is marked usage-bootstrap-authentication: "true", not expired and not being deleted. Its
groups are system:bootstrappers and the Secret's auth-extra-groups. The Secret is read as the
service account tokens' objects are: the apiserver's watch cache, else storage (Kubernetes reads
only its informer's lister, so a Secret created a moment ago may not vouch for its token yet).

Every failure is the caller's 401: `authenticate` answers None, and logs why."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apiserver import errors
from apiserver.auth.user import UserInfo
from podplane.api.core.v1 import core_pb2
from podplane.bootstraptoken import api
from podplane.bootstraptoken import secret as token_secret

log = logging.getLogger(__name__)

SecretLookup = Callable[[str, str], Awaitable[core_pb2.Secret | None]]


def _now() -> datetime:
    return datetime.now(UTC)


class _Refused(ValueError):
    """Why a bootstrap token's Secret does not vouch for it (logged, never told the caller)."""


class BootstrapTokenAuthenticator:
    def __init__(self, secrets: SecretLookup, clock: Callable[[], datetime] = _now) -> None:
        self.secrets = secrets
        self.clock = clock

    async def authenticate(self, token: str) -> UserInfo | None:
        parsed = token_secret.parse_token(token)
        if parsed is None:
            return None  # not a bootstrap token: another authenticator's, or nobody's
        token_id, secret_value = parsed
        name = api.secret_name(token_id)
        try:
            secret = await self.secrets(api.SECRET_NAMESPACE, name)
        except errors.APIError as e:
            log.info("could not retrieve bootstrap secret %s: %s", name, e.message)
            return None
        if secret is None:
            log.info("no secret of name %s to match bootstrap bearer token", name)
            return None
        try:
            groups = self._check(secret, token_id, secret_value)
        except _Refused as e:
            log.info("bootstrap secret %s/%s %s", api.SECRET_NAMESPACE, name, e)
            return None
        return UserInfo(api.USER_PREFIX + token_id, frozenset(groups))

    def _check(self, secret: core_pb2.Secret, token_id: str, secret_value: str) -> list[str]:
        """The token's groups once the Secret vouches for it, in Kubernetes' order of checks."""
        if secret.metadata.deletion_timestamp:
            raise _Refused("is deleted and awaiting removal")
        if secret.type != api.SECRET_TYPE or not secret.data:
            raise _Refused(f"has invalid type, expected {api.SECRET_TYPE}.")
        stored = token_secret.data(secret, api.TOKEN_SECRET_KEY)
        if not hmac.compare_digest(stored.encode(), secret_value.encode()):
            raise _Refused(f"has invalid value for key {api.TOKEN_SECRET_KEY}.")
        if token_secret.data(secret, api.TOKEN_ID_KEY) != token_id:
            raise _Refused(f"has invalid value for key {api.TOKEN_ID_KEY}.")
        if token_secret.expiration(secret, self.clock())[1]:
            raise _Refused("has expired")
        if token_secret.data(secret, api.USAGE_AUTHENTICATION_KEY) != "true":
            raise _Refused(f"not marked {api.USAGE_AUTHENTICATION_KEY}=true.")
        try:
            return token_secret.groups(secret)
        except token_secret.InvalidGroup as e:
            raise _Refused(f"has invalid value for key {api.EXTRA_GROUPS_KEY}: {e}.") from None
