"""TLS and authentication on the compose cluster: the apiserver refuses plaintext and unknown
callers (a caller without credentials is system:anonymous, refused what RBAC does not grant it;
a token no one issued is unauthenticated), etcd cannot be reached from a node, and podctl works
with the admin's certificate or token."""

from __future__ import annotations

import os
import subprocess

import grpc
import pytest

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.credentials import Credentials
from tests.e2e.compose_cluster import ADMIN, PKI, ROOT, SERVER, compose, podctl

TOKEN_SERVER = os.environ.get(
    "PODPLANE_TOKEN_SERVER", f"localhost:{os.environ.get('PODPLANE_APISERVER_TOKEN_PORT', '6444')}"
)


async def list_nodes(target: str, creds: Credentials | None) -> list[str]:
    async with creds.aio_channel(target) if creds else grpc.aio.insecure_channel(target) as ch:
        reply = await resources.NODE.stub(ch).List(meta_pb2.ListRequest(), timeout=10)
    return [n.metadata.name for n in reply.items]


ANONYMOUS_FORBIDDEN = (
    'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" '
    "at the cluster scope"
)


async def refusal(target: str, creds: Credentials | None) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_nodes(target, creds)
    if info.value.code() == grpc.StatusCode.UNAUTHENTICATED:
        assert info.value.details() == "Unauthorized"
    if info.value.code() == grpc.StatusCode.PERMISSION_DENIED:
        assert info.value.details() == ANONYMOUS_FORBIDDEN
    return info.value.code()


async def test_plaintext_and_unknown_callers_are_refused() -> None:
    ca = str(PKI / "ca.crt")
    for target in (SERVER, TOKEN_SERVER):  # plaintext: not even a connection
        assert await refusal(target, None) == grpc.StatusCode.UNAVAILABLE
    # No credentials: system:anonymous, whom RBAC grants no nodes (kube-apiserver's 403).
    assert await refusal(TOKEN_SERVER, Credentials(ca)) == grpc.StatusCode.PERMISSION_DENIED
    assert (
        await refusal(TOKEN_SERVER, Credentials(ca, token="wrong"))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    assert await refusal(SERVER, Credentials(ca)) == grpc.StatusCode.UNAVAILABLE  # no cert


async def test_admin_certificate_and_tokens_are_served() -> None:
    assert {"node-1", "node-2", "node-3"} <= set(await list_nodes(SERVER, ADMIN))
    for user in ("admin", "viewer"):
        token = (PKI / f"{user}.token").read_text().strip()
        nodes = await list_nodes(TOKEN_SERVER, Credentials(str(PKI / "ca.crt"), token=token))
        assert "node-1" in nodes


def test_podctl_with_the_admin_certificate_and_token() -> None:
    out = podctl("get", "nodes").stdout  # compose_cluster gives podctl the admin certificate
    assert "node-1" in out and "Ready" in out
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODPLANE_")}
    env |= {
        "PODPLANE_SERVER": TOKEN_SERVER,
        "PODPLANE_CA": str(PKI / "ca.crt"),
        "PODPLANE_TOKEN_FILE": str(PKI / "admin.token"),
        "HOME": str(ROOT / "build"),
    }
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "podctl"), "get", "nodes"],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "node-2" in result.stdout


def test_etcd_is_not_reachable_from_a_node() -> None:
    """etcd is on a network only the apiserver joins: a node cannot even resolve it, let alone
    connect; the apiserver can (and etcd wants its client certificate)."""
    probe = (
        "import socket,sys\n"
        "try:\n socket.create_connection(('etcd', 2379), timeout=3).close()\n"
        "except OSError as e:\n print(type(e).__name__, e); sys.exit(1)\n"
    )
    node = compose("exec", "-T", "node-1", "python", "-c", probe, check=False)
    assert node.returncode == 1, node.stdout + node.stderr
    apiserver = compose("exec", "-T", "apiserver", "python", "-c", probe, check=False)
    assert apiserver.returncode == 0, apiserver.stdout + apiserver.stderr


def test_a_node_cannot_use_another_nodes_kubelet_api() -> None:
    """Logs, exec and attach go through the apiserver: node-2's own certificate, though signed by
    the cluster CA, is refused by node-1's kubelet."""
    probe = """
import grpc, sys
from podplane.api.kubelet.v1 import kubelet_pb2, kubelet_pb2_grpc
pki = '/etc/podplane/pki/'
creds = grpc.ssl_channel_credentials(*(open(pki + f, 'rb').read()
                                       for f in ('ca.crt', 'node.key', 'node.crt')))
with grpc.secure_channel('node-1:10350', creds,
                         options=[('grpc.ssl_target_name_override', 'node-1')]) as ch:
    try:
        list(kubelet_pb2_grpc.KubeletStub(ch).ContainerLogs(
            kubelet_pb2.ContainerLogsRequest(namespace='kube-system', pod_name='x'), timeout=10))
    except grpc.RpcError as e:
        print(e.code().name, e.details())
"""
    out = compose("exec", "-T", "node-2", "python", "-c", probe).stdout.strip()
    assert out == (
        "PERMISSION_DENIED Forbidden (user=system:node:node-2, verb=create, "
        "resource=nodes, subresource=proxy)"
    )
