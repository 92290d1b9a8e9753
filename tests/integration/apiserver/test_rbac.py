"""RBAC as API objects on the real apiserver over real etcd: the bootstrap policy is stored at
start; `kubectl create role/rolebinding` grant a user rights in one namespace and not in another
(the refusal in Kubernetes' words), at both doors; what a user does not hold they cannot grant
(escalation), unless they may `escalate` or `bind`; a binding's roleRef cannot change; the
official client's RbacAuthorizationV1Api reads the objects."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from kubernetes import client as k8s

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.componentbase import pki
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess, eventually, held

GROUP = "rbac.authorization.k8s.io"
USERS = ("jane", "mallory")


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rbac")) as c:
        # Client certificates for users no bootstrap binding names, and kubectl contexts.
        ca, ca_key = pki.ensure_ca(c.pki)
        for user in USERS:
            pki.issue(c.pki, pki.CertSpec(user, user, client=True), ca, ca_key)
            await c.kubectl_ok(
                "config",
                "set-credentials",
                user,
                f"--client-certificate={c.pki / f'{user}.crt'}",
                f"--client-key={c.pki / f'{user}.key'}",
            )
            await c.kubectl_ok(
                "config", "set-context", user, "--cluster=podplane", f"--user={user}"
            )
        yield c


@pytest_asyncio.fixture
async def namespaces(cluster: RestCluster) -> tuple[str, str]:
    """Two fresh namespaces: where rights are granted, and another."""
    names = (f"rbac-{uuid.uuid4().hex[:6]}", f"rbac-{uuid.uuid4().hex[:6]}")
    for name in names:
        await cluster.grpc.namespaces.create(
            core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name))
        )
    return names


@pytest_asyncio.fixture
async def jane(cluster: RestCluster) -> AsyncIterator[Client]:
    async with Client(
        f"127.0.0.1:{cluster.server.port}",
        timeout=10,
        credentials=cert_credentials(cluster.pki, "jane"),
    ) as client:
        yield client


async def denied(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, refused.value.details()
    return str(refused.value.details())


async def test_bootstrap_policy_is_stored_at_start(cluster: RestCluster) -> None:
    roles = await cluster.kubectl_ok("get", "clusterroles", "-o", "name")
    for name in ("cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery"):
        assert f"clusterrole.{GROUP}/{name}" in roles.split()
    wide = await cluster.kubectl_ok("get", "clusterrolebinding", "cluster-admin", "-o", "wide")
    header, row = wide.splitlines()
    assert header.split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert row.split()[1] == "ClusterRole/cluster-admin"
    assert row.split()[-1] == "system:masters"
    labelled = await cluster.kubectl_ok(
        "get", "clusterroles", "-l", "kubernetes.io/bootstrapping=rbac-defaults", "-o", "name"
    )
    assert f"clusterrole.{GROUP}/view" in labelled.split()
    view = await cluster.grpc.clusterroles.get("view")
    assert view.metadata.annotations["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    assert dict(view.aggregation_rule.cluster_role_selectors[0].match_labels) == {
        f"{GROUP}/aggregate-to-view": "true"
    }


async def test_bootstrap_reconcile_restores_what_was_removed_and_keeps_additions(
    cluster: RestCluster,
) -> None:
    """A restarted apiserver adds back a bootstrap binding's missing subject and keeps one a user
    added (reconciliation never removes)."""
    binding = await cluster.grpc.clusterrolebindings.get("system:discovery")
    del binding.subjects[:]
    binding.subjects.add(kind="Group", api_group=GROUP, name="extra")
    await cluster.grpc.clusterrolebindings.update(binding)
    await cluster.restart()
    restored = await cluster.grpc.clusterrolebindings.get("system:discovery")
    assert sorted(s.name for s in restored.subjects) == ["extra", "system:authenticated"]


async def test_a_role_grants_rights_in_its_namespace_only(
    cluster: RestCluster, namespaces: tuple[str, str], jane: Client
) -> None:
    granted, other = namespaces
    await cluster.kubectl_ok(
        "create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", granted
    )
    await cluster.kubectl_ok(
        "create", "rolebinding", "read-pods", "--role=pod-reader", "--user=jane", "-n", granted
    )
    table = await cluster.kubectl_ok("get", "rolebinding", "read-pods", "-n", granted, "-o", "wide")
    assert table.splitlines()[1].split()[:2] == ["read-pods", "Role/pod-reader"]
    assert table.splitlines()[1].split()[3] == "jane"

    async def lists() -> bool:
        ran = await cluster.kubectl("get", "pods", "-n", granted, context="jane")
        return ran.code == 0

    await eventually(lists, timeout=10, what="jane lists pods in the granted namespace")
    refused = await cluster.kubectl("get", "pods", "-n", other, context="jane")
    assert refused.code != 0
    assert (
        'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource '
        f'"pods" in API group "" in the namespace "{other}"'
    ) in refused.err
    # The gRPC door decides the same.
    assert (await jane.pods.list(granted)).items == []
    message = await denied(jane.pods.list(other))
    assert message == (
        f'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the '
        f'namespace "{other}"'
    )
    # Not a verb the role names.
    await denied(jane.pods.delete("nothing", granted))

    # Deleting the binding takes the right away, without a restart.
    await cluster.kubectl_ok("delete", "rolebinding", "read-pods", "-n", granted)

    async def refused_again() -> bool:
        ran = await cluster.kubectl("get", "pods", "-n", granted, context="jane")
        return ran.code != 0 and "Forbidden" in ran.err

    await eventually(refused_again, timeout=10, what="jane refused once unbound")


async def test_cluster_role_and_binding_with_kubectl(
    cluster: RestCluster, namespaces: tuple[str, str]
) -> None:
    granted, _ = namespaces
    await cluster.kubectl_ok(
        "create", "clusterrole", f"ns-reader-{granted}", "--verb=get,list", "--resource=namespaces"
    )
    await cluster.kubectl_ok(
        "create",
        "clusterrolebinding",
        f"ns-readers-{granted}",
        f"--clusterrole=ns-reader-{granted}",
        "--user=mallory",
        f"--serviceaccount={granted}:bot",
    )
    binding = await cluster.grpc.clusterrolebindings.get(f"ns-readers-{granted}")
    assert [(s.kind, s.name, s.namespace) for s in binding.subjects] == [
        ("User", "mallory", ""),
        ("ServiceAccount", "bot", granted),
    ]

    async def reads() -> bool:
        ran = await cluster.kubectl("get", "namespace", granted, context="mallory")
        return ran.code == 0

    await eventually(reads, timeout=10, what="mallory reads namespaces")
    # A cluster role bound in a namespace grants its rules there only.
    await cluster.kubectl_ok(
        "create",
        "rolebinding",
        "mallory-view",
        "--clusterrole=system:aggregate-to-view",
        "--user=mallory",
        "-n",
        granted,
    )

    async def lists_configmaps() -> bool:
        ran = await cluster.kubectl("get", "configmaps", "-n", granted, context="mallory")
        return ran.code == 0

    await eventually(lists_configmaps, timeout=10, what="mallory lists configmaps")
    ran = await cluster.kubectl("get", "configmaps", "-n", "default", context="mallory")
    assert "Forbidden" in ran.err


async def test_kubectl_creates_aggregated_and_url_roles(cluster: RestCluster) -> None:
    suffix = uuid.uuid4().hex[:6]
    await cluster.kubectl_ok(
        "create", "clusterrole", f"logs-{suffix}", "--verb=get", "--non-resource-url=/logs/*"
    )
    await cluster.kubectl_ok(
        "create",
        "clusterrole",
        f"monitoring-{suffix}",
        f"--aggregation-rule=rbac.example.com/aggregate-to-monitoring-{suffix}=true",
    )
    # kubectl sends its creates of the four kinds as Kubernetes protobuf, which the REST door
    # reads (apiserver/endpoints/rest/protobuf_bodies.py).
    sent = await cluster.kubectl(
        "create",
        "clusterrolebinding",
        f"logs-{suffix}",
        f"--clusterrole=logs-{suffix}",
        "--group=loggers",
        "-v=8",
    )
    assert sent.code == 0, sent.err
    assert "Content-Type: application/vnd.kubernetes.protobuf" in sent.err
    logs = await cluster.grpc.clusterroles.get(f"logs-{suffix}")
    assert [(list(r.verbs), list(r.non_resource_urls)) for r in logs.rules] == [
        (["get"], ["/logs/*"])
    ]
    monitoring = await cluster.grpc.clusterroles.get(f"monitoring-{suffix}")
    assert dict(monitoring.aggregation_rule.cluster_role_selectors[0].match_labels) == {
        f"rbac.example.com/aggregate-to-monitoring-{suffix}": "true"
    }
    table = await cluster.kubectl_ok("get", "clusterrole", f"logs-{suffix}")
    header, row = table.splitlines()
    assert header.split() == ["NAME", "CREATED", "AT"]
    assert row.split()[0] == f"logs-{suffix}" and row.split()[1].endswith("Z")


async def test_the_official_client_reads_rbac_objects(
    cluster: RestCluster, namespaces: tuple[str, str]
) -> None:
    granted, _ = namespaces
    await cluster.kubectl_ok(
        "create", "role", "cm-reader", "--verb=get", "--resource=configmaps", "-n", granted
    )
    rbac = k8s.RbacAuthorizationV1Api(cluster.api_client())
    roles = await in_thread(rbac.list_namespaced_role, granted)
    assert [r.metadata.name for r in roles.items] == ["cm-reader"]
    assert roles.items[0].rules[0].verbs == ["get"]
    assert roles.items[0].rules[0].api_groups == [""]
    admin = await in_thread(rbac.read_cluster_role_binding, "cluster-admin")
    assert admin.role_ref.name == "cluster-admin"
    assert [s.name for s in admin.subjects] == ["system:masters"]


async def test_explain_role(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("explain", "role.rules")
    assert "verbs" in out and "apiGroups" in out


async def test_role_ref_cannot_change(cluster: RestCluster, namespaces: tuple[str, str]) -> None:
    granted, _ = namespaces
    await cluster.kubectl_ok(
        "create", "rolebinding", "fixed", "--clusterrole=view", "--user=jane", "-n", granted
    )
    ran = await cluster.kubectl(
        "patch",
        "rolebinding",
        "fixed",
        "-n",
        granted,
        "--type=merge",
        "-p",
        '{"roleRef":{"name":"edit"}}',
    )
    assert ran.code != 0
    assert (
        'The RoleBinding "fixed" is invalid: roleRef: Invalid value: '
        f'rbac.RoleRef{{APIGroup:"{GROUP}", Kind:"ClusterRole", Name:"edit"}}: '
        "cannot change roleRef"
    ) in ran.err


def _role(namespace: str, name: str, verbs: list[str], resource: str) -> rbac_pb2.Role:
    return manifest.from_dict(
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [{"verbs": verbs, "apiGroups": [""], "resources": [resource]}],
        },
        rbac_pb2.Role,
    )


async def test_no_one_grants_what_they_do_not_hold(
    cluster: RestCluster, namespaces: tuple[str, str], jane: Client
) -> None:
    granted, _ = namespaces
    # jane may write roles and bindings in the namespace, and read pods there.
    await cluster.kubectl_ok(
        "create",
        "role",
        "rbac-writer",
        "--verb=create,get,list,update",
        "--resource=roles,rolebindings,pods",
        "-n",
        granted,
    )
    await cluster.kubectl_ok(
        "create", "rolebinding", "jane-writes", "--role=rbac-writer", "--user=jane", "-n", granted
    )

    async def may_create() -> bool:
        try:
            await jane.roles.create(_role(granted, "get-pods", ["get"], "pods"))
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.PERMISSION_DENIED and "attempting" not in str(
                e.details()
            ):
                return False
            raise
        return True

    # What she holds she may grant.
    await eventually(may_create, timeout=10, what="jane creates a role she holds")
    # What she does not hold she may not, at either door, in Kubernetes' words.
    message = await denied(jane.roles.create(_role(granted, "delete-pods", ["delete"], "pods")))
    assert message == (
        f'roles.{GROUP} "delete-pods" is forbidden: user "jane" (groups=["system:authenticated"]) '
        "is attempting to grant RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}'
    )
    ran = await cluster.kubectl(
        "create",
        "role",
        "delete-pods",
        "--verb=delete",
        "--resource=pods",
        "-n",
        granted,
        context="jane",
    )
    assert ran.code != 0
    assert "is attempting to grant RBAC permissions not currently held" in ran.err
    assert '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}' in ran.err
    # Nor bind a role whose rules she does not hold.
    ran = await cluster.kubectl(
        "create",
        "rolebinding",
        "jane-admin",
        "--clusterrole=cluster-admin",
        "--user=jane",
        "-n",
        granted,
        context="jane",
    )
    assert ran.code != 0
    assert (
        f'rolebindings.{GROUP} "jane-admin" is forbidden: user "jane" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        "currently held"
    ) in ran.err
    # A role she holds she may bind to someone else, once the escalation check, which reads
    # roles from the RBAC cache (fed by the watch cache), has seen it.
    policy = cluster.server.rbac_policy
    await held(lambda: policy.roles.get((granted, "get-pods")), "the role in the RBAC cache", 10)
    await cluster.kubectl_ok(
        "create",
        "rolebinding",
        "mallory-reads",
        "--role=get-pods",
        "--user=mallory",
        "-n",
        granted,
        context="jane",
    )
    # With `bind` on a role, she may bind it without holding it.
    await cluster.kubectl_ok(
        "create",
        "role",
        "binder",
        "--verb=bind",
        "--resource=clusterroles",
        "--resource-name=edit",
        "-n",
        granted,
    )
    await cluster.kubectl_ok(
        "create", "rolebinding", "jane-binds", "--role=binder", "--user=jane", "-n", granted
    )

    async def binds_edit() -> bool:
        ran = await cluster.kubectl(
            "create",
            "rolebinding",
            "mallory-edits",
            "--clusterrole=edit",
            "--user=mallory",
            "-n",
            granted,
            context="jane",
        )
        return ran.code == 0

    await eventually(binds_edit, timeout=10, what="jane binds edit with the bind verb")
