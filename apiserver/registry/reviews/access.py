"""SelfSubjectAccessReview, SubjectAccessReview and LocalSubjectAccessReview
(pkg/registry/authorization/*): may this user do this? The authorizer that decides every request
answers, for the caller itself, for any user and groups, or for any of them in one namespace."""

from __future__ import annotations

from apiserver import errors
from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.node_authorizer import Decision
from apiserver.auth.user import UserInfo, current_user
from apiserver.validation import reviews as validation
from apiserver.validation.fields import FieldError, invalid_error
from podplane.api.authorization.v1 import authorization_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import CreateOnlyResource

GROUP = "authorization.k8s.io"


def requester() -> UserInfo:
    """The user the request runs as (after impersonation)."""
    user = current_user()
    if user is None:
        raise errors.bad_request("no user present on request")
    return user


def decide(
    authorizer: Authorizer,
    user: UserInfo,
    resource: authorization_pb2.ResourceAttributes | None,
    non_resource: authorization_pb2.NonResourceAttributes | None,
) -> authorization_pb2.SubjectAccessReviewStatus:
    """The authorizer's answer for the user, for the resource attributes
    (authorizationutil.ResourceAttributesFrom) or the non-resource ones."""
    if resource is not None:
        decision = authorizer.authorize(
            Attributes(
                user,
                resource.verb,
                resource.resource,
                resource.subresource,
                resource.namespace,
                resource.name,
                resource.group,
            )
        )
    else:
        assert non_resource is not None
        allowed = authorizer.authorize_non_resource(user, non_resource.verb, non_resource.path)
        decision = Decision(allowed)
    return authorization_pb2.SubjectAccessReviewStatus(
        allowed=decision.allowed, reason=decision.reason
    )


def _check(kind: CreateOnlyResource, errs: list[FieldError]) -> None:
    if errs:
        raise invalid_error(kind.kind, "", errs, GROUP)


def _attributes(
    spec: authorization_pb2.SelfSubjectAccessReviewSpec | authorization_pb2.SubjectAccessReviewSpec,
) -> tuple[
    authorization_pb2.ResourceAttributes | None, authorization_pb2.NonResourceAttributes | None
]:
    if spec.HasField("resource_attributes"):
        return spec.resource_attributes, None
    return None, spec.non_resource_attributes


def subject(spec: authorization_pb2.SubjectAccessReviewSpec) -> UserInfo:
    """The user a SubjectAccessReview asks about: only what the spec says (no group is added)."""
    return UserInfo(
        spec.user,
        frozenset(spec.groups),
        spec.uid,
        tuple((k, tuple(v.items)) for k, v in sorted(spec.extra.items())),
    )


class SelfSubjectAccessReviews:
    resource = resources.SELF_SUBJECT_ACCESS_REVIEW

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def create(
        self, obj: authorization_pb2.SelfSubjectAccessReview
    ) -> authorization_pb2.SelfSubjectAccessReview:
        _check(self.resource, validation.self_subject_access_review(obj))
        user = requester()
        obj.status.CopyFrom(decide(self.authorizer, user, *_attributes(obj.spec)))
        return obj


class SubjectAccessReviews:
    resource = resources.SUBJECT_ACCESS_REVIEW

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def create(
        self, obj: authorization_pb2.SubjectAccessReview
    ) -> authorization_pb2.SubjectAccessReview:
        _check(self.resource, validation.subject_access_review(obj))
        obj.status.CopyFrom(decide(self.authorizer, subject(obj.spec), *_attributes(obj.spec)))
        return obj


class LocalSubjectAccessReviews:
    resource = resources.LOCAL_SUBJECT_ACCESS_REVIEW

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def create(
        self, obj: authorization_pb2.LocalSubjectAccessReview
    ) -> authorization_pb2.LocalSubjectAccessReview:
        namespace = obj.metadata.namespace
        if not namespace:
            raise errors.bad_request(f"namespace is required on this type: {namespace}")
        _check(self.resource, validation.local_subject_access_review(obj))
        obj.status.CopyFrom(decide(self.authorizer, subject(obj.spec), *_attributes(obj.spec)))
        return obj
