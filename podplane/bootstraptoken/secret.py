"""What a bootstrap token Secret says (k8s.io/cluster-bootstrap/util/secrets and util/tokens):
the token in a bearer header, a data key's value, the time left before the expiration and the
extra groups, each checked as Kubernetes checks them."""

from __future__ import annotations

import re
from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.bootstraptoken import api

# Go's time.Parse(time.RFC3339, ...): a full date and time, optional fractional seconds, and a
# zone (Z or +hh:mm); nothing shorter, as datetime.fromisoformat would take.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


class InvalidGroup(ValueError):
    """An auth-extra-groups entry that is not a system:bootstrappers: group."""


def parse_token(token: str) -> tuple[str, str] | None:
    """The (token id, token secret) of `<id>.<secret>`, else None: not a bootstrap token."""
    match = api.TOKEN_RE.match(token)
    return (match.group(1), match.group(2)) if match else None


def data(secret: core_pb2.Secret, key: str) -> str:
    """A data key's value as text, "" when absent (GetData)."""
    value = secret.data.get(key)
    return value.decode("utf-8", "replace") if value is not None else ""


def parse_rfc3339(value: str) -> datetime | None:
    """A timestamp in RFC 3339's full form, else None."""
    if not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_rfc3339(when: datetime) -> str:
    """Go's Format(time.RFC3339): whole seconds, Z for UTC, else the time's own offset."""
    offset = when.utcoffset()
    if not offset:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def expiration(secret: core_pb2.Secret, now: datetime) -> tuple[float, bool]:
    """(seconds left, expired) of the Secret's `expiration` (GetExpiration): none never expires
    (0, False); one that cannot be parsed counts as expired, as one in the past."""
    text = data(secret, api.EXPIRATION_KEY)
    if not text:
        return 0.0, False
    when = parse_rfc3339(text)
    if when is None:
        return 0.0, True
    left = (when - now).total_seconds()
    return (0.0, True) if left <= 0 else (left, False)


def validate_group(group: str) -> None:
    """ValidateBootstrapGroupName: raises InvalidGroup with Kubernetes' message."""
    if not api.GROUP_RE.match(group):
        raise InvalidGroup(
            f'bootstrap group "{group}" is invalid (must match {api.GROUP_PATTERN_SHOWN})'
        )


def groups(secret: core_pb2.Secret) -> list[str]:
    """system:bootstrappers and the auth-extra-groups, sorted and without duplicates
    (GetGroups); an extra group of another form raises InvalidGroup."""
    found = {api.DEFAULT_GROUP}
    extra = data(secret, api.EXTRA_GROUPS_KEY)
    if extra:
        for group in extra.split(","):
            validate_group(group)
            found.add(group)
    return sorted(found)


def usages(secret: core_pb2.Secret) -> list[str]:
    """The usages set to "true" (usage-bootstrap-<usage>), sorted."""
    return sorted(
        key.removeprefix(api.USAGE_PREFIX)
        for key, value in secret.data.items()
        if key.startswith(api.USAGE_PREFIX) and value == b"true"
    )
