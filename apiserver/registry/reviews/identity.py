"""SelfSubjectReview and TokenReview (pkg/registry/authentication/*): who is this? The user the
caller's request runs as, or the user a bearer token names to the authenticator that
authenticates every request."""

from __future__ import annotations

from apiserver import errors
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.user import (
    AUTHENTICATED_GROUP,
    UNAUTHENTICATED_GROUP,
    UserInfo,
    current_user,
)
from podplane.api.authentication.v1 import authentication_pb2
from podplane.apimachinery import resources

_ALL_USERS = frozenset({AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP})


def user_info(user: UserInfo) -> authentication_pb2.UserInfo:
    """The user as authentication/v1 writes one: its groups sorted, the all-users group last as
    Kubernetes' authenticators add it."""
    groups = sorted(user.groups, key=lambda g: (g in _ALL_USERS, g))
    out = authentication_pb2.UserInfo(username=user.name, uid=user.uid, groups=groups)
    for key, values in user.extra:
        out.extra[key].items.extend(values)
    return out


class SelfSubjectReviews:
    resource = resources.SELF_SUBJECT_REVIEW

    async def create(
        self, obj: authentication_pb2.SelfSubjectReview
    ) -> authentication_pb2.SelfSubjectReview:
        user = current_user()
        if user is None:
            raise errors.bad_request("no user present on request")
        obj.status.user_info.CopyFrom(user_info(user))
        return obj


class TokenReviews:
    """Without an authenticator (no authentication configured) the review is answered as sent,
    as Kubernetes does without a token authenticator."""

    resource = resources.TOKEN_REVIEW

    def __init__(self, authenticator: Authenticator | None) -> None:
        self.authenticator = authenticator

    async def create(self, obj: authentication_pb2.TokenReview) -> authentication_pb2.TokenReview:
        if obj.metadata.namespace:
            raise errors.bad_request(
                f"namespace is not allowed on this type: {obj.metadata.namespace}"
            )
        if not obj.spec.token:
            raise errors.bad_request("token is required for TokenReview in authentication")
        if self.authenticator is None:
            return obj
        user = await self.authenticator.authenticate(None, obj.spec.token)
        obj.status.authenticated = user is not None
        if user is not None:
            obj.status.user.CopyFrom(user_info(user))
            # The token file's tokens are meant for any audience: those asked for.
            obj.status.audiences.extend(obj.spec.audiences)
        return obj
