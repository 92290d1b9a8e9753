"""ServiceAccounts and their tokens through the real apiserver over real etcd, with the real
kubectl and the official Python client at the REST door and the gRPC client at the other: the
kind served with kubectl's columns, `kubectl create token` issuing a signed token that kubectl's
--token then authenticates with, as system:serviceaccount:<ns>:<name>, until the account (or the
pod the token is bound to) is deleted; audiences and expiry checked; refusals in Kubernetes'
words. With the service account controller and the root CA publisher running, every namespace
gets its `default` account and kube-root-ca.crt, made again when deleted."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from kubernetes import client as k8s

from apiserver.auth.serviceaccount import jwt
from controller.rootcacertpublisher.controller import RootCACertPublisher
from controller.serviceaccount.controller import ServiceAccountsController
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.pki_support import ISSUER, cert_credentials
from tests.support import EtcdProcess, eventually, held

UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)\n"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("service-accounts")) as c:
        yield c


async def namespace(cluster: RestCluster) -> str:
    name = f"sa-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


async def as_token(cluster: RestCluster, token: str, *args: str) -> tuple[int, str, str]:
    """kubectl with only the bearer token (the viewer's context, its token replaced)."""
    ran = await cluster.kubectl("--token", token, *args, context="viewer")
    return ran.code, ran.out, ran.err


async def refused(cluster: RestCluster, token: str) -> None:
    """The token is refused once the apiserver's watch cache has seen the deletion (a moment
    after kubectl delete returns)."""

    async def unauthorized() -> bool:
        return await as_token(cluster, token, "get", "--raw", "/api") == (1, "", UNAUTHORIZED)

    await eventually(unauthorized, timeout=10, what="the token to be refused")


async def test_kubectl_creates_lists_and_the_python_client_reads_service_accounts(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster)
    assert (
        await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
        == "serviceaccount/robot created\n"
    )
    lines = (await cluster.kubectl_ok("get", "sa", "-n", ns)).splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["NAME", "SECRETS", "AGE"]
    assert re.split(r"\s{2,}", lines[1].strip())[:2] == ["robot", "0"]
    api = cluster.api_client()
    read = await in_thread(k8s.CoreV1Api(api).read_namespaced_service_account, "robot", ns)
    assert read.metadata.name == "robot" and read.metadata.uid
    issued = await in_thread(
        k8s.CoreV1Api(api).create_namespaced_service_account_token,
        "robot",
        ns,
        k8s.AuthenticationV1TokenRequest(
            spec=k8s.V1TokenRequestSpec(audiences=["vault"], expiration_seconds=1800)
        ),
    )
    assert issued.metadata.name == "robot" and issued.metadata.namespace == ns
    assert issued.spec.audiences == ["vault"] and issued.spec.expiration_seconds == 1800
    expiry = issued.status.expiration_timestamp.timestamp()
    assert claims_of(issued.status.token)["exp"] == expiry
    explained = await cluster.kubectl_ok("explain", "sa.automountServiceAccountToken")
    assert "KIND:       ServiceAccount" in explained
    assert "FIELD: automountServiceAccountToken <boolean>" in explained


async def test_a_token_authenticates_as_the_account_until_it_is_deleted(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
    token = (await cluster.kubectl_ok("create", "token", "robot", "-n", ns)).strip()
    uid = json.loads(await cluster.kubectl_ok("get", "sa", "robot", "-n", ns, "-o", "json"))[
        "metadata"
    ]["uid"]
    claims = claims_of(token)
    assert claims["iss"] == ISSUER and claims["aud"] == [ISSUER]
    assert claims["sub"] == f"system:serviceaccount:{ns}:robot"
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert claims["kubernetes.io"] == {
        "namespace": ns,
        "serviceaccount": {"name": "robot", "uid": uid},
    }

    # Discovery is every signed-in user's; listing pods is not this account's.
    code, out, _ = await as_token(cluster, token, "get", "--raw", "/api")
    assert code == 0 and json.loads(out)["kind"] == "APIVersions"
    code, _, err = await as_token(cluster, token, "get", "pods", "-n", ns)
    assert code == 1
    assert err == (
        f'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:{ns}:robot"'
        f' cannot list resource "pods" in API group "" in the namespace "{ns}"\n'
    )

    await cluster.kubectl_ok("delete", "serviceaccount", "robot", "-n", ns)
    await refused(cluster, token)
    # A new account of the same name is another account: the old token stays refused.
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
    await eventually(
        lambda: in_thread(
            k8s.CoreV1Api(cluster.api_client()).read_namespaced_service_account, "robot", ns
        ),
        what="the new account",
    )
    assert await as_token(cluster, token, "get", "--raw", "/api") == (1, "", UNAUTHORIZED)


async def test_a_pod_bound_token_dies_with_its_pod(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "worker"},
        "spec": {"serviceAccountName": "robot", "containers": [{"name": "c", "image": "busybox"}]},
    }
    await cluster.kubectl_ok("create", "-n", ns, "-f", "-", stdin=json.dumps(pod))
    pod_uid = json.loads(await cluster.kubectl_ok("get", "pod", "worker", "-n", ns, "-o", "json"))[
        "metadata"
    ]["uid"]
    token = (
        await cluster.kubectl_ok(
            "create",
            "token",
            "robot",
            "-n",
            ns,
            "--duration=20m",
            "--bound-object-kind=Pod",
            "--bound-object-name=worker",
        )
    ).strip()
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 1200
    assert claims["kubernetes.io"]["pod"] == {"name": "worker", "uid": pod_uid}
    code, _, _ = await as_token(cluster, token, "get", "--raw", "/api")
    assert code == 0

    # A pod of another account cannot be bound to.
    await cluster.kubectl_ok("create", "serviceaccount", "other", "-n", ns)
    ran = await cluster.kubectl(
        "create",
        "token",
        "other",
        "-n",
        ns,
        "--bound-object-kind=Pod",
        "--bound-object-name=worker",
    )
    assert ran.code == 1
    assert ran.err == (
        'error: failed to create token: cannot bind token for serviceaccount "other" to pod '
        "running with different serviceaccount name.\n"
    )

    # The uid, when given, must be the pod's.
    ran = await cluster.kubectl(
        "create",
        "token",
        "robot",
        "-n",
        ns,
        "--bound-object-kind=Pod",
        "--bound-object-name=worker",
        "--bound-object-uid=0000",
    )
    assert ran.err == (
        'error: failed to create token: Operation cannot be fulfilled on Pod "worker": the UID '
        "in the bound object reference (0000) does not match the UID in record. The object "
        "might have been deleted and then recreated\n"
    )

    await cluster.kubectl_ok("delete", "pod", "worker", "-n", ns, "--grace-period=0", "--force")
    await refused(cluster, token)


async def test_token_requests_are_validated_in_kubernetes_words(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
    ran = await cluster.kubectl("create", "token", "robot", "-n", ns, "--duration=1m")
    assert ran.code == 1
    assert ran.err == (
        'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: '
        "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 "
        "minutes\n"
    )
    ran = await cluster.kubectl("create", "token", "nobody", "-n", ns)
    assert ran.code == 1
    assert ran.err == 'error: failed to create token: serviceaccounts "nobody" not found\n'
    ran = await cluster.kubectl(
        "create",
        "token",
        "robot",
        "-n",
        ns,
        "--bound-object-kind=Secret",
        "--bound-object-name=missing",
    )
    assert ran.err == 'error: failed to create token: secrets "missing" not found\n'

    # A token for another audience is not one for the API.
    other = (
        await cluster.kubectl_ok("create", "token", "robot", "-n", ns, "--audience=vault")
    ).strip()
    assert claims_of(other)["aud"] == ["vault"]
    assert await as_token(cluster, other, "get", "--raw", "/api") == (1, "", UNAUTHORIZED)


async def test_the_grpc_door_issues_tokens_its_token_port_accepts(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.grpc.serviceaccounts.create(
        core_pb2.ServiceAccount(metadata=meta_pb2.ObjectMeta(name="robot", namespace=ns))
    )
    issued = await cluster.grpc.create_token(
        token_request_pb2.TokenRequest(
            metadata=meta_pb2.ObjectMeta(name="robot", namespace=ns),
            spec=token_request_pb2.TokenRequestSpec(expiration_seconds=900),
        )
    )
    assert issued.spec.audiences == [ISSUER] and issued.spec.expiration_seconds == 900
    assert claims_of(issued.status.token)["exp"] - claims_of(issued.status.token)["iat"] == 900
    creds = Credentials(str(cluster.pki / "ca.crt"), token=issued.status.token)
    async with Client(f"127.0.0.1:{cluster.server.token_port}", timeout=10, credentials=creds) as c:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await c.pods.list_all(ns)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert f'User "system:serviceaccount:{ns}:robot" cannot list' in (
            refused.value.details() or ""
        )
        await cluster.grpc.serviceaccounts.delete("robot", ns)

        async def unauthenticated() -> bool:
            try:
                await c.pods.list_all(ns)
            except grpc.aio.AioRpcError as e:
                return bool(e.code() == grpc.StatusCode.UNAUTHENTICATED)
            return False

        await eventually(unauthenticated, timeout=10, what="the token to be refused")


async def test_every_namespace_gets_its_default_account_and_the_root_ca(
    cluster: RestCluster,
) -> None:
    informers = SharedInformerFactory(cluster.grpc)
    ca = (cluster.pki / "ca.crt").read_text()
    async with running(
        ServiceAccountsController(cluster.grpc, informers),
        RootCACertPublisher(cluster.grpc, informers, ca),
    ):
        ns = await namespace(cluster)

        async def published() -> bool:
            ran = await cluster.kubectl("get", "cm", "kube-root-ca.crt", "-n", ns, "-o", "json")
            sa = await cluster.kubectl("get", "sa", "default", "-n", ns)
            return ran.code == 0 and json.loads(ran.out)["data"] == {"ca.crt": ca} and sa.code == 0

        await eventually(published, what="the default account and kube-root-ca.crt")
        for kind, name in (("sa", "default"), ("cm", "kube-root-ca.crt")):
            await cluster.kubectl_ok("delete", kind, name, "-n", ns)
        await eventually(published, what="the default account and kube-root-ca.crt again")
        # The default account's token works as any account's.
        token = (await cluster.kubectl_ok("create", "token", "default", "-n", ns)).strip()

        # The authenticator's cache may still hold the deleted account (another uid: 401).
        async def authenticated() -> tuple[int, str, str] | None:
            ran = await as_token(cluster, token, "get", "configmaps", "-n", ns)
            return ran if ran != (1, "", UNAUTHORIZED) else None

        code, _, err = await eventually(authenticated, what="the new account's token to work")
        assert code == 1 and f'User "system:serviceaccount:{ns}:default"' in err


@pytest.mark.parametrize(
    "name",
    [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "10.96.0.1",
    ],
)
async def test_in_cluster_names_verify_the_apiservers_certificate(
    cluster: RestCluster, name: str
) -> None:
    """What an in-cluster client dials (the `kubernetes` Service's names and cluster IP) is a
    name the serving certificate has: TLS verifies against kube-root-ca.crt's CA."""
    context = ssl.create_default_context(cafile=str(cluster.pki / "ca.crt"))
    port = int(cluster.rest_address.rpartition(":")[2])
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=name)
    peer = writer.get_extra_info("peercert")
    writer.close()
    await writer.wait_closed()
    assert peer["subject"] == ((("commonName", "kube-apiserver"),),)


def forged(pki: Path, uid: str, key: rsa.RSAPrivateKey | None = None, **changes: object) -> str:
    """A token for default/robot (with `uid`) signed with the cluster's sa.key (or `key`), its
    claims changed."""
    signing = key or serialization.load_pem_private_key((pki / "sa.key").read_bytes(), None)
    assert isinstance(signing, rsa.RSAPrivateKey)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "system:serviceaccount:default:robot",
        "aud": [ISSUER],
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "kubernetes.io": {"namespace": "default", "serviceaccount": {"name": "robot", "uid": uid}},
    }
    return jwt.sign({**claims, **changes}, signing)


async def test_forged_expired_and_malformed_tokens_are_401_at_both_doors(
    cluster: RestCluster,
) -> None:
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", "default")
    uid = json.loads(await cluster.kubectl_ok("get", "sa", "robot", "-n", "default", "-o", "json"))[
        "metadata"
    ]["uid"]
    now = int(time.time())
    good = forged(cluster.pki, uid)
    assert (await as_token(cluster, good, "get", "--raw", "/api"))[0] == 0
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "another key": forged(cluster.pki, uid, other_key),
        "expired": forged(cluster.pki, uid, iat=now - 7200, nbf=now - 7200, exp=now - 3600),
        "not yet valid": forged(cluster.pki, uid, nbf=now + 600),
        "another audience": forged(cluster.pki, uid, aud=["vault"]),
        "another account's uid": forged(cluster.pki, "0000"),
        "malformed": good[: len(good) // 2],
        "not base64": "a.b!.c",
    }
    for what, token in bad.items():
        assert await as_token(cluster, token, "get", "--raw", "/api") == (
            1,
            "",
            UNAUTHORIZED,
        ), what
        creds = Credentials(str(cluster.pki / "ca.crt"), token=token)
        async with Client(
            f"127.0.0.1:{cluster.server.token_port}", timeout=10, credentials=creds
        ) as c:
            with pytest.raises(grpc.aio.AioRpcError) as refused_call:
                await c.namespaces.list_all()
        assert refused_call.value.code() == grpc.StatusCode.UNAUTHENTICATED, what
        assert refused_call.value.details() == "Unauthorized", what


async def test_a_kubelet_gets_tokens_only_for_its_own_pods(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    await cluster.kubectl_ok("create", "serviceaccount", "robot", "-n", ns)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "runner"},
        "spec": {
            "nodeName": "node-1",
            "serviceAccountName": "robot",
            "containers": [{"name": "c", "image": "busybox"}],
        },
    }
    await cluster.kubectl_ok("create", "-n", ns, "-f", "-", stdin=json.dumps(pod))
    pod_uid = json.loads(await cluster.kubectl_ok("get", "pod", "runner", "-n", ns, "-o", "json"))[
        "metadata"
    ]["uid"]
    # The node authorizer finds the kubelet's pods in the watch cache.
    pods = cluster.server.cachers["pods"]
    await held(lambda: pods.peek(ns, "runner"), "the pod in the watch cache")

    def request(**bound: str) -> token_request_pb2.TokenRequest:
        return token_request_pb2.TokenRequest(
            metadata=meta_pb2.ObjectMeta(name="robot", namespace=ns),
            spec=token_request_pb2.TokenRequestSpec(
                bound_object_ref=token_request_pb2.BoundObjectReference(**bound)
            ),
        )

    async with Client(
        f"127.0.0.1:{cluster.server.port}",
        timeout=10,
        credentials=cert_credentials(cluster.pki, "node-1"),
    ) as kubelet:
        issued = await kubelet.create_token(
            request(api_version="v1", kind="Pod", name="runner", uid=pod_uid)
        )
        bound = claims_of(issued.status.token)["kubernetes.io"]
        assert bound["pod"] == {"name": "runner", "uid": pod_uid}
        assert bound["node"]["name"] == "node-1"
        with pytest.raises(grpc.aio.AioRpcError) as unbound:
            await kubelet.create_token(request())
        assert unbound.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert unbound.value.details() == (
            'serviceaccounts "robot" is forbidden: node requested token not bound to a pod'
        )
        with pytest.raises(grpc.aio.AioRpcError) as other_account:
            await kubelet.create_token(
                token_request_pb2.TokenRequest(
                    metadata=meta_pb2.ObjectMeta(name="default", namespace=ns)
                )
            )
        assert other_account.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert other_account.value.details() == (
            f'serviceaccounts "default" is forbidden: User "system:node:node-1" cannot create '
            f'resource "serviceaccounts/token" in API group "" in the namespace "{ns}": no '
            "relationship found between node 'node-1' and this object"
        )
