"""The service account keys (kube-apiserver's --service-account-signing-key-file and
--service-account-key-file): one RSA private key signs tokens; every public key in the key files
(PEM public keys, private keys, certificates) verifies them."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


class KeyFileError(ValueError):
    pass


def _read(flag: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise KeyFileError(f"{flag}: cannot read {path}: {e.strerror}") from None


def load_signing_key(path: str) -> rsa.RSAPrivateKey:
    flag = "--service-account-signing-key-file"
    try:
        key = serialization.load_pem_private_key(_read(flag, path), None)
    except ValueError as e:
        raise KeyFileError(f"{flag}: {path}: not a PEM private key: {e}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{flag}: {path}: an RSA key is required (tokens are signed RS256)")
    return key


def load_public_keys(path: str) -> list[rsa.RSAPublicKey]:
    """Every RSA public key of a PEM file; a file with none is an error, as Kubernetes'."""
    flag = "--service-account-key-file"
    keys: list[rsa.RSAPublicKey] = []
    for block in _PEM_BLOCK.finditer(_read(flag, path)):
        kind, pem = block.group(1), block.group(0)
        public: object
        try:
            if kind == b"CERTIFICATE":
                public = x509.load_pem_x509_certificate(pem).public_key()
            elif kind.endswith(b"PRIVATE KEY"):
                public = serialization.load_pem_private_key(pem, None).public_key()
            elif kind.endswith(b"PUBLIC KEY"):
                public = serialization.load_pem_public_key(pem)
            else:
                continue
        except ValueError as e:
            raise KeyFileError(f"{flag}: {path}: unreadable {kind.decode()}: {e}") from None
        if isinstance(public, rsa.RSAPublicKey):
            keys.append(public)
    if not keys:
        raise KeyFileError(f"{flag}: {path}: no RSA public key found")
    return keys
