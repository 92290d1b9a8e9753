"""TLS as a client of an ingress sees it: a CA of the test's own, its certificates for hosts as
kubernetes.io/tls Secrets, and a request with SNI verified against the CA (the ingress
controller's integration and end-to-end tests, and its benchmark's check)."""

from __future__ import annotations

import datetime
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podplane.api.core.v1 import core_pb2


def get_tls(
    port: int, host: str, path: str, cafile: str | None, address: str = "127.0.0.1"
) -> tuple[int, str, x509.Certificate]:
    """GET https://HOST/PATH through ADDRESS:PORT with SNI HOST, verified against `cafile`
    (None: not verified): (status, body, the certificate served)."""
    context = ssl.create_default_context(cafile=cafile)
    if cafile is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            tls.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, body.decode(), x509.load_der_x509_certificate(der)


@dataclass(frozen=True)
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    path: str

    @classmethod
    def make(cls, folder: Path) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ingress-test-ca")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        path = folder / "ca.crt"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, str(path))

    def issue(self, host: str) -> tuple[bytes, bytes]:
        """A certificate for `host` signed by this CA and its key, PEM."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def tls_secret(self, namespace: str, name: str, host: str) -> core_pb2.Secret:
        """A kubernetes.io/tls Secret with a certificate for `host` signed by this CA."""
        secret = core_pb2.Secret(type="kubernetes.io/tls")
        secret.metadata.name, secret.metadata.namespace = name, namespace
        secret.data["tls.crt"], secret.data["tls.key"] = self.issue(host)
        return secret
