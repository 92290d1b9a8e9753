"""TLS bootstrapping of a kubelet, as `kubeadm join` sets a node up, through the real apiserver over
real etcd with the controller-manager's csrapproving and csrsigning controllers running in
process: a kubelet with only a bootstrap token asks for its client certificate
(`node-csr-<digest>`, CN system:node:<name>, O system:nodes), which is auto-approved for the
token's group (kubeadm's nodeclient binding) and issued by the cluster CA; the kubelet keeps it
and is then that node to the apiserver (the node authorizer lets it make its own Node and no
other). A kept, valid certificate is used again without a new request."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controller.certificates.approver import CSRApprovingController
from controller.certificates.authority import CertificateAuthority
from controller.certificates.signer import CSRSigningController
from kubelet.__main__ import bootstrapped_credentials, with_serving_certificate
from kubelet.certificate import serving
from kubelet.certificate.bootstrap import CURRENT, bootstrap
from kubelet.config import KubeletConfig
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.bootstraptoken import token as bootstrap_token
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess

TOKEN = "join01.0123456789abcdef"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("tls-bootstrap")) as c:
        made = bootstrap_token.new_token(TOKEN, now=datetime.now(UTC), ttl=timedelta(hours=1))
        await c.grpc.secrets.create(bootstrap_token.to_secret(made))
        yield c


@pytest_asyncio.fixture(scope="module")
async def controllers(cluster: RestCluster) -> AsyncIterator[None]:
    """csrapproving and csrsigning with the controller-manager's own certificate."""
    client = Client(
        f"127.0.0.1:{cluster.server.port}",
        timeout=10,
        credentials=cert_credentials(cluster.pki, "controller-manager"),
    )
    authority = CertificateAuthority.load(str(cluster.pki / "ca.crt"), str(cluster.pki / "ca.key"))
    tasks = [
        asyncio.ensure_future(
            CSRSigningController(client, SharedInformerFactory(client), authority).run()
        ),
        asyncio.ensure_future(CSRApprovingController(client, SharedInformerFactory(client)).run()),
    ]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


async def issued_requests(
    cluster: RestCluster,
) -> list[certificates_pb2.CertificateSigningRequest]:
    """The token user's requests that were issued a certificate."""
    listed, _ = await cluster.grpc.certificatesigningrequests.list_all()
    return [
        c for c in listed if c.spec.username == "system:bootstrap:join01" and c.status.certificate
    ]


def kubelet_config(cluster: RestCluster, tmp_path: Path, node: str) -> KubeletConfig:
    token_file = tmp_path / "bootstrap-token"
    token_file.write_text(TOKEN + "\n")
    assert cluster.server.token_port is not None
    return KubeletConfig(
        server=f"localhost:{cluster.server.port}",
        node_name=node,
        pod_cidr="10.244.9.0/24",
        root_dir=str(tmp_path),
        bootstrap_token_file=str(token_file),
        bootstrap_server=f"localhost:{cluster.server.token_port}",
        cert_dir=str(tmp_path / "pki"),
    )


async def test_a_denied_request_stops_the_bootstrap(cluster: RestCluster, tmp_path: Path) -> None:
    """Before the controllers start (this test runs first): the admin denies the request the
    kubelet waits on."""
    config = kubelet_config(cluster, tmp_path, "refused-1")
    token = Credentials(str(cluster.pki / "ca.crt"), token_file=config.bootstrap_token_file)
    client = Client(config.bootstrap_server, timeout=10, credentials=token)
    try:
        waiting = asyncio.create_task(
            bootstrap(client.certificatesigningrequests, "refused-1", config.cert_dir, timeout=60)
        )

        async def pending_request() -> str:
            while True:
                for c in (await cluster.grpc.certificatesigningrequests.list_all())[0]:
                    if c.spec.username == "system:bootstrap:join01" and not c.status.conditions:
                        return c.metadata.name
                await asyncio.sleep(0.2)

        async with asyncio.timeout(30):
            name = await pending_request()
        await cluster.kubectl_ok("certificate", "deny", name)
        with pytest.raises(Exception) as denied:
            await waiting
        assert f"certificate request {name} was denied" in str(denied.value)
        assert not (Path(config.cert_dir) / CURRENT).exists()
    finally:
        await client.close()


