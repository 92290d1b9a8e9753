"""Impersonation and the access and identity reviews on the real apiserver over real etcd, at both
doors: the real kubectl (--as, auth can-i, auth whoami, explain), the official Python client,
and gRPC calls carrying impersonate-* metadata, each caller authenticated for real (the admin's
client certificate, the viewer's bearer token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from podplane.api.authentication.v1 import authentication_pb2
from podplane.api.authorization.v1 import authorization_pb2 as authz
from podplane.api.core.v1 import services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.pki_support import token_credentials
from tests.support import EtcdProcess

SECRETS_FORBIDDEN = (
    'secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" at '
    "the cluster scope"
)


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("reviews")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def viewer_grpc(cluster: RestCluster) -> AsyncIterator[Client]:
    """The viewer, by its bearer token on the gRPC door's token port."""
    client = Client(
        f"127.0.0.1:{cluster.server.token_port}",
        timeout=10,
        credentials=token_credentials(cluster.pki, "viewer"),
    )
    yield client
    await client.close()


# ------------------------------------------------------------------ impersonation, REST door


async def test_kubectl_as_a_viewer_is_refused_what_the_viewer_may_not_do(
    cluster: RestCluster,
) -> None:
    ran = await cluster.kubectl("--as=viewer", "get", "secrets", "-A")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == f"Error from server (Forbidden): {SECRETS_FORBIDDEN}\n"
    # What the viewer may do, it does as the viewer.
    assert (await cluster.kubectl("--as=viewer", "--as-group=viewers", "get", "pods")).code == 0


async def test_impersonation_without_the_verb_is_refused(cluster: RestCluster) -> None:
    ran = await cluster.kubectl("--as=kubernetes-admin", "get", "secrets", context="viewer")
    assert ran.code == 1
    assert ran.err == (
        'Error from server (Forbidden): users "kubernetes-admin" is forbidden: User "viewer" '
        'cannot impersonate resource "users" in API group "" at the cluster scope\n'
    )
    sa = await cluster.kubectl(
        "--as=system:serviceaccount:x:y", "get", "pods", "-n", "x", context="viewer"
    )
    assert sa.err == (
        'Error from server (Forbidden): serviceaccounts "y" is forbidden: User "viewer" '
        'cannot impersonate resource "serviceaccounts" in API group "" in the namespace "x"\n'
    )


async def test_groups_without_a_user_are_a_bad_request(cluster: RestCluster) -> None:
    api = cluster.api_client()

    def request() -> tuple[int, Any]:
        api.default_headers["Impersonate-Group"] = "viewers"
        try:
            return raw_request(api, "GET", "/api/v1/namespaces/default/pods")
        finally:
            del api.default_headers["Impersonate-Group"]

    code, body = await in_thread(request)
    assert code == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == "requested [{Group  viewers    }] without impersonating a user"


# ------------------------------------------------------------------ reviews, REST door


@pytest.mark.parametrize(
    "args, context, answer",
    [
        (("create", "pods"), "admin", "yes"),
        (("create", "pods"), "viewer", "no"),
        (("get", "secrets", "--as=viewer"), "admin", "no"),
        (("get", "pods", "--as=viewer", "--as-group=viewers"), "admin", "yes"),
        (("--subresource=log", "get", "pods"), "viewer", "yes"),
        (("list", "pods", "--as=system:serviceaccount:x:y", "-n", "x"), "admin", "no"),
        # A service account impersonated comes with system:authenticated: it may ask about itself.
        (
            ("create", "selfsubjectaccessreviews", "-A", "--as=system:serviceaccount:x:y"),
            "admin",
            "yes",
        ),
        (("get", "/api"), "viewer", "yes"),
        (("post", "/api"), "viewer", "no"),
    ],
)
async def test_kubectl_auth_can_i(
    cluster: RestCluster, args: tuple[str, ...], context: str, answer: str
) -> None:
    ran = await cluster.kubectl("auth", "can-i", *args, context=context)
    assert (ran.out, ran.code, ran.err) == (f"{answer}\n", 0 if answer == "yes" else 1, "")


