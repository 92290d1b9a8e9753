"""Acting as another user (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): a request's
Impersonate-User, Impersonate-Group (repeated), Impersonate-Uid and Impersonate-Extra-<key>
headers (the same keys, lower-case, as a gRPC call's metadata) name the user it runs as. The
caller must be allowed the `impersonate` verb on each thing named: the user (resource `users`,
or `serviceaccounts` in its namespace for system:serviceaccount:<ns>:<name>), each group
(`groups`), the uid (`uids.authentication.k8s.io`) and each extra value
(`userextras.authentication.k8s.io/<key>`). From then on the request is the impersonated user's:
flow control, authorization and admission see no one else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from apiserver import errors
from apiserver.auth.authorizer import Attributes, forbidden
from apiserver.auth.node_authorizer import Decision
from apiserver.auth.user import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    UNAUTHENTICATED_GROUP,
    UserInfo,
)
from podplane.apimachinery.serviceaccount import make_group_names, split_username

USER_HEADER = "impersonate-user"
GROUP_HEADER = "impersonate-group"
UID_HEADER = "impersonate-uid"
EXTRA_HEADER_PREFIX = "impersonate-extra-"

AUTHENTICATION_GROUP = "authentication.k8s.io"


@dataclass(frozen=True)
class Impersonation:
    """What a request asks to act as; extra is (key, value) pairs, one per value given."""

    user: str = ""
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.user or self.groups or self.uid or self.extra)


def requested(headers: Iterable[tuple[str, str]]) -> Impersonation:
    """The impersonation a request's headers (or a call's metadata) ask for; empty when none.
    Header names are matched case-insensitively; an extra's key is lower-cased and
    %-decoded, as Kubernetes reads it."""
    user, uid = "", ""
    groups: list[str] = []
    extra: list[tuple[str, str]] = []
    for name, value in headers:
        key = name.lower()
        if key == USER_HEADER:
            user = user or value
        elif key == GROUP_HEADER:
            groups.append(value)
        elif key == UID_HEADER:
            uid = uid or value
        elif key.startswith(EXTRA_HEADER_PREFIX):
            extra.append((unquote(key[len(EXTRA_HEADER_PREFIX) :]), value))
    return Impersonation(user, tuple(groups), uid, tuple(extra))


def _reference(kind: str, name: str, api_version: str = "", field_path: str = "") -> str:
    """An ObjectReference as Go's %v prints it (Kind Namespace Name UID APIVersion
    ResourceVersion FieldPath), for Kubernetes' own wording of the refusal below."""
    return "{" + " ".join((kind, "", name, "", api_version, "", field_path)) + "}"


def _without_user(wanted: Impersonation) -> errors.APIError:
    refs = [_reference("Group", g) for g in wanted.groups]
    refs += [_reference("UserExtra", v, "authentication.k8s.io/v1", k) for k, v in wanted.extra]
    if wanted.uid:
        refs.append(_reference("UID", wanted.uid, "authentication.k8s.io/v1"))
    return errors.bad_request(f"requested [{' '.join(refs)}] without impersonating a user")


def _checks(requester: UserInfo, wanted: Impersonation) -> list[Attributes]:
    """What the requester must be allowed, one `impersonate` per thing named, in Kubernetes'
    order (user, groups, extras, uid)."""
    checks = []
    sa = split_username(wanted.user)
    if sa is not None:
        namespace, name = sa
        checks.append(
            Attributes(requester, "impersonate", "serviceaccounts", "", namespace, name, "")
        )
    else:
        checks.append(Attributes(requester, "impersonate", "users", "", "", wanted.user, ""))
    for group in wanted.groups:
        checks.append(Attributes(requester, "impersonate", "groups", "", "", group, ""))
    for key, value in wanted.extra:
        checks.append(
            Attributes(requester, "impersonate", "userextras", key, "", value, AUTHENTICATION_GROUP)
        )
    if wanted.uid:
        checks.append(
            Attributes(requester, "impersonate", "uids", "", "", wanted.uid, AUTHENTICATION_GROUP)
        )
    return checks


def impersonate(
    requester: UserInfo, wanted: Impersonation, authorize: Callable[[Attributes], Decision]
) -> UserInfo:
    """The user the request runs as: `requester` itself when nothing is asked, else the one
    asked for once every part is allowed. Groups, a uid or extras without a user are a 400; a
    part the requester may not impersonate is Kubernetes' 403 naming it."""
    if not wanted:
        return requester
    if not wanted.user:
        raise _without_user(wanted)
    for attrs in _checks(requester, wanted):
        decision = authorize(attrs)
        if not decision.allowed:
            raise forbidden(attrs, decision.reason)
    groups = list(wanted.groups)
    sa = split_username(wanted.user)
    if sa is not None and not groups:
        # A service account's groups are fixed: they come with it unless groups are given.
        groups = list(make_group_names(sa[0]))
    if wanted.user != ANONYMOUS_USER:
        if AUTHENTICATED_GROUP not in groups and UNAUTHENTICATED_GROUP not in groups:
            groups.append(AUTHENTICATED_GROUP)
    elif UNAUTHENTICATED_GROUP not in groups:
        groups.append(UNAUTHENTICATED_GROUP)
    extra: dict[str, list[str]] = {}
    for key, value in wanted.extra:
        extra.setdefault(key, []).append(value)
    return UserInfo(
        wanted.user,
        frozenset(groups),
        wanted.uid,
        tuple((k, tuple(vs)) for k, vs in sorted(extra.items())),
    )
