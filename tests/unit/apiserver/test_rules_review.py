"""SelfSubjectRulesReview: the rules the caller holds in a namespace, as Kubernetes' resolvers
list them (resource and non-resource rules apart, a kubelet's list incomplete, a binding's
missing role as the evaluation error), refused without a namespace, and read from kubectl's
protobuf body."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.auth.authorizer import Authorizer
from apiserver.auth.bootstrap_policy import static_policy
from apiserver.auth.user import MASTERS_GROUP, UserInfo, reset_current_user, set_current_user
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from apiserver.registry.reviews import create_only_apis
from podplane.api.authorization.v1 import authorization_pb2 as authz
from podplane.api.k8swire.authorization.v1 import authorization_pb2 as wire
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.api.rbac.v1 import rbac_pb2

VIEWER = UserInfo("viewer", frozenset({"viewers", "system:authenticated"}))
ADMIN = UserInfo("admin", frozenset({MASTERS_GROUP, "system:authenticated"}))
KUBELET = UserInfo("system:node:node-1", frozenset({"system:nodes", "system:authenticated"}))
JANE = UserInfo("jane", frozenset({"system:authenticated"}))
# What every signed-in user holds (system:basic-user, system:discovery,
# system:public-info-viewer), in every answer below.
BASIC = authz.ResourceRule(
    verbs=["create"],
    api_groups=["authorization.k8s.io"],
    resources=["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
)


def review(namespace: str) -> authz.SelfSubjectRulesReview:
    return authz.SelfSubjectRulesReview(spec=authz.SelfSubjectRulesReviewSpec(namespace=namespace))


@pytest.fixture
def authorizer() -> Authorizer:
    """The bootstrap policy, with jane bound in namespace x to a Role that lets her read one
    ConfigMap and to a Role that does not exist."""
    policy = static_policy()
    role = rbac_pb2.Role(
        rules=[
            rbac_pb2.PolicyRule(
                verbs=["get"], api_groups=[""], resources=["configmaps"], resource_names=["app"]
            )
        ]
    )
    role.metadata.name, role.metadata.namespace = "reader", "x"
    policy.put(role)
    for name in ("reader", "missing"):
        binding = rbac_pb2.RoleBinding(
            role_ref=rbac_pb2.RoleRef(
                api_group="rbac.authorization.k8s.io", kind="Role", name=name
            ),
            subjects=[rbac_pb2.Subject(kind="User", name="jane")],
        )
        binding.metadata.name, binding.metadata.namespace = name, "x"
        policy.put(binding)
    return Authorizer(lambda namespace: [], policy=policy)


async def ask(
    authorizer: Authorizer, user: UserInfo, namespace: str
) -> authz.SelfSubjectRulesReview:
    token = set_current_user(user)
    try:
        api = create_only_apis(authorizer, None)["selfsubjectrulesreviews"]
        answered: authz.SelfSubjectRulesReview = await api.create(review(namespace))
        return answered
    finally:
        reset_current_user(token)


async def test_cluster_admin_holds_everything(authorizer: Authorizer) -> None:
    """system:masters gets the rules of the cluster-admin role bound to it, as on Kubernetes."""
    status = (await ask(authorizer, ADMIN, "default")).status
    assert status.resource_rules[0] == authz.ResourceRule(
        verbs=["*"], api_groups=["*"], resources=["*"]
    )
    assert status.non_resource_rules[0] == authz.NonResourceRule(
        verbs=["*"], non_resource_urls=["*"]
    )
    assert BASIC in status.resource_rules
    assert (status.incomplete, status.evaluation_error) == (False, "")


async def test_a_namespaced_role_counts_in_its_namespace_only(authorizer: Authorizer) -> None:
    reader = authz.ResourceRule(
        verbs=["get"], api_groups=[""], resources=["configmaps"], resource_names=["app"]
    )
    in_x = (await ask(authorizer, JANE, "x")).status
    assert reader in in_x.resource_rules
    assert BASIC in in_x.resource_rules
    # The binding to a missing Role is reported, and the list is still complete.
    assert in_x.evaluation_error == 'role.rbac.authorization.k8s.io "missing" not found'
    assert not in_x.incomplete
    elsewhere = (await ask(authorizer, JANE, "y")).status
    assert reader not in elsewhere.resource_rules
    assert elsewhere.evaluation_error == ""


async def test_the_viewer_reads_and_non_resource_urls_are_apart(authorizer: Authorizer) -> None:
    status = (await ask(authorizer, VIEWER, "default")).status
    pods = next(r for r in status.resource_rules if "pods" in r.resources)
    assert list(pods.verbs) == ["get", "list", "watch"]
    assert all(r.resources for r in status.resource_rules)
    assert all(r.non_resource_urls for r in status.non_resource_rules)
    assert any("/api" in r.non_resource_urls for r in status.non_resource_rules)


async def test_a_kubelet_list_is_incomplete(authorizer: Authorizer) -> None:
    status = (await ask(authorizer, KUBELET, "default")).status
    assert status.incomplete
    assert status.evaluation_error == "node authorizer does not support user rule resolution"


async def test_the_answer_is_the_status_alone(authorizer: Authorizer) -> None:
    answered = await ask(authorizer, VIEWER, "default")
    assert not answered.HasField("spec") and not answered.HasField("metadata")


async def test_the_namespace_is_required(authorizer: Authorizer) -> None:
    with pytest.raises(errors.APIError) as refused:
        await ask(authorizer, VIEWER, "")
    assert (refused.value.code, refused.value.message) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "no namespace on request",
    )


def test_kubectl_protobuf_body() -> None:
    body = wire.SelfSubjectRulesReview(spec=wire.SelfSubjectRulesReviewSpec(namespace="x"))
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(
            apiVersion="authorization.k8s.io/v1", kind="SelfSubjectRulesReview"
        ),
        raw=body.SerializeToString(),
    )
    decoded = decode(MAGIC + envelope.SerializeToString())
    assert decoded["spec"] == {"namespace": "x"}
    assert decoded["kind"] == "SelfSubjectRulesReview"
