"""SelfSubjectRulesReview and kubectl auth reconcile on the real apiserver over real etcd: the
real kubectl's `auth can-i --list` (as the admin, as a user impersonated, as the viewer by its
token), the official Python client, the gRPC door with impersonate-* metadata, and `kubectl auth
reconcile` creating, updating and trimming Roles, ClusterRoles and their bindings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from podplane.api.authorization.v1 import authorization_pb2 as authz
from podplane.apimachinery import resources
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually

HEADER = ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
# What every signed-in user may do (system:basic-user), in each of the lists below.
BASIC = [
    ["selfsubjectreviews.authentication.k8s.io", "[]", "[]", "[create]"],
    ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"],
    ["selfsubjectrulesreviews.authorization.k8s.io", "[]", "[]", "[create]"],
]

POLICY = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app-reader, namespace: team}
rules:
- {apiGroups: [""], resources: [configmaps], resourceNames: [app], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reader, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: jane}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-lister}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pod-lister}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-lister}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: jane}
"""
RECONCILED = [
    "role.rbac.authorization.k8s.io/app-reader reconciled",
    "rolebinding.rbac.authorization.k8s.io/app-reader reconciled",
    "clusterrole.rbac.authorization.k8s.io/pod-lister reconciled",
    "clusterrolebinding.rbac.authorization.k8s.io/pod-lister reconciled",
]
# The same Role and RoleBinding, with another rule and another subject.
CHANGED = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app-reader, namespace: team}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reader, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
"""


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rules")) as c:
        await c.kubectl_ok("create", "namespace", "team")
        await c.kubectl_ok("create", "namespace", "other")
        yield c


async def rows(cluster: RestCluster, *args: str, context: str = "admin") -> list[list[str]]:
    """kubectl auth can-i --list's table, each row split into its columns."""
    table = await cluster.kubectl_ok("auth", "can-i", "--list", *args, context=context)
    lines = [line.split() for line in table.splitlines()]
    assert lines[0] == HEADER
    return lines[1:]


async def rows_once(
    cluster: RestCluster, holds: Callable[[list[list[str]]], bool], *args: str
) -> list[list[str]]:
    """rows() once `holds` does: the authorizer's informers see RBAC objects a moment after they
    are written, as Kubernetes' do."""

    async def check() -> list[list[str]] | None:
        listed = await rows(cluster, *args)
        return listed if holds(listed) else None

    return await eventually(check, 20, what=f"auth can-i --list {' '.join(args)} to change")


async def can_i_once(cluster: RestCluster, answer: str, *args: str) -> None:
    """kubectl auth can-i's answer, once the authorizer has seen the RBAC objects written."""

    async def check() -> bool:
        return (await cluster.kubectl("auth", "can-i", *args)).out == answer

    await eventually(check, 20, what=f"auth can-i {' '.join(args)}: {answer.strip()}")


async def reconcile(cluster: RestCluster, policy: str, *flags: str) -> list[str]:
    return (await cluster.kubectl_ok("auth", "reconcile", "-f", "-", *flags, stdin=policy)).split(
        "\n"
    )[:-1]


# ------------------------------------------------------------------ kubectl auth can-i --list


async def test_the_admin_may_do_everything(cluster: RestCluster) -> None:
    """system:masters holds cluster-admin's rules, as Kubernetes answers."""
    listed = await rows(cluster)
    assert listed[0] == ["*.*", "[]", "[]", "[*]"]
    assert ["[*]", "[]", "[*]"] in listed
    assert all(row in listed for row in BASIC)


async def test_the_viewer_by_its_token(cluster: RestCluster) -> None:
    listed = await rows(cluster, "-n", "team", context="viewer")
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in listed
    assert ["deployments.apps", "[]", "[]", "[get", "list", "watch]"] in listed
    assert ["[/api]", "[]", "[get]"] in listed
    assert not any(row[0] == "secrets" for row in listed)


