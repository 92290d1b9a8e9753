"""The kubelet's serving certificate from the cluster's CA (kubelet --rotate-server-certificates,
serverTLSBootstrap in its config; pkg/kubelet/certificate/kubelet.go): the kubelet asks for one
with a CertificateSigningRequest to signer kubernetes.io/kubelet-serving, subject
`system:node:<name>` in `system:nodes`, usages digital signature and server auth, its names and
addresses as subject alternative names, made with its own client certificate. Kubernetes does not
approve such requests by itself: an administrator does (`kubectl certificate approve`; podplane's
join command does it for the node it adds). Kept in `<cert-dir>/kubelet-server-current.pem`, and
used on every start while it is valid and names the same addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelet.certificate.bootstrap import (
    CSR,
    NODES_GROUP,
    ClientCertificate,
    issued,
    keep,
    node_user,
    valid_certificate,
)
from podplane.api.certificates.v1 import certificates_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import ResourceClient

log = logging.getLogger(__name__)

SIGNER = "kubernetes.io/kubelet-serving"
USAGES = ("digital signature", "server auth")
CURRENT = "kubelet-server-current.pem"


def signing_request(
    key: ec.EllipticCurvePrivateKey, node_name: str, hostnames: list[str], addresses: list[str]
) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, NODES_GROUP),
            x509.NameAttribute(NameOID.COMMON_NAME, node_user(node_name)),
        ]
    )
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    built = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM)


def _names_all(path: Path, hostnames: list[str], addresses: list[str]) -> bool:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = set(sans.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in sans.get_values_for_type(x509.IPAddress)
    }
    return set(hostnames) | set(addresses) <= have


async def serving_certificate(
    requests: ResourceClient[CSR],
    node_name: str,
    addresses: list[str],
    cert_dir: str,
    *,
    timeout: float | None = None,
) -> ClientCertificate:
    """The kept serving certificate while valid and naming the node and `addresses`, else a new
    one requested through `requests` (a client with the node's own credentials) and kept."""
    hostnames = [node_name]
    kept = valid_certificate(Path(cert_dir) / CURRENT, node_name)
    if kept is not None and _names_all(kept.path, hostnames, addresses):
        return kept
    key = ec.generate_private_key(ec.SECP256R1())
    csr = CSR(
        metadata=meta_pb2.ObjectMeta(generate_name="csr-"),
        spec=certificates_pb2.CertificateSigningRequestSpec(
            request=signing_request(key, node_name, hostnames, addresses),
            signer_name=SIGNER,
            usages=list(USAGES),
        ),
    )
    created = await requests.create(csr)
    name = created.metadata.name
    log.info("requested a serving certificate for node %s: %s (to be approved)", node_name, name)
    async with asyncio.timeout(timeout):
        certificate = await issued(requests, name)
    return keep(cert_dir, "kubelet-server", CURRENT, key, certificate)