async def test_kubectl_auth_whoami(cluster: RestCluster) -> None:
    table = await cluster.kubectl_ok("auth", "whoami")
    assert table.splitlines() == [
        "ATTRIBUTE   VALUE",
        "Username    kubernetes-admin",
        "Groups      [system:masters system:authenticated]",
    ]
    as_yaml = yaml.safe_load(await cluster.kubectl_ok("auth", "whoami", "-o", "yaml"))
    assert as_yaml["apiVersion"] == "authentication.k8s.io/v1"
    assert as_yaml["kind"] == "SelfSubjectReview"
    assert as_yaml["status"]["userInfo"] == {
        "username": "kubernetes-admin",
        "groups": ["system:masters", "system:authenticated"],
    }
    impersonated = yaml.safe_load(
        await cluster.kubectl_ok("auth", "whoami", "--as=system:serviceaccount:x:y", "-o", "yaml")
    )
    assert impersonated["status"]["userInfo"] == {
        "username": "system:serviceaccount:x:y",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:x", "system:authenticated"],
    }
    viewer = await cluster.kubectl_ok("auth", "whoami", context="viewer")
    # The token file's uid column is the user's UID.
    assert viewer.splitlines()[1:] == [
        "Username    viewer",
        "UID         viewer",
        "Groups      [viewers system:authenticated]",
    ]


async def test_discovery_and_explain(cluster: RestCluster) -> None:
    listed = await cluster.kubectl_ok("api-resources", "--api-group=authorization.k8s.io")
    rows = [line.split() for line in listed.splitlines()[1:]]
    assert rows == [
        [
            "localsubjectaccessreviews",
            "authorization.k8s.io/v1",
            "true",
            "LocalSubjectAccessReview",
        ],
        ["selfsubjectaccessreviews", "authorization.k8s.io/v1", "false", "SelfSubjectAccessReview"],
        ["selfsubjectrulesreviews", "authorization.k8s.io/v1", "false", "SelfSubjectRulesReview"],
        ["subjectaccessreviews", "authorization.k8s.io/v1", "false", "SubjectAccessReview"],
    ]
    explained = await cluster.kubectl_ok("explain", "selfsubjectaccessreview.spec")
    assert explained.splitlines()[:3] == [
        "GROUP:      authorization.k8s.io",
        "KIND:       SelfSubjectAccessReview",
        "VERSION:    v1",
    ]
    assert "resourceAttributes\t<ResourceAttributes>" in explained


async def test_subject_reviews_with_kubectl_create(cluster: RestCluster) -> None:
    sar = yaml.safe_dump(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": "viewer",
                "groups": ["viewers"],
                "extra": {"scopes": ["a", "b"]},
                "resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "x"},
            },
        }
    )
    # kubectl validates against the OpenAPI v2 document in protobuf, which is not served.
    answered = yaml.safe_load(
        await cluster.kubectl_ok("create", "--validate=false", "-f", "-", "-o", "yaml", stdin=sar)
    )
    assert answered["status"] == {"allowed": True}
    assert answered["spec"]["extra"] == {"scopes": ["a", "b"]}
    refused = await cluster.kubectl(
        "create", "--validate=false", "-f", "-", stdin=sar, context="viewer"
    )
    assert refused.err == (
        'Error from server (Forbidden): error when creating "STDIN": subjectaccessreviews.'
        'authorization.k8s.io is forbidden: User "viewer" cannot create resource '
        '"subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope\n'
    )
    local = yaml.safe_dump(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "LocalSubjectAccessReview",
            "metadata": {"namespace": "x"},
            "spec": {"user": "viewer", "resourceAttributes": {"verb": "get", "resource": "pods"}},
        }
    )
    ran = await cluster.kubectl("create", "--validate=false", "-f", "-", stdin=local)
    assert ran.err == (
        'The LocalSubjectAccessReview "" is invalid: spec.resourceAttributes.namespace: '
        'Invalid value: "": must match metadata.namespace\n'
    )


async def test_official_client_self_subject_access_review(cluster: RestCluster) -> None:
    api = k8s.AuthorizationV1Api(cluster.api_client(context="viewer"))

    def review(plural: str) -> k8s.V1SelfSubjectAccessReview:
        attributes = k8s.V1ResourceAttributes(verb="get", resource=plural, namespace="default")
        return k8s.V1SelfSubjectAccessReview(
            spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        )

    answered = await in_thread(api.create_self_subject_access_review, review("secrets"))
    assert answered.status.allowed is False
    answered = await in_thread(api.create_self_subject_access_review, review("pods"))
    assert answered.status.allowed is True
    assert answered.kind == "SelfSubjectAccessReview"


