"""Certificate signing requests made with real keys (the `cryptography` package), for the
certificates API's tests: what `openssl req` or a kubelet's bootstrap would send."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def request_pem(
    common_name: str,
    organizations: tuple[str, ...] = (),
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    dns_names: tuple[str, ...] = (),
) -> bytes:
    """A PEM CERTIFICATE REQUEST for the subject CN=common_name, O=each organization."""
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False
        )
    signed = builder.sign(key or new_key(), hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM)
