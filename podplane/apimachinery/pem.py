"""PEM blocks and the X.509 objects in them, as the certificates API reads them (Go's
encoding/pem and crypto/x509): a certificate request must be a CERTIFICATE REQUEST block whose
signature holds, an issued certificate a run of CERTIFICATE blocks."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

_BLOCK = re.compile(
    rb"-----BEGIN ([^\r\n-]*)-----\r?\n(.*?)-----END \1-----[ \t]*\r?\n?", re.DOTALL
)


@dataclass(frozen=True)
class Block:
    type: str
    headers: dict[str, str]
    data: bytes


def _parse(match: re.Match[bytes]) -> Block | None:
    body = match.group(2)
    headers: dict[str, str] = {}
    lines = body.splitlines()
    if lines and b":" in lines[0]:  # RFC 1421 headers, then a blank line, then the data
        while lines and lines[0].strip():
            key, _, value = lines.pop(0).decode("latin-1").partition(":")
            headers[key.strip()] = value.strip()
    try:
        data = base64.b64decode(b"".join(line.strip() for line in lines), validate=True)
    except (binascii.Error, ValueError):
        return None
    return Block(match.group(1).decode("latin-1"), headers, data)


def decode(data: bytes) -> Block | None:
    """The first PEM block in `data` (pem.Decode), None if there is none."""
    for match in _BLOCK.finditer(data):
        block = _parse(match)
        if block is not None:
            return block
    return None


def decode_all(data: bytes) -> list[Block]:
    """The PEM blocks of `data` one after another, until one does not decode."""
    blocks: list[Block] = []
    for match in _BLOCK.finditer(data):
        block = _parse(match)
        if block is None:
            break
        blocks.append(block)
    return blocks


def parse_certificate_request(data: bytes) -> x509.CertificateSigningRequest:
    """certificates.ParseCSR: the request of a CERTIFICATE REQUEST PEM block; ValueError with
    Kubernetes' text if there is none or it does not parse."""
    block = decode(data)
    if block is None or block.type != "CERTIFICATE REQUEST":
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    try:
        return x509.load_der_x509_csr(block.data)
    except ValueError:
        raise ValueError("x509: malformed certificate request") from None


def certificate_request_error(data: bytes) -> str | None:
    """What is wrong with a CSR's spec.request (validateCSR), None if nothing."""
    try:
        request = parse_certificate_request(data)
    except ValueError as e:
        return str(e)
    try:
        if not request.is_signature_valid:
            return "x509: signature verification failure"
    except UnsupportedAlgorithm:
        return "x509: cannot verify signature: algorithm unimplemented"
    return None


def certificate_error(der: bytes) -> str | None:
    """What is wrong with one CERTIFICATE block's data (x509.ParseCertificates)."""
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return "x509: malformed certificate"
    return None


def common_name(request: x509.CertificateSigningRequest) -> str:
    """The subject's CN ("" without one)."""
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def organizations(request: x509.CertificateSigningRequest) -> list[str]:
    """The subject's O values, in order."""
    return [str(a.value) for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