async def test_token_review(cluster: RestCluster) -> None:
    api = k8s.AuthenticationV1Api(cluster.api_client())
    token = (cluster.pki / "viewer.token").read_text().strip()
    review = await in_thread(
        api.create_token_review, k8s.V1TokenReview(spec=k8s.V1TokenReviewSpec(token=token))
    )
    assert review.status.authenticated is True
    assert (review.status.user.username, review.status.user.uid) == ("viewer", "viewer")
    assert review.status.user.groups == ["viewers", "system:authenticated"]
    wrong = await in_thread(
        api.create_token_review, k8s.V1TokenReview(spec=k8s.V1TokenReviewSpec(token="x" + token))
    )
    assert not wrong.status.authenticated


# ------------------------------------------------------------------ the gRPC door


def _ssar(verb: str, plural: str, namespace: str = "") -> authz.SelfSubjectAccessReview:
    return authz.SelfSubjectAccessReview(
        spec=authz.SelfSubjectAccessReviewSpec(
            resource_attributes=authz.ResourceAttributes(
                verb=verb, resource=plural, namespace=namespace
            )
        )
    )


async def test_grpc_impersonation_and_reviews(cluster: RestCluster) -> None:
    ssar = resources.SELF_SUBJECT_ACCESS_REVIEW.stub(cluster.grpc.channel)
    assert (await ssar.Create(_ssar("list", "secrets"), timeout=10)).status.allowed
    as_viewer = (("impersonate-user", "viewer"), ("impersonate-group", "viewers"))
    answered = await ssar.Create(_ssar("list", "secrets"), metadata=as_viewer, timeout=10)
    assert not answered.status.allowed
    assert (await ssar.Create(_ssar("list", "pods"), metadata=as_viewer, timeout=10)).status.allowed
    # Every call of the impersonated user is the viewer's: its refusal names the viewer.
    secrets = services_pb2_grpc.SecretsStub(cluster.grpc.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await secrets.List(meta_pb2.ListRequest(), metadata=as_viewer, timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == SECRETS_FORBIDDEN
    whoami = resources.SELF_SUBJECT_REVIEW.stub(cluster.grpc.channel)
    me = await whoami.Create(
        authentication_pb2.SelfSubjectReview(),
        metadata=(("impersonate-user", "system:serviceaccount:x:y"),),
        timeout=10,
    )
    assert me.status.user_info.username == "system:serviceaccount:x:y"
    assert list(me.status.user_info.groups) == [
        "system:serviceaccounts",
        "system:serviceaccounts:x",
        "system:authenticated",
    ]


async def test_grpc_impersonation_refusals(cluster: RestCluster, viewer_grpc: Client) -> None:
    pods = services_pb2_grpc.PodsStub(viewer_grpc.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await pods.List(
            meta_pb2.ListRequest(namespace="default"),
            metadata=(("impersonate-user", "kubernetes-admin"),),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == (
        'users "kubernetes-admin" is forbidden: User "viewer" cannot impersonate resource '
        '"users" in API group "" at the cluster scope'
    )
    admin_pods = services_pb2_grpc.PodsStub(cluster.grpc.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin_pods.List(
            meta_pb2.ListRequest(namespace="default"),
            metadata=(("impersonate-uid", "42"),),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        "requested [{UID  42  authentication.k8s.io/v1  }] without impersonating a user"
    )


async def test_grpc_local_review_namespace_and_token_review(cluster: RestCluster) -> None:
    local = resources.LOCAL_SUBJECT_ACCESS_REVIEW.stub(cluster.grpc.channel)
    review = authz.LocalSubjectAccessReview(
        metadata=meta_pb2.ObjectMeta(namespace="x"),
        spec=authz.SubjectAccessReviewSpec(
            user="viewer",
            groups=["viewers"],
            resource_attributes=authz.ResourceAttributes(
                verb="get", resource="pods", namespace="x"
            ),
        ),
    )
    assert (await local.Create(review, timeout=10)).status.allowed
    review.spec.resource_attributes.namespace = "y"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await local.Create(review, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: '
        'spec.resourceAttributes.namespace: Invalid value: "y": must match metadata.namespace'
    )
    tokens = resources.TOKEN_REVIEW.stub(cluster.grpc.channel)
    token = (cluster.pki / "admin.token").read_text().strip()
    answered = await tokens.Create(
        authentication_pb2.TokenReview(spec=authentication_pb2.TokenReviewSpec(token=token)),
        timeout=10,
    )
    assert answered.status.authenticated and answered.status.user.username == "admin"
