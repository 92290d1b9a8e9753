"""The create-only kinds: the access reviews answered by the authorizer (for the caller, for any
user and groups, in one namespace), SelfSubjectReview and TokenReview answered by the
authenticator, their validation in Kubernetes' words, and how they are routed, listed in
discovery, described in OpenAPI and read from kubectl's protobuf bodies."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from apiserver import errors
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.token_file import TokenAuthenticator
from apiserver.auth.user import MASTERS_GROUP, UserInfo, reset_current_user, set_current_user
from apiserver.endpoints.rest import discovery
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from apiserver.endpoints.rest.request import ResourceRequest, parse
from apiserver.registry.reviews import create_only_apis
from apiserver.registry.served import ServedResources
from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2 as authz
from podplane.api.k8swire.authorization.v1 import authorization_pb2 as wire
from podplane.api.k8swire.meta.v1 import meta_pb2 as wire_meta
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.openapi import v3_document

VIEWER = UserInfo("viewer", frozenset({"viewers", "system:authenticated"}))
ADMIN = UserInfo("admin", frozenset({MASTERS_GROUP, "system:authenticated"}), "u-1")
TOKENS = {"s3cret": UserInfo("jane", frozenset({"devs"}))}
APIS = create_only_apis(Authorizer(lambda namespace: []), Authenticator(TokenAuthenticator(TOKENS)))


@pytest.fixture
def as_viewer() -> Iterator[None]:
    token = set_current_user(VIEWER)
    yield
    reset_current_user(token)


def resource(verb: str, plural: str, namespace: str = "", **kw: str) -> authz.ResourceAttributes:
    attributes = authz.ResourceAttributes(verb=verb, resource=plural, namespace=namespace)
    for name, value in kw.items():
        setattr(attributes, name, value)
    return attributes


def ssar(**spec: object) -> authz.SelfSubjectAccessReview:
    return authz.SelfSubjectAccessReview(spec=authz.SelfSubjectAccessReviewSpec(**spec))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "attrs, allowed",
    [
        (resource("list", "pods", "default"), True),
        (resource("get", "pods", subresource="log"), True),
        (resource("get", "secrets", "default"), False),
        (resource("delete", "pods", "default", name="web"), False),
        (resource("create", "selfsubjectaccessreviews", group="authorization.k8s.io"), True),
    ],
)
async def test_self_review_answers_for_the_caller(
    as_viewer: None, attrs: authz.ResourceAttributes, allowed: bool
) -> None:
    answered = await APIS["selfsubjectaccessreviews"].create(ssar(resource_attributes=attrs))
    assert answered.status.allowed is allowed
    assert answered.spec.resource_attributes == attrs  # the question comes back with it


async def test_self_review_of_a_path(as_viewer: None) -> None:
    for path, verb, allowed in [("/api", "get", True), ("/api", "post", False)]:
        attrs = authz.NonResourceAttributes(path=path, verb=verb)
        answered = await APIS["selfsubjectaccessreviews"].create(
            ssar(non_resource_attributes=attrs)
        )
        assert answered.status.allowed is allowed, (path, verb)


@pytest.mark.parametrize(
    "review, message",
    [
        (
            ssar(),
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
            'spec.resourceAttributes: Invalid value: "null": exactly one of '
            "nonResourceAttributes or resourceAttributes must be specified",
        ),
        (
            ssar(
                resource_attributes=resource("get", "pods"),
                non_resource_attributes=authz.NonResourceAttributes(path="/api", verb="get"),
            ),
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
            "spec.nonResourceAttributes: Invalid value: "
            'authorization.NonResourceAttributes{Path:"/api", Verb:"get"}: cannot be specified '
            "in combination with resourceAttributes",
        ),
    ],
)
async def test_self_review_validation(
    as_viewer: None, review: authz.SelfSubjectAccessReview, message: str
) -> None:
    with pytest.raises(errors.APIError) as refused:
        await APIS["selfsubjectaccessreviews"].create(review)
    assert refused.value.reason == "Invalid"
    assert refused.value.message == message


async def test_a_review_needs_a_user_on_the_request() -> None:
    with pytest.raises(errors.APIError) as refused:
        await APIS["selfsubjectaccessreviews"].create(
            ssar(resource_attributes=resource("get", "pods"))
        )
    assert (refused.value.code, refused.value.message) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "no user present on request",
    )


async def test_subject_review_asks_about_the_user_and_groups_given() -> None:
    def sar(user: str, *groups: str) -> authz.SubjectAccessReview:
        return authz.SubjectAccessReview(
            spec=authz.SubjectAccessReviewSpec(
                user=user, groups=groups, resource_attributes=resource("list", "pods", "x")
            )
        )

    # The user alone is in no group: the viewers' rights are not its own.
    assert not (await APIS["subjectaccessreviews"].create(sar("viewer"))).status.allowed
    assert (await APIS["subjectaccessreviews"].create(sar("viewer", "viewers"))).status.allowed
    assert (await APIS["subjectaccessreviews"].create(sar("", MASTERS_GROUP))).status.allowed
    with pytest.raises(errors.APIError) as refused:
        await APIS["subjectaccessreviews"].create(sar(""))
    assert refused.value.message == (
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": '
        "at least one of user or group must be specified"
    )


def lsar(namespace: str, attrs_namespace: str) -> authz.LocalSubjectAccessReview:
    return authz.LocalSubjectAccessReview(
        metadata=meta_pb2.ObjectMeta(namespace=namespace),
        spec=authz.SubjectAccessReviewSpec(
            user="viewer",
            groups=["viewers"],
            resource_attributes=resource("get", "pods", attrs_namespace),
        ),
    )


async def test_local_review_is_about_its_own_namespace() -> None:
    assert (await APIS["localsubjectaccessreviews"].create(lsar("x", "x"))).status.allowed
    with pytest.raises(errors.APIError) as refused:
        await APIS["localsubjectaccessreviews"].create(lsar("x", "y"))
    assert refused.value.message == (
        'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: '
        'spec.resourceAttributes.namespace: Invalid value: "y": must match metadata.namespace'
    )
    with pytest.raises(errors.APIError) as refused:
        await APIS["localsubjectaccessreviews"].create(lsar("", ""))
    assert refused.value.message == "namespace is required on this type: "
    paths = lsar("x", "x")
    paths.spec.ClearField("resource_attributes")
    paths.spec.non_resource_attributes.path, paths.spec.non_resource_attributes.verb = "/", "get"
    with pytest.raises(errors.APIError) as refused:
        await APIS["localsubjectaccessreviews"].create(paths)
    assert "spec.nonResourceAttributes: Invalid value: " in refused.value.message
    assert refused.value.message.endswith("disallowed on this kind of request")


async def test_self_subject_review_is_the_user_the_request_runs_as() -> None:
    impersonated = UserInfo(
        "jane", frozenset({"system:authenticated", "devs"}), "42", (("scopes", ("a", "b")),)
    )
    token = set_current_user(impersonated)
    try:
        answered = await APIS["selfsubjectreviews"].create(authentication_pb2.SelfSubjectReview())
    finally:
        reset_current_user(token)
    assert codec.encode(answered)["status"] == {
        "userInfo": {
            "username": "jane",
            "uid": "42",
            "groups": ["devs", "system:authenticated"],
            "extra": {"scopes": ["a", "b"]},
        }
    }


async def test_token_review_asks_the_authenticator() -> None:
    def review(token: str) -> authentication_pb2.TokenReview:
        return authentication_pb2.TokenReview(
            spec=authentication_pb2.TokenReviewSpec(token=token, audiences=["api"])
        )

    known = await APIS["tokenreviews"].create(review("s3cret"))
    assert known.status.authenticated
    assert known.status.user.username == "jane"
    assert list(known.status.user.groups) == ["devs", "system:authenticated"]
    assert list(known.status.audiences) == ["api"]
    unknown = await APIS["tokenreviews"].create(review("guess"))
    assert not unknown.status.authenticated and not unknown.status.user.username
    with pytest.raises(errors.APIError) as refused:
        await APIS["tokenreviews"].create(review(""))
    assert refused.value.message == "token is required for TokenReview in authentication"


def test_extra_is_a_map_of_string_lists_in_json() -> None:
    decoded, unknown = codec.decode(
        authz.SubjectAccessReviewSpec, {"user": "u", "extra": {"scopes": ["a", "b"], "x": None}}
    )
    assert unknown == [] and list(decoded.extra["scopes"].items) == ["a", "b"]
    assert codec.encode(decoded)["extra"] == {"scopes": ["a", "b"], "x": []}
    for bad, path in [({"scopes": "a"}, "extra[scopes]"), ({"scopes": [1]}, "extra[scopes][0]")]:
        with pytest.raises(codec.DecodeError) as failed:
            codec.decode(authz.SubjectAccessReviewSpec, {"extra": bad})
        assert failed.value.path == path


def test_kubectl_can_i_protobuf_body_reads_as_its_json() -> None:
    review = wire.SubjectAccessReview(
        metadata=wire_meta.ObjectMeta(creationTimestamp=wire_meta.Time()),
        spec=wire.SubjectAccessReviewSpec(
            resourceAttributes=wire.ResourceAttributes(verb="get", resource="pods", namespace="x"),
            user="jane",
            extra={"scopes": wire.ExtraValue(items=["a"])},
        ),
        status=wire.SubjectAccessReviewStatus(),
    )
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(
            apiVersion="authorization.k8s.io/v1", kind="SubjectAccessReview"
        ),
        raw=review.SerializeToString(),
    )
    assert decode(MAGIC + envelope.SerializeToString()) == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {"creationTimestamp": None},
        "spec": {
            "resourceAttributes": {"namespace": "x", "verb": "get", "resource": "pods"},
            "user": "jane",
            "extra": {"scopes": ["a"]},
        },
        "status": {},
    }


@pytest.mark.parametrize(
    "method, path, create_only",
    [
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", True),
        ("POST", "/apis/authorization.k8s.io/v1/namespaces/x/localsubjectaccessreviews", True),
        ("POST", "/apis/authentication.k8s.io/v1/tokenreviews", True),
        # A namespaced kind only in a namespace, a cluster-scoped one never; no object paths.
        ("POST", "/apis/authorization.k8s.io/v1/localsubjectaccessreviews", False),
        ("POST", "/apis/authorization.k8s.io/v1/namespaces/x/selfsubjectaccessreviews", False),
        ("GET", "/apis/authentication.k8s.io/v1/selfsubjectreviews/me", False),
    ],
)
def test_routing(method: str, path: str, create_only: bool) -> None:
    req = parse(method, path, {})
    assert isinstance(req, ResourceRequest)
    assert (req.create_only is not None) is create_only
    assert req.resource is None


def test_discovery_lists_the_groups_with_create_only() -> None:
    served = ServedResources({})
    groups = {g["name"] for g in discovery.api_group_list(served)["groups"]}
    assert {"authorization.k8s.io", "authentication.k8s.io"} <= groups
    listed = discovery.api_resource_list(served, "authorization.k8s.io", "v1")
    assert listed is not None
    assert listed["resources"] == [
        {
            "name": plural,
            "singularName": plural[:-1],
            "namespaced": plural.startswith("local"),
            "kind": kind,
            "verbs": ["create"],
        }
        for plural, kind in [
            ("localsubjectaccessreviews", "LocalSubjectAccessReview"),
            ("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            ("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
            ("subjectaccessreviews", "SubjectAccessReview"),
        ]
    ]


def test_openapi_describes_the_review_and_its_one_operation() -> None:
    doc = v3_document("authorization.k8s.io", "v1")
    assert doc is not None
    paths = doc["paths"]
    assert isinstance(paths, dict)
    ssar_path = paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]
    assert isinstance(ssar_path, dict) and list(ssar_path) == ["post"]
    schemas = doc["components"]["schemas"]
    review = schemas["io.k8s.api.authorization.v1.SelfSubjectAccessReview"]
    assert review["x-kubernetes-group-version-kind"] == [
        {"group": "authorization.k8s.io", "version": "v1", "kind": "SelfSubjectAccessReview"}
    ]
    extra = schemas["io.k8s.api.authorization.v1.SubjectAccessReviewSpec"]["properties"]["extra"]
    assert extra["additionalProperties"]["type"] == "array"
