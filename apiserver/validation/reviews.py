"""The access reviews' rules (k8s.io/kubernetes/pkg/apis/authorization/validation): exactly one of
resource and non-resource attributes; a SubjectAccessReview names a user or a group; a review's
metadata is empty (a LocalSubjectAccessReview's but for its namespace, which its resource
attributes repeat)."""

from __future__ import annotations

from typing import Protocol

from apiserver.validation.fields import FieldError, invalid
from podplane.api.authorization.v1 import authorization_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec


class _GoValue:
    """A value as Go's %#v shows a struct in a field error (no quotes around it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class _AttributesSpec(Protocol):
    """What the self and subject reviews' specs share."""

    @property
    def resource_attributes(self) -> authorization_pb2.ResourceAttributes: ...

    @property
    def non_resource_attributes(self) -> authorization_pb2.NonResourceAttributes: ...

    def HasField(self, name: str) -> bool: ...


def _non_resource(attrs: authorization_pb2.NonResourceAttributes) -> _GoValue:
    return _GoValue(
        f'authorization.NonResourceAttributes{{Path:"{attrs.path}", Verb:"{attrs.verb}"}}'
    )


def _one_of_attributes(spec: _AttributesSpec) -> list[FieldError]:
    resource = spec.HasField("resource_attributes")
    non_resource = spec.HasField("non_resource_attributes")
    if resource and non_resource:
        return [
            invalid(
                "spec.nonResourceAttributes",
                _non_resource(spec.non_resource_attributes),
                "cannot be specified in combination with resourceAttributes",
            )
        ]
    if not resource and not non_resource:
        return [
            invalid(
                "spec.resourceAttributes",
                "null",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )
        ]
    return []


def _empty_metadata(meta: meta_pb2.ObjectMeta, detail: str) -> list[FieldError]:
    if not meta.ByteSize():
        return []
    return [invalid("metadata", _GoValue(str(codec.encode(meta))), detail)]


def self_subject_access_review(
    review: authorization_pb2.SelfSubjectAccessReview,
) -> list[FieldError]:
    return _one_of_attributes(review.spec) + _empty_metadata(review.metadata, "must be empty")


def _subject(spec: authorization_pb2.SubjectAccessReviewSpec) -> list[FieldError]:
    errs = _one_of_attributes(spec)
    if not spec.user and not spec.groups:
        errs.append(invalid("spec.user", "", "at least one of user or group must be specified"))
    return errs


def subject_access_review(review: authorization_pb2.SubjectAccessReview) -> list[FieldError]:
    return _subject(review.spec) + _empty_metadata(review.metadata, "must be empty")


def local_subject_access_review(
    review: authorization_pb2.LocalSubjectAccessReview,
) -> list[FieldError]:
    errs = _subject(review.spec)
    meta = meta_pb2.ObjectMeta()
    meta.CopyFrom(review.metadata)
    meta.namespace = ""
    errs += _empty_metadata(meta, "must be empty except for namespace")
    spec = review.spec
    if (
        spec.HasField("resource_attributes")
        and spec.resource_attributes.namespace != review.metadata.namespace
    ):
        errs.append(
            invalid(
                "spec.resourceAttributes.namespace",
                spec.resource_attributes.namespace,
                "must match metadata.namespace",
            )
        )
    if spec.HasField("non_resource_attributes"):
        errs.append(
            invalid(
                "spec.nonResourceAttributes",
                _non_resource(spec.non_resource_attributes),
                "disallowed on this kind of request",
            )
        )
    return errs
