"""TLS bootstrapping of a kubelet's client certificate (kubernetes pkg/kubelet/certificate/bootstrap
and client-go's certificate/csr): a node that has no certificate yet proves itself with a
bootstrap token, asks for one with a CertificateSigningRequest for `system:node:<name>` in
`system:nodes` (signer kubernetes.io/kube-apiserver-client-kubelet, usages digital signature and
client auth, a new ECDSA P-256 key), waits until it is approved and issued (the controller-
manager's csrapproving and csrsigning do both for a node's request), and keeps the key and the
certificate in `<cert-dir>/kubelet-client-current.pem`, which it uses from then on and on every
start while it is valid. The request is named from its key and subject as Kubernetes names it
(`node-csr-<digest>`), so a kubelet that restarts while waiting finds its own request again."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import ResourceClient, is_already_exists

log = logging.getLogger(__name__)

SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
USAGES = ("digital signature", "client auth")
NODES_GROUP = "system:nodes"
CURRENT = "kubelet-client-current.pem"
# How often the request is looked at while it waits.
POLL_SECONDS = 1.0

CSR = certificates_pb2.CertificateSigningRequest


class BootstrapError(RuntimeError):
    """The request was denied or failed, or not issued in time."""


@dataclass(frozen=True)
class ClientCertificate:
    """Where the key and certificate are: one PEM file holding both, as the kubelet keeps
    them."""

    path: Path

    @property
    def cert_file(self) -> str:
        return str(self.path)

    @property
    def key_file(self) -> str:
        return str(self.path)


def node_user(node_name: str) -> str:
    return f"system:node:{node_name}"


def current_certificate(cert_dir: str, node_name: str) -> ClientCertificate | None:
    """The certificate kept from an earlier bootstrap, if it is this node's and still valid."""
    return valid_certificate(Path(cert_dir) / CURRENT, node_name)


def valid_certificate(path: Path, node_name: str) -> ClientCertificate | None:
    """The key and certificate in `path`, if the certificate is this node's and still valid."""
    try:
        data = path.read_bytes()
        cert = x509.load_pem_x509_certificate(data)
        serialization.load_pem_private_key(data, password=None)
    except (OSError, ValueError):
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != node_user(node_name):
        return None
    if cert.not_valid_after_utc <= datetime.datetime.now(datetime.UTC):
        return None
    return ClientCertificate(path)


def request_name(key: ec.EllipticCurvePrivateKey, node_name: str) -> str:
    """client-go's digestedName: SHA-512/256 over the public key, the subject's CN and O and the
    usages, each base64url without padding and then '|'."""
    digest = hashlib.new("sha512_256")

    def write(data: bytes) -> None:
        digest.update(base64.urlsafe_b64encode(data).rstrip(b"="))
        digest.update(b"|")

    write(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    write(node_user(node_name).encode())
    write(NODES_GROUP.encode())
    for usage in USAGES:
        write(usage.encode())
    return "node-csr-" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def signing_request(key: ec.EllipticCurvePrivateKey, node_name: str) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, NODES_GROUP),
            x509.NameAttribute(NameOID.COMMON_NAME, node_user(node_name)),
        ]
    )
    built = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return built.public_bytes(serialization.Encoding.PEM)


async def bootstrap(
    requests: ResourceClient[CSR],
    node_name: str,
    cert_dir: str,
    *,
    timeout: float | None = None,
) -> ClientCertificate:
    """The node's client certificate: the kept one while valid, else a new one requested through
    `requests` (a client that authenticates with the bootstrap token) and kept."""
    kept = current_certificate(cert_dir, node_name)
    if kept is not None:
        return kept
    key = ec.generate_private_key(ec.SECP256R1())
    name = request_name(key, node_name)
    csr = CSR(
        metadata=meta_pb2.ObjectMeta(name=name),
        spec=certificates_pb2.CertificateSigningRequestSpec(
            request=signing_request(key, node_name), signer_name=SIGNER, usages=list(USAGES)
        ),
    )
    try:
        await requests.create(csr)
        log.info("requested a client certificate for node %s: %s", node_name, name)
    except Exception as e:
        if not is_already_exists(e):
            raise
    async with asyncio.timeout(timeout):
        certificate = await issued(requests, name)
    return keep(cert_dir, "kubelet-client", CURRENT, key, certificate)


async def issued(requests: ResourceClient[CSR], name: str) -> bytes:
    """The certificate once the request is issued; a BootstrapError once it is denied or
    failed."""
    while True:
        csr = await requests.get(name)
        for condition in csr.status.conditions:
            if condition.type in ("Denied", "Failed") and condition.status == "True":
                raise BootstrapError(
                    f"certificate request {name} was {condition.type.lower()}: "
                    f"{condition.reason} {condition.message}".rstrip()
                )
        if csr.status.certificate:
            return bytes(csr.status.certificate)
        await asyncio.sleep(POLL_SECONDS)


def keep(
    cert_dir: str, prefix: str, current: str, key: ec.EllipticCurvePrivateKey, certificate: bytes
) -> ClientCertificate:
    """Writes the key and the issued chain to one PEM file (owner-only), <prefix>-<time>.pem,
    and makes it `current` (a symlink)."""
    folder = Path(cert_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M-%S")
    path = folder / f"{prefix}-{stamp}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem + certificate)
    link = folder / current
    staged = folder / f".{current}.new"
    staged.unlink(missing_ok=True)
    staged.symlink_to(path.name)
    staged.replace(link)
    return ClientCertificate(link)