async def test_a_user_impersonated_sees_the_roles_of_the_namespace_asked(
    cluster: RestCluster,
) -> None:
    await reconcile(cluster, POLICY)
    granted, listed_pods = ["configmaps", "[]", "[app]", "[get]"], ["pods", "[]", "[]", "[list]"]
    in_team = await rows_once(
        cluster,
        lambda listed: granted in listed and listed_pods in listed,
        "-n",
        "team",
        "--as=jane",
    )
    assert ["pods", "[]", "[]", "[list]"] in in_team  # the ClusterRoleBinding's, everywhere
    assert all(row in in_team for row in BASIC)
    in_other = await rows(cluster, "-n", "other", "--as=jane")
    assert ["configmaps", "[]", "[app]", "[get]"] not in in_other
    assert ["pods", "[]", "[]", "[list]"] in in_other
    # Without rights of its own, a service account holds what every signed-in user holds.
    account = await rows(cluster, "-n", "team", "--as=system:serviceaccount:team:default")
    assert [row for row in account if row[0] != "" and not row[0].startswith("[")] == BASIC


# ------------------------------------------------------------------ kubectl auth reconcile


async def test_kubectl_auth_reconcile(cluster: RestCluster) -> None:
    assert await reconcile(cluster, POLICY) == RECONCILED  # created, or left as they are
    assert await reconcile(cluster, POLICY) == RECONCILED
    await can_i_once(cluster, "yes\n", "get", "configmaps/app", "-n", "team", "--as=jane")

    # Without --remove-extra-*, rules and subjects are added to what is there.
    assert await reconcile(cluster, CHANGED) == RECONCILED[:2]
    role = yaml.safe_load(
        await cluster.kubectl_ok("get", "role", "app-reader", "-n", "team", "-o", "yaml")
    )
    assert [r["resources"] for r in role["rules"]] == [["configmaps"], ["secrets"]]
    binding = yaml.safe_load(
        await cluster.kubectl_ok("get", "rolebinding", "app-reader", "-n", "team", "-o", "yaml")
    )
    assert [s["name"] for s in binding["subjects"]] == ["jane", "bob"]

    # With them, what the file does not name goes.
    flags = ("--remove-extra-permissions", "--remove-extra-subjects")
    assert await reconcile(cluster, CHANGED, *flags) == RECONCILED[:2]
    role = yaml.safe_load(
        await cluster.kubectl_ok("get", "role", "app-reader", "-n", "team", "-o", "yaml")
    )
    assert [r["resources"] for r in role["rules"]] == [["secrets"]]
    binding = yaml.safe_load(
        await cluster.kubectl_ok("get", "rolebinding", "app-reader", "-n", "team", "-o", "yaml")
    )
    assert [s["name"] for s in binding["subjects"]] == ["bob"]
    secrets = ["secrets", "[]", "[]", "[get]"]
    await rows_once(cluster, lambda listed: secrets in listed, "-n", "team", "--as=bob")
    await can_i_once(cluster, "no\n", "get", "configmaps/app", "-n", "team", "--as=jane")


async def test_reconcile_as_a_user_without_rbac_rights(cluster: RestCluster) -> None:
    """The viewer may not read roles: reconcile stops at the server's Forbidden, as on
    Kubernetes."""
    role = CHANGED.split("---")[0]
    ran = await cluster.kubectl("auth", "reconcile", "-f", "-", stdin=role, context="viewer")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == (
        'Error from server (Forbidden): roles.rbac.authorization.k8s.io "app-reader" is '
        'forbidden: User "viewer" cannot get resource "roles" in API group '
        '"rbac.authorization.k8s.io" in the namespace "team"\n'
    )


