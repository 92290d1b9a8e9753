"""Signing with the cluster CA (kubernetes pkg/controller/certificates/authority): a certificate
of the request's subject, names and key, with the usages asked for, valid for the TTL from a
few minutes back (clock skew) and never past the CA itself."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

BACKDATE = datetime.timedelta(minutes=5)
# Below this TTL the backdate shrinks in proportion (5 minutes is about 1% of 8 hours).
SHORT = datetime.timedelta(hours=8)

_KEY_USAGES = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
_EXT_KEY_USAGES = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": ObjectIdentifier("2.16.840.1.113730.4.1"),
}


class UsageError(ValueError):
    pass


def _key_usage(usages: list[str]) -> tuple[x509.KeyUsage | None, list[ObjectIdentifier]]:
    """keyUsagesFromStrings: the KeyUsage bits and the extended key usages."""
    bits = dict.fromkeys(set(_KEY_USAGES.values()), False)
    extended: list[ObjectIdentifier] = []
    for u in usages:
        if u in _KEY_USAGES:
            bits[_KEY_USAGES[u]] = True
        elif u in _EXT_KEY_USAGES:
            if _EXT_KEY_USAGES[u] not in extended:
                extended.append(_EXT_KEY_USAGES[u])
        else:
            raise UsageError(f"unrecognized usage: {u}")
    if not any(bits.values()):
        return None, extended
    return x509.KeyUsage(**bits), extended


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @classmethod
    def load(cls, cert_file: str, key_file: str) -> CertificateAuthority:
        """--cluster-signing-cert-file and --cluster-signing-key-file."""
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), None)
        return cls(cert, key)  # type: ignore[arg-type]  # an issuer's key (EC, RSA, Ed25519)

    def sign(
        self,
        request: x509.CertificateSigningRequest,
        usages: list[str],
        ttl: datetime.timedelta,
        now: datetime.datetime | None = None,
    ) -> bytes:
        """The issued certificate as a PEM CERTIFICATE block."""
        now = now or datetime.datetime.now(datetime.UTC)
        backdate = BACKDATE if ttl >= SHORT else BACKDATE * (ttl / SHORT)
        not_before = now - backdate
        not_after = min(not_before + ttl, self.certificate.not_valid_after_utc)
        key_usage, extended = _key_usage(usages)
        builder = (
            x509.CertificateBuilder()
            .subject_name(request.subject)
            .issuer_name(self.certificate.subject)
            .public_key(request.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if key_usage is not None:
            builder = builder.add_extension(key_usage, critical=True)
        if extended:
            builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
        try:
            sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            builder = builder.add_extension(sans.value, critical=sans.critical)
        except x509.ExtensionNotFound:
            pass
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
            critical=False,
        )
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM)
