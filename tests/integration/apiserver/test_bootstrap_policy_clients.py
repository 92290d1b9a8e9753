"""Kubernetes 1.31's bootstrap policy as its clients meet it, through a real apiserver over real
etcd with kubectl and the official Python client: a peer's service account bound to
system:auth-delegator reviews tokens and access (an aggregated API server's delegated
authentication and authorization), the controllers' service accounts in kube-system hold their
controller roles (kubectl auth can-i answers as on 1.31), and the Roles of kube-system and
kube-public are stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from kubernetes import client as k8s

from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("bootstrap-policy")) as c:
        yield c


def _as_token(cluster: RestCluster, token: str) -> k8s.ApiClient:
    """An official client that authenticates with a bearer token, as a pod's does."""
    config = k8s.Configuration()
    config.host = f"https://127.0.0.1:{cluster.rest_port}"
    config.ssl_ca_cert = str(cluster.pki / "ca.crt")
    # The package's ApiClient is untyped.
    api: Any = k8s.ApiClient(config)
    api.set_default_header("Authorization", f"Bearer {token}")
    return api  # type: ignore[no-any-return]


async def test_a_service_account_bound_to_auth_delegator_reviews_tokens_and_access(
    cluster: RestCluster,
) -> None:
    namespace = f"peer-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", namespace)
    await cluster.kubectl_ok("create", "serviceaccount", "peer", "-n", namespace)
    await cluster.kubectl_ok("create", "serviceaccount", "caller", "-n", namespace)
    peer = (await cluster.kubectl_ok("create", "token", "peer", "-n", namespace)).strip()
    caller = (await cluster.kubectl_ok("create", "token", "caller", "-n", namespace)).strip()
    api: Any = _as_token(cluster, peer)
    authentication = k8s.AuthenticationV1Api(api)
    authorization = k8s.AuthorizationV1Api(api)
    review = k8s.V1TokenReview(spec=k8s.V1TokenReviewSpec(token=caller))
    access = k8s.V1SubjectAccessReview(
        spec=k8s.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{namespace}:caller",
            resource_attributes=k8s.V1ResourceAttributes(
                verb="list", resource="pods", namespace=namespace
            ),
        )
    )
    try:
        # Unbound, the peer may do neither.
        for call, body in (
            (authentication.create_token_review, review),
            (authorization.create_subject_access_review, access),
        ):
            with pytest.raises(k8s.ApiException) as refused:
                await in_thread(call, body)
            assert refused.value.status == 403
        await cluster.kubectl_ok(
            "create",
            "clusterrolebinding",
            f"{namespace}:auth-delegator",
            "--clusterrole=system:auth-delegator",
            f"--serviceaccount={namespace}:peer",
        )
        # The binding counts once the authorizer's informer has it, as in Kubernetes.
        reviewed = await eventually(
            lambda: in_thread(authentication.create_token_review, review),
            what="the auth-delegator binding to take effect",
        )
        assert reviewed.status.authenticated is True
        assert reviewed.status.user.username == f"system:serviceaccount:{namespace}:caller"
        decided = await in_thread(authorization.create_subject_access_review, access)
        assert decided.status.allowed is False  # the caller itself holds no such right
    finally:
        api.close()
        await cluster.kubectl("delete", "clusterrolebinding", f"{namespace}:auth-delegator")


@pytest.mark.parametrize(
    ("account", "args", "answer"),
    [
        ("replicaset-controller", ("create", "pods"), "yes"),
        ("replicaset-controller", ("update", "replicasets.apps", "--subresource=status"), "yes"),
        ("replicaset-controller", ("delete", "deployments.apps"), "no"),
        ("deployment-controller", ("create", "replicasets.apps"), "yes"),
        ("job-controller", ("patch", "jobs.batch"), "yes"),
        ("namespace-controller", ("deletecollection", "configmaps"), "yes"),
        ("generic-garbage-collector", ("create", "pods"), "no"),
        ("token-cleaner", ("delete", "secrets", "-n", "kube-system"), "yes"),
        ("token-cleaner", ("delete", "secrets", "-n", "default"), "no"),
        ("bootstrap-signer", ("update", "configmaps/cluster-info", "-n", "kube-public"), "yes"),
    ],
)
async def test_controllers_service_accounts_hold_their_roles(
    cluster: RestCluster, account: str, args: tuple[str, ...], answer: str
) -> None:
    ran = await cluster.kubectl(
        "auth", "can-i", f"--as=system:serviceaccount:kube-system:{account}", *args
    )
    assert ran.out.strip() == answer, (ran.out, ran.err)


async def test_the_namespaced_bootstrap_roles_are_stored(cluster: RestCluster) -> None:
    rbac = k8s.RbacAuthorizationV1Api(cluster.api_client())
    system = {
        r.metadata.name for r in (await in_thread(rbac.list_namespaced_role, "kube-system")).items
    }
    assert {
        "extension-apiserver-authentication-reader",
        "system::leader-locking-kube-controller-manager",
        "system::leader-locking-kube-scheduler",
        "system:controller:bootstrap-signer",
        "system:controller:cloud-provider",
        "system:controller:token-cleaner",
    } <= system
    public = await in_thread(
        rbac.read_namespaced_role_binding, "system:controller:bootstrap-signer", "kube-public"
    )
    assert public.metadata.labels == {"kubernetes.io/bootstrapping": "rbac-defaults"}
    assert public.metadata.annotations == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    assert [(s.kind, s.namespace, s.name) for s in public.subjects] == [
        ("ServiceAccount", "kube-system", "bootstrap-signer")
    ]
