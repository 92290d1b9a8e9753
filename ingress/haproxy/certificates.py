"""The certificates' files: the fake certificate served to names no Ingress has one for (as
ingress-nginx's, self-signed, "Kubernetes Ingress Controller Fake Certificate", made at start),
and each TLS Secret's chain and key as one PEM file, as HAProxy reads them."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FAKE_COMMON_NAME = "Kubernetes Ingress Controller Fake Certificate"
FAKE_ORGANIZATION = "Acme Co"
FAKE_DNS_NAME = "ingress.local"


def fake_certificate() -> bytes:
    """A self-signed certificate and its key, PEM, valid a year (ingress-nginx's
    ssl.GetFakeSSLCert)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, FAKE_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, FAKE_COMMON_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(FAKE_DNS_NAME)]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM) + key_pem


def write_if_changed(path: Path, content: bytes) -> bool:
    """Writes the file through a temporary one and a rename; False when it already held that."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.replace(tmp, path)
    return True
