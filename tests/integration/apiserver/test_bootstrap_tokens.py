"""Bootstrap tokens through the real apiserver over real etcd (--enable-bootstrap-token-auth, as
the test clusters run), with the real kubectl: a kubeconfig holding a token `<id>.<secret>` of a
kube-system bootstrap-token-<id> Secret is system:bootstrap:<id> in system:bootstrappers and its
extra groups (`kubectl auth whoami`); an expired token, a wrong secret, a token not marked for
authentication or one whose Secret is deleted is kubectl's "Unauthorized". kubeadm's binding,
stored once the certificates API's role system:node-bootstrapper exists, lets the node token's
group post certificate signing requests (a SelfSubjectAccessReview, which works before the kind
is served). The token cleaner, on the real
apiserver, deletes an expired token's Secret; `podctl token create` makes a token kubectl signs
in with, and `podctl token list` shows it. The gRPC door's token port knows the token as the
REST door does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from controller.tokencleaner.controller import TokenCleaner
from podctl.__main__ import run as podctl
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.bootstraptoken import token as bootstrap_token
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.client.informer_factory import SharedInformerFactory
from tests import tools
from tests.integration.controller_support import running
from tests.integration.rest_cluster import Ran, RestCluster, rest_cluster
from tests.kubeconfig import write_kubeconfig
from tests.support import EtcdProcess, eventually

UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)\n"
NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("bootstrap-tokens")) as c:
        yield c


def token_kubeconfig(cluster: RestCluster, token: str) -> Path:
    """A kubeconfig whose only user is the bootstrap token, as `kubeadm join` writes one."""
    return write_kubeconfig(
        cluster.folder / f"bootstrap-{token.partition('.')[0]}.conf",
        f"https://127.0.0.1:{cluster.rest_port}",
        ca=cluster.pki / "ca.crt",
        token=token,
        user="tls-bootstrap-token-user",
    )


async def kubectl_with(
    cluster: RestCluster, token: str, *args: str, stdin: str | None = None
) -> Ran:
    process = await asyncio.create_subprocess_exec(
        tools.kubectl(),
        f"--kubeconfig={token_kubeconfig(cluster, token)}",
        *args,
        env=cluster.env(),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate(stdin.encode() if stdin is not None else None)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def store_token(
    cluster: RestCluster, token: str, *, ttl: timedelta = timedelta(hours=1), **kw: object
) -> core_pb2.Secret:
    made = bootstrap_token.new_token(token, now=datetime.now(UTC), ttl=ttl, **kw)  # type: ignore[arg-type]
    created: core_pb2.Secret = await cluster.grpc.secrets.create(bootstrap_token.to_secret(made))
    return created


async def whoami(cluster: RestCluster, token: str) -> list[str]:
    """`kubectl auth whoami`'s lines, once the watch cache has the token's Secret."""

    async def answered() -> list[str] | None:
        ran = await kubectl_with(cluster, token, "auth", "whoami")
        return ran.out.splitlines() if ran.code == 0 else None

    return await eventually(answered, timeout=10, what="the token to authenticate")


async def test_a_token_in_a_kubeconfig_is_its_bootstrap_user(cluster: RestCluster) -> None:
    await store_token(cluster, "abcdef.0123456789abcdef")
    assert await whoami(cluster, "abcdef.0123456789abcdef") == [
        "ATTRIBUTE   VALUE",
        "Username    system:bootstrap:abcdef",
        f"Groups      [system:bootstrappers {NODE_GROUP} system:authenticated]",
    ]
    # Discovery is every signed-in user's; secrets are not the token's.
    ran = await kubectl_with(cluster, "abcdef.0123456789abcdef", "get", "secrets", "-n", "default")
    # (Until the certificates API's roles exist, RBAC also names the roles kubeadm's bindings
    # point at as not found, as Kubernetes does.)
    assert ran.code == 1
    assert ran.err.startswith(
        'Error from server (Forbidden): secrets is forbidden: User "system:bootstrap:abcdef" '
        'cannot list resource "secrets" in API group "" in the namespace "default"'
    )


async def test_extra_groups_are_the_users(cluster: RestCluster) -> None:
    await store_token(
        cluster,
        "extra0.0123456789abcdef",
        groups=("system:bootstrappers:b", "system:bootstrappers:a"),
    )
    lines = await whoami(cluster, "extra0.0123456789abcdef")
    assert lines[2] == (
        "Groups      [system:bootstrappers system:bootstrappers:a system:bootstrappers:b "
        "system:authenticated]"
    )


async def unauthorized(cluster: RestCluster, token: str) -> None:
    ran = await kubectl_with(cluster, token, "auth", "whoami")
    assert (ran.code, ran.out, ran.err) == (1, "", UNAUTHORIZED)


async def test_tokens_the_secret_does_not_vouch_for_are_unauthorized(
    cluster: RestCluster,
) -> None:
    await store_token(cluster, "good00.0123456789abcdef")
    await store_token(cluster, "signin.0123456789abcdef", usages=("signing",), groups=())
    expired = bootstrap_token.to_secret(
        bootstrap_token.new_token("old000.0123456789abcdef", now=datetime.now(UTC))
    )
    expired.data["expiration"] = b"2020-01-01T00:00:00Z"
    await cluster.grpc.secrets.create(expired)
    # Once the cache has the Secrets (the good token authenticates), the others are refused.
    await whoami(cluster, "good00.0123456789abcdef")
    await unauthorized(cluster, "good00.0123456789abcdee")  # wrong secret
    await unauthorized(cluster, "signin.0123456789abcdef")  # not for authentication
    await unauthorized(cluster, "old000.0123456789abcdef")  # expired
    await unauthorized(cluster, "nosuch.0123456789abcdef")  # no Secret

    await cluster.kubectl_ok("delete", "secret", "-n", "kube-system", "bootstrap-token-good00")

    async def refused() -> bool:
        ran = await kubectl_with(cluster, "good00.0123456789abcdef", "auth", "whoami")
        return (ran.code, ran.err) == (1, UNAUTHORIZED)

    await eventually(refused, timeout=10, what="the deleted token to be refused")


def access_review(verb: str) -> str:
    """The SelfSubjectAccessReview `kubectl auth can-i VERB certificatesigningrequests` sends
    once the kind is served."""
    return json.dumps(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "group": "certificates.k8s.io",
                    "resource": "certificatesigningrequests",
                }
            },
        }
    )


async def may(cluster: RestCluster, token: str, verb: str) -> dict[str, Any]:
    ran = await kubectl_with(
        cluster,
        token,
        "create",
        "--validate=false",
        "-f",
        "-",
        "-o",
        "json",
        stdin=access_review(verb),
    )
    assert ran.code == 0, ran.err
    status: dict[str, Any] = json.loads(ran.out)["status"]
    return status


async def test_kubeadms_binding_lets_the_node_token_post_csrs_once_its_role_exists(
    cluster: RestCluster,
) -> None:
    token = "csr000.0123456789abcdef"
    await store_token(cluster, token)
    await whoami(cluster, token)
    roles = {r.metadata.name for r in (await cluster.grpc.clusterroles.list_all())[0]}
    made_here = "system:node-bootstrapper" not in roles
    if made_here:
        # Without the certificates API's role, kubeadm's binding waits for it, and the token may
        # not post a certificate signing request.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await cluster.grpc.clusterrolebindings.get("kubeadm:kubelet-bootstrap")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert (await may(cluster, token, "create")).get("allowed", False) is False
        # Kubernetes' system:node-bootstrapper (bootstrappolicy), as the certificates API adds
        # it; the next apiserver start stores the binding.
        role = rbac_pb2.ClusterRole(
            metadata=meta_pb2.ObjectMeta(name="system:node-bootstrapper"),
            rules=[
                rbac_pb2.PolicyRule(
                    verbs=["create", "get", "list", "watch"],
                    api_groups=["certificates.k8s.io"],
                    resources=["certificatesigningrequests"],
                )
            ],
        )
        await cluster.grpc.clusterroles.create(role)
        await cluster.restart()
    binding = await cluster.grpc.clusterrolebindings.get("kubeadm:kubelet-bootstrap")
    assert binding.role_ref.name == "system:node-bootstrapper"
    assert not binding.metadata.labels
    assert [(s.kind, s.api_group, s.name) for s in binding.subjects] == [
        ("Group", "rbac.authorization.k8s.io", NODE_GROUP)
    ]
    try:

        async def allowed() -> bool:
            return bool((await may(cluster, token, "create")).get("allowed"))

        await eventually(allowed, timeout=10, what="the binding to take effect")
        assert not (await may(cluster, token, "delete")).get("allowed")
        # kubectl auth can-i resolves the resource by discovery: while the kind is not served
        # it warns and asks about a resource of that whole name, which nothing allows.
        ran = await kubectl_with(
            cluster, token, "auth", "can-i", "create", "certificatesigningrequests"
        )
        if "doesn't have a resource type" in ran.err:
            assert ran.code == 1 and ran.out.startswith("no")
        else:
            assert (ran.code, ran.out) == (0, "yes\n")
    finally:
        if made_here:
            await cluster.grpc.clusterrolebindings.delete("kubeadm:kubelet-bootstrap")
            await cluster.grpc.clusterroles.delete("system:node-bootstrapper")


async def test_the_token_cleaner_deletes_an_expired_tokens_secret(cluster: RestCluster) -> None:
    lasting = await store_token(cluster, "clean1.0123456789abcdef")
    expired = bootstrap_token.to_secret(
        bootstrap_token.new_token("clean0.0123456789abcdef", now=datetime.now(UTC))
    )
    expired.data["expiration"] = b"2020-01-01T00:00:00Z"
    await cluster.grpc.secrets.create(expired)
    cleaner = TokenCleaner(cluster.grpc, SharedInformerFactory(cluster.grpc))
    async with running(cleaner):

        async def gone() -> bool:
            names = {
                s.metadata.name for s in (await cluster.grpc.secrets.list_all("kube-system"))[0]
            }
            return "bootstrap-token-clean0" not in names

        await eventually(gone, timeout=15, what="the expired token's Secret to be deleted")
    kept = await cluster.grpc.secrets.get("bootstrap-token-clean1", "kube-system")
    assert kept.metadata.uid == lasting.metadata.uid


async def test_podctl_makes_a_token_kubectl_then_authenticates_with(
    cluster: RestCluster, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, file in (("CA", "ca.crt"), ("CERT", "admin.crt"), ("KEY", "admin.key")):
        monkeypatch.setenv(f"PODPLANE_{name}", str(cluster.pki / file))
    server = f"127.0.0.1:{cluster.server.port}"
    argv = ["token", "create", "--ttl", "2h", "--description", "node-4", "--server", server]
    assert await asyncio.to_thread(podctl, argv) == 0
    token = capsys.readouterr().out.strip()
    assert (await whoami(cluster, token))[1] == f"Username    system:bootstrap:{token[:6]}"
    assert await asyncio.to_thread(podctl, ["token", "list", "--server", server]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "TOKEN",
        "TTL",
        "EXPIRES",
        "USAGES",
        "DESCRIPTION",
        "EXTRA",
        "GROUPS",
    ]
    mine = next(line.split() for line in lines if line.startswith(token))
    assert mine[1] in ("2h", "1h") and mine[3:] == [
        "authentication,signing",
        "node-4",
        NODE_GROUP,
    ]


async def grpc_refusal(cluster: RestCluster, token: str) -> tuple[grpc.StatusCode, str]:
    """What the gRPC door's token port answers the token's list of namespaces."""
    assert cluster.server.token_port is not None
    credentials = Credentials(str(cluster.pki / "ca.crt"), token=token)
    async with Client(
        f"localhost:{cluster.server.token_port}", timeout=10, credentials=credentials
    ) as client:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client.namespaces.list_all()
    return info.value.code(), info.value.details() or ""


async def test_the_grpc_door_knows_the_token_as_the_rest_door_does(cluster: RestCluster) -> None:
    token = "grpc00.0123456789abcdef"
    await store_token(cluster, token)
    await whoami(cluster, token)
    # Signed in, as the bootstrap user, who may not list namespaces.
    code, details = await grpc_refusal(cluster, token)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details.startswith(
        'namespaces is forbidden: User "system:bootstrap:grpc00" cannot list resource '
        '"namespaces" in API group "" at the cluster scope'
    )
    assert await grpc_refusal(cluster, "grpc00.0123456789abcdee") == (
        grpc.StatusCode.UNAUTHENTICATED,
        "Unauthorized",
    )
