"""Bootstrap tokens as kubeadm makes and lists them (cmd/kubeadm/app/apis/bootstraptoken/v1):
a new random token, the Secret that holds it (BootstrapTokenToSecret) and the token read back
from its Secret (BootstrapTokenFromSecret), with kubeadm's checks and messages."""

from __future__ import annotations

import json
import secrets as random
from dataclasses import dataclass
from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.bootstraptoken import api
from podplane.bootstraptoken import secret as token_secret

_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
DEFAULT_TTL = timedelta(hours=24)
DEFAULT_USAGES = ("signing", "authentication")
DEFAULT_GROUPS = (api.KUBEADM_NODE_GROUP,)


class InvalidToken(ValueError):
    """A token, usage, group or Secret kubeadm refuses, with its message."""


@dataclass(frozen=True)
class BootstrapToken:
    token_id: str
    token_secret: str
    description: str = ""
    expires: datetime | None = None
    usages: tuple[str, ...] = DEFAULT_USAGES
    groups: tuple[str, ...] = DEFAULT_GROUPS

    def __str__(self) -> str:
        return f"{self.token_id}.{self.token_secret}"


def generate() -> str:
    """A new token `<6 chars>.<16 chars>` of [a-z0-9] from the system's secure random source."""
    return _random(6) + "." + _random(16)


def _random(length: int) -> str:
    return "".join(random.choice(_CHARS) for _ in range(length))


def new_token(
    token: str,
    *,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
    description: str = "",
    usages: tuple[str, ...] = DEFAULT_USAGES,
    groups: tuple[str, ...] = DEFAULT_GROUPS,
) -> BootstrapToken:
    """kubeadm token create's token: a ttl of 0 never expires; usages and groups checked."""
    parsed = token_secret.parse_token(token)
    if parsed is None:
        # Go's %q of both.
        raise InvalidToken(
            f"the bootstrap token {json.dumps(token)} was not of the form "
            f"{json.dumps(api.TOKEN_PATTERN_SHOWN)}"
        )
    bad = sorted({u for u in usages if u not in api.KNOWN_USAGES})
    if bad:
        raise InvalidToken(
            f"invalid bootstrap token usage string: {','.join(bad)}, "
            f"valid usage options: {','.join(api.KNOWN_USAGES)}"
        )
    if groups and "authentication" not in usages:
        raise InvalidToken(
            'token groups cannot be specified unless --usages includes "authentication"'
        )
    for group in groups:
        try:
            token_secret.validate_group(group)
        except token_secret.InvalidGroup as e:
            raise InvalidToken(str(e)) from None
    expires = now + ttl if ttl > timedelta(0) else None
    return BootstrapToken(parsed[0], parsed[1], description, expires, tuple(usages), tuple(groups))


def to_secret(token: BootstrapToken) -> core_pb2.Secret:
    """The kube-system Secret bootstrap-token-<id> that holds the token."""
    data = {api.TOKEN_ID_KEY: token.token_id, api.TOKEN_SECRET_KEY: token.token_secret}
    if token.description:
        data[api.DESCRIPTION_KEY] = token.description
    if token.expires is not None:
        data[api.EXPIRATION_KEY] = token_secret.format_rfc3339(token.expires)
    for usage in token.usages:
        data[api.USAGE_PREFIX + usage] = "true"
    if token.groups:
        data[api.EXTRA_GROUPS_KEY] = ",".join(token.groups)
    return core_pb2.Secret(
        api_version="v1",
        kind="Secret",
        metadata=meta_pb2.ObjectMeta(
            name=api.secret_name(token.token_id), namespace=api.SECRET_NAMESPACE
        ),
        type=api.SECRET_TYPE,
        data={k: v.encode() for k, v in data.items()},
    )


def from_secret(secret: core_pb2.Secret) -> BootstrapToken:
    """The token a Secret holds; InvalidToken with kubeadm's reason when it holds none."""
    name = secret.metadata.name
    token_id = token_secret.data(secret, api.TOKEN_ID_KEY)
    if not token_id:
        raise InvalidToken(f"bootstrap Token Secret has no token-id data: {name}")
    if name != api.secret_name(token_id):
        raise InvalidToken(
            f"bootstrap token name is not of the form '{api.SECRET_PREFIX}(token-id)'. "
            f"Actual: {name!r}. Expected: {api.secret_name(token_id)!r}"
        )
    value = token_secret.data(secret, api.TOKEN_SECRET_KEY)
    if token_secret.parse_token(f"{token_id}.{value}") is None:
        raise InvalidToken(
            f"bootstrap Token Secret has invalid token-id or token-secret data: {name}"
        )
    expires = None
    text = token_secret.data(secret, api.EXPIRATION_KEY)
    if text:
        expires = token_secret.parse_rfc3339(text)
        if expires is None:
            raise InvalidToken(f"can't parse expiration time of bootstrap token {name!r}")
    extra = token_secret.data(secret, api.EXTRA_GROUPS_KEY)
    return BootstrapToken(
        token_id,
        value,
        token_secret.data(secret, api.DESCRIPTION_KEY),
        expires,
        tuple(token_secret.usages(secret)),
        tuple(extra.split(",")) if extra else (),
    )
