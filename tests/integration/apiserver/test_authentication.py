"""Authentication on the real apiserver over real etcd, served with TLS from a test PKI laid out as
the cluster's (podplane.componentbase.pki): client certificates on the secure port, bearer tokens on
the token port, a caller with neither system:anonymous (refused what RBAC does not grant it, as
kube-apiserver's --anonymous-auth=true: test_anonymous_requests.py), a token no one issued
refused."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from tests.integration.control_plane import running_apiserver
from tests.pki_support import cert_credentials, make_pki, secure_serving, token_credentials
from tests.support import EtcdProcess


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest_asyncio.fixture(scope="module")
async def secure_apiserver(etcd: EtcdProcess, pki_dir: Path) -> AsyncIterator[APIServer]:
    async with running_apiserver(etcd, security=secure_serving(pki_dir)) as server:
        yield server


async def list_namespaces(port: int, creds: Credentials | None) -> list[str]:
    """One List call, failing at once (no wait_for_ready) when the connection is refused."""
    target = f"localhost:{port}"
    async with creds.aio_channel(target) if creds else grpc.aio.insecure_channel(target) as ch:
        reply = await resources.NAMESPACE.stub(ch).List(meta_pb2.ListRequest(), timeout=10)
    return [ns.metadata.name for ns in reply.items]


async def refusal(port: int, creds: Credentials | None) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_namespaces(port, creds)
    return info.value.code(), info.value.details() or ""


async def test_certificate_and_token_users_are_served(
    secure_apiserver: APIServer, pki_dir: Path
) -> None:
    async with Client(
        f"localhost:{secure_apiserver.port}",
        timeout=10,
        credentials=cert_credentials(pki_dir, "admin"),
    ) as admin:
        await admin.namespaces.create(
            core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="authn-cert"))
        )
    async with Client(
        f"localhost:{secure_apiserver.token_port}",
        timeout=10,
        credentials=token_credentials(pki_dir, "admin"),
    ) as token_admin:
        await token_admin.namespaces.create(
            core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="authn-token"))
        )
        names = {ns.metadata.name for ns in (await token_admin.namespaces.list_all())[0]}
    assert {"authn-cert", "authn-token", "kube-system"} <= names
    assert "authn-token" in await list_namespaces(
        secure_apiserver.port, cert_credentials(pki_dir, "admin")
    )


async def test_unauthenticated_calls_are_refused(
    secure_apiserver: APIServer, pki_dir: Path, tmp_path: Path
) -> None:
    assert secure_apiserver.token_port is not None
    port, token_port = secure_apiserver.port, secure_apiserver.token_port
    ca = str(pki_dir / "ca.crt")
    unauthorized = (grpc.StatusCode.UNAUTHENTICATED, "Unauthorized")
    forbidden = (
        grpc.StatusCode.PERMISSION_DENIED,
        'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in '
        'API group "" at the cluster scope',
    )
    # TLS, but a token nobody issued: 401. No credentials at all: system:anonymous, 403.
    assert await refusal(token_port, Credentials(ca, token="0123456789abcdef")) == unauthorized
    assert await refusal(token_port, Credentials(ca)) == forbidden
    # A certificate from another CA: the secure port ends the handshake; the token port does not
    # ask for certificates, so the call carries none: system:anonymous.
    other = make_pki(tmp_path / "other-ca")
    forged = Credentials(ca, str(other / "admin.crt"), str(other / "admin.key"))
    assert (await refusal(port, forged))[0] == grpc.StatusCode.UNAVAILABLE
    assert await refusal(token_port, forged) == forbidden
    # No client certificate on the secure port, and plaintext on either: no connection at all.
    assert (await refusal(port, Credentials(ca)))[0] == grpc.StatusCode.UNAVAILABLE
    for p in (port, token_port):
        assert (await refusal(p, None))[0] == grpc.StatusCode.UNAVAILABLE
    # The apiserver's certificate does not verify against another CA: the client refuses it.
    assert (
        await refusal(
            port,
            Credentials(str(other / "ca.crt"), str(other / "admin.crt"), str(other / "admin.key")),
        )
    )[0] == grpc.StatusCode.UNAVAILABLE


async def test_the_caller_is_named_in_refusals(secure_apiserver: APIServer, pki_dir: Path) -> None:
    """Who the apiserver took the caller for, as a user sees it: authorization's refusal names
    the user the certificate or token authenticated as."""
    assert secure_apiserver.token_port is not None
    viewer = token_credentials(pki_dir, "viewer")
    assert "kube-system" in await list_namespaces(secure_apiserver.token_port, viewer)
    async with Client(
        f"localhost:{secure_apiserver.token_port}", timeout=10, credentials=viewer
    ) as client:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client.namespaces.create(
                core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name="viewer-made"))
            )
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert 'User "viewer" cannot create resource "namespaces"' in (info.value.details() or "")
    code, details = await refusal(secure_apiserver.port, cert_credentials(pki_dir, "node-1"))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert 'User "system:node:node-1" cannot list resource "namespaces"' in details


async def test_a_token_file_is_read_again_when_it_is_rewritten(
    secure_apiserver: APIServer, pki_dir: Path, tmp_path: Path
) -> None:
    """--token-file as a pod's service account token is: the kubelet rewrites it before the
    token expires, and one long-lived client must send the new one."""
    token_file = tmp_path / "token"
    token_file.write_text((pki_dir / "admin.token").read_text())
    credentials = Credentials(str(pki_dir / "ca.crt"), token_file=str(token_file))
    async with Client(
        f"localhost:{secure_apiserver.token_port}", timeout=10, credentials=credentials
    ) as client:
        await client.secrets.list("default")  # the admin may
        rewritten = tmp_path / "token.new"
        rewritten.write_text((pki_dir / "viewer.token").read_text())
        rewritten.rename(token_file)  # atomically, as the kubelet's projection writes it
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.secrets.list("default")  # the viewer may not
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert 'User "viewer" cannot list resource "secrets"' in (refused.value.details() or "")


async def test_an_address_the_certificate_does_not_name_takes_a_tls_server_name(
    etcd: EtcdProcess, pki_dir: Path
) -> None:
    """An apiserver dialled by an address its certificate does not name (here 127.0.0.2, where
    the certificate names 127.0.0.1; in the compose cluster, its IP on the cluster network) is
    refused by the client's TLS check, unless --tls-server-name names one it does (kubectl's
    flag)."""
    admin = cert_credentials(pki_dir, "admin")
    async with running_apiserver(etcd, "0.0.0.0:0", security=secure_serving(pki_dir)) as server:
        target = f"127.0.0.2:{server.port}"
        async with admin.aio_channel(target) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await resources.NAMESPACE.stub(channel).List(meta_pb2.ListRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        named = dataclasses.replace(admin, tls_server_name="apiserver")
        async with Client(target, timeout=10, credentials=named) as client:
            names = {ns.metadata.name for ns in (await client.namespaces.list_all())[0]}
        assert "kube-system" in names
