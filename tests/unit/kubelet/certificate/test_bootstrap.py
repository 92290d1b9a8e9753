"""TLS bootstrapping's pieces that need no apiserver: the request a kubelet makes (subject,
Kubernetes' request name from the key) and which kept certificate it uses again."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelet.certificate import serving
from kubelet.certificate.bootstrap import (
    CURRENT,
    current_certificate,
    keep,
    request_name,
    signing_request,
)


def test_the_request_names_the_node_and_its_name_comes_from_the_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.load_pem_x509_csr(signing_request(key, "node-4"))
    assert request.is_signature_valid
    subject = {a.oid: a.value for a in request.subject}
    assert subject == {
        NameOID.COMMON_NAME: "system:node:node-4",
        NameOID.ORGANIZATION_NAME: "system:nodes",
    }
    name = request_name(key, "node-4")
    assert name.startswith("node-csr-") and len(name) == len("node-csr-") + 43
    assert request_name(key, "node-4") == name  # a restarted kubelet finds its request again
    assert request_name(key, "node-5") != name
    assert request_name(ec.generate_private_key(ec.SECP256R1()), "node-4") != name


def issued(key: ec.EllipticCurvePrivateKey, common_name: str, days: int) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=2))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_a_kept_certificate_is_used_while_it_is_this_nodes_and_valid(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert current_certificate(str(tmp_path), "node-4") is None
    kept = keep(
        str(tmp_path), "kubelet-client", CURRENT, key, issued(key, "system:node:node-4", 30)
    )
    assert kept.path == tmp_path / CURRENT
    assert current_certificate(str(tmp_path), "node-4") == kept
    assert current_certificate(str(tmp_path), "node-5") is None  # another node's
    keep(str(tmp_path), "kubelet-client", CURRENT, key, issued(key, "system:node:node-4", -1))
    assert current_certificate(str(tmp_path), "node-4") is None  # expired


def test_the_serving_request_names_the_node_and_its_addresses() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.load_pem_x509_csr(
        serving.signing_request(key, "worker-1", ["worker-1"], ["10.250.0.21"])
    )
    assert request.is_signature_valid
    assert {a.oid: a.value for a in request.subject} == {
        NameOID.COMMON_NAME: "system:node:worker-1",
        NameOID.ORGANIZATION_NAME: "system:nodes",
    }
    sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["worker-1"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.250.0.21"]