async def test_a_kubelet_with_a_bootstrap_token_gets_its_node_certificate(
    cluster: RestCluster, controllers: None, tmp_path: Path
) -> None:
    config = kubelet_config(cluster, tmp_path, "joined-1")
    ca_file = str(cluster.pki / "ca.crt")
    async with asyncio.timeout(60):
        credentials = await bootstrapped_credentials(config, Credentials(ca_file))
    kept = Path(config.cert_dir) / CURRENT
    assert credentials.cert_file == credentials.key_file == str(kept)
    assert kept.is_symlink() and oct(kept.stat().st_mode & 0o777) == "0o600"

    cert = x509.load_pem_x509_certificate(kept.read_bytes())
    subject = {a.oid: a.value for a in cert.subject}
    assert subject == {
        NameOID.COMMON_NAME: "system:node:joined-1",
        NameOID.ORGANIZATION_NAME: "system:nodes",
    }
    ca = x509.load_pem_x509_certificate((cluster.pki / "ca.crt").read_bytes())
    cert.verify_directly_issued_by(ca)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)

    [csr] = await issued_requests(cluster)
    assert csr.metadata.name.startswith("node-csr-")
    assert csr.spec.signer_name == "kubernetes.io/kube-apiserver-client-kubelet"
    assert list(csr.spec.usages) == ["digital signature", "client auth"]
    approved = {c.type: (c.status, c.reason) for c in csr.status.conditions}
    assert approved["Approved"] == ("True", "AutoApproved")

    # The certificate is the node's: it may register its own Node, and no other.
    node_client = Client(config.server, timeout=10, credentials=credentials)
    try:
        created = await node_client.nodes.create(
            core_pb2.Node(metadata=meta_pb2.ObjectMeta(name="joined-1"))
        )
        assert created.metadata.name == "joined-1"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await node_client.nodes.create(
                core_pb2.Node(metadata=meta_pb2.ObjectMeta(name="someone-else"))
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await node_client.close()
        await cluster.grpc.nodes.delete("joined-1")

    # On the next start the kept certificate serves: no new request.
    again = await bootstrapped_credentials(config, Credentials(ca_file))
    assert again.cert_file == credentials.cert_file
    assert len(await issued_requests(cluster)) == 1


async def test_the_serving_certificate_is_asked_for_and_used_once_an_admin_approves_it(
    cluster: RestCluster, controllers: None, tmp_path: Path
) -> None:
    """--rotate-server-certificates: with its own client certificate the kubelet asks for a
    kubelet-serving certificate naming it and its address; csrapproving leaves such requests to
    an administrator (kubectl certificate approve), csrsigning then issues it, and the kubelet's
    config serves with it and checks its callers against the cluster CA."""
    config = kubelet_config(cluster, tmp_path, "joined-2")
    ca_file = str(cluster.pki / "ca.crt")
    async with asyncio.timeout(60):
        credentials = await bootstrapped_credentials(config, Credentials(ca_file))
    config = dataclasses.replace(config, credentials=credentials, rotate_server_certificates=True)
    node_client = Client(config.server, timeout=10, credentials=credentials)
    try:
        asking = asyncio.create_task(with_serving_certificate(config, node_client, "10.250.0.42"))

        async def pending() -> certificates_pb2.CertificateSigningRequest:
            while True:
                for c in (await cluster.grpc.certificatesigningrequests.list_all())[0]:
                    if c.spec.signer_name == serving.SIGNER and c.spec.username == (
                        "system:node:joined-2"
                    ):
                        return c
                await asyncio.sleep(0.2)

        async with asyncio.timeout(30):
            csr = await pending()
        assert list(csr.spec.usages) == ["digital signature", "server auth"]
        # A request csrapproving approves, made after this one: once it is approved (and
        # issued), csrapproving has seen this one too (its informer delivers requests in order,
        # its one worker takes their keys in turn), and left it pending.
        later = tmp_path / "later"
        later.mkdir()
        async with asyncio.timeout(60):
            await bootstrapped_credentials(
                kubelet_config(cluster, later, "joined-3"), Credentials(ca_file)
            )
        assert not (
            await cluster.grpc.certificatesigningrequests.get(csr.metadata.name)
        ).status.conditions
        await cluster.kubectl_ok("certificate", "approve", csr.metadata.name)
        async with asyncio.timeout(30):
            served = await asking
    finally:
        await node_client.close()

    kept = Path(config.cert_dir) / serving.CURRENT
    assert served.tls_cert_file == served.tls_private_key_file == str(kept)
    assert served.client_ca_file == ca_file
    cert = x509.load_pem_x509_certificate(kept.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(Path(ca_file).read_bytes()))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["joined-2"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.250.0.42"]
    assert served.serving_credentials() is not None  # the kubelet API serves TLS with it