async def test_reconcile_cannot_grant_what_the_writer_does_not_hold(cluster: RestCluster) -> None:
    """Escalation prevention applies to reconcile's writes as to any other: a user who may
    write Roles in a namespace may reconcile one granting what it holds, not one granting more."""
    admin_binding = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: role-writer}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get, create, update]}
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ann-role-writer, namespace: other}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: role-writer}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: ann}
"""
    await reconcile(cluster, admin_binding)
    await can_i_once(cluster, "yes\n", "create", "roles", "-n", "other", "--as=ann")
    allowed = '- {apiGroups: [""], resources: [configmaps], verbs: [get]}\n'
    escalating = '- {apiGroups: [""], resources: [nodes], verbs: [list]}\n'
    role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
    role += "metadata: {name: ann-role, namespace: other}\nrules:\n"
    assert await reconcile(cluster, role + allowed, "--as=ann") == [
        "role.rbac.authorization.k8s.io/ann-role reconciled"
    ]
    ran = await cluster.kubectl(
        "auth", "reconcile", "-f", "-", "--as=ann", stdin=role + allowed + escalating
    )
    assert (ran.code, ran.out) == (1, "")
    assert ran.err.startswith(
        'Error from server (Forbidden): roles.rbac.authorization.k8s.io "ann-role" is forbidden: '
        'user "ann" (groups=["system:authenticated"]) is attempting to grant RBAC permissions '
        "not currently held:\n"
    ), ran.err
    assert 'Resources:["nodes"]' in ran.err


# ------------------------------------------------------------------ the official client, gRPC


async def test_official_client(cluster: RestCluster) -> None:
    api = k8s.AuthorizationV1Api(cluster.api_client(context="viewer"))
    review = k8s.V1SelfSubjectRulesReview(spec=k8s.V1SelfSubjectRulesReviewSpec(namespace="team"))
    answered = await in_thread(api.create_self_subject_rules_review, review)
    assert answered.kind == "SelfSubjectRulesReview"
    assert answered.status.incomplete is False
    pods = next(r for r in answered.status.resource_rules if "pods" in r.resources)
    assert (pods.verbs, pods.api_groups) == (["get", "list", "watch"], [""])
    assert any("/api" in r.non_resource_urls for r in answered.status.non_resource_rules)

    no_namespace = k8s.V1SelfSubjectRulesReview(spec=k8s.V1SelfSubjectRulesReviewSpec())
    with pytest.raises(k8s.ApiException) as refused:
        await in_thread(api.create_self_subject_rules_review, no_namespace)
    assert refused.value.status == 400
    assert json.loads(str(refused.value.body))["message"] == "no namespace on request"


async def test_grpc_door(cluster: RestCluster) -> None:
    await reconcile(cluster, POLICY)
    stub = resources.SELF_SUBJECT_RULES_REVIEW.stub(cluster.grpc.channel)

    def review(namespace: str) -> authz.SelfSubjectRulesReview:
        return authz.SelfSubjectRulesReview(
            spec=authz.SelfSubjectRulesReviewSpec(namespace=namespace)
        )

    as_jane = (("impersonate-user", "jane"),)

    # The authorizer's informers see the reconciled Role and RoleBinding a moment later.
    async def reconciled() -> authz.SelfSubjectRulesReview | None:
        answer = await stub.Create(review("team"), metadata=as_jane, timeout=10)
        rules = [(list(r.resources), list(r.resource_names)) for r in answer.status.resource_rules]
        return answer if (["configmaps"], ["app"]) in rules else None

    answered = await eventually(reconciled, 20, what="jane's reconciled rule in team")
    names = [(list(r.resources), list(r.resource_names)) for r in answered.status.resource_rules]
    assert (["configmaps"], ["app"]) in names  # reconciled back, whatever else the Role holds
    assert (["pods"], []) in names  # the ClusterRoleBinding's
    elsewhere = await stub.Create(review("other"), metadata=as_jane, timeout=10)
    assert ["configmaps"] not in [list(r.resources) for r in elsewhere.status.resource_rules]
    admin = await stub.Create(review("team"), timeout=10)
    assert admin.status.resource_rules[0] == authz.ResourceRule(
        verbs=["*"], api_groups=["*"], resources=["*"]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Create(review(""), metadata=as_jane, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == "no namespace on request"


async def test_explain(cluster: RestCluster) -> None:
    explained = await cluster.kubectl_ok("explain", "selfsubjectrulesreview.status")
    assert explained.splitlines()[:3] == [
        "GROUP:      authorization.k8s.io",
        "KIND:       SelfSubjectRulesReview",
        "VERSION:    v1",
    ]
    assert "resourceRules\t<[]ResourceRule> -required-" in explained
