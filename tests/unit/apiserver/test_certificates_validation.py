"""CertificateSigningRequest rules in Kubernetes' words: the request a PEM CERTIFICATE REQUEST
whose signature holds, the signer a qualified name, usages known and once, at least 600 s;
Approved and Denied exclusive and True, each condition type once; the certificate only through
status, once; the Approved and Denied conditions only through approval."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apiserver.validation import certificates as v
from podplane.api.certificates.v1 import certificates_pb2
from podplane.apimachinery import manifest
from podplane.componentbase import pki
from tests import x509_requests

REQUEST = x509_requests.request_pem("jane", ("devs",))
CSR = certificates_pb2.CertificateSigningRequest


def csr(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> CSR:
    obj = manifest.from_dict(
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "jane"},
            "spec": {
                "request": base64.b64encode(REQUEST).decode(),
                "signerName": "example.com/signer",
                "usages": ["client auth"],
                **(spec or {}),
            },
            **({"status": status} if status is not None else {}),
        }
    )
    assert isinstance(obj, CSR)
    return obj


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def messages(errs: list[Any]) -> list[str]:
    return [str(e) for e in errs]


@pytest.mark.parametrize(
    "obj, want",
    [
        (csr(), []),
        (csr({"expirationSeconds": 600, "usages": ["digital signature", "client auth"]}), []),
        (
            csr({"usages": []}),
            ["spec.usages: Required value"],
        ),
        (
            csr({"usages": ["client auth", "client auth"]}),
            ['spec.usages[1]: Duplicate value: "client auth"'],
        ),
        (
            csr({"expirationSeconds": 599}),
            [
                "spec.expirationSeconds: Invalid value: 599: may not specify a duration less "
                "than 600 seconds (10 minutes)"
            ],
        ),
        (csr({"signerName": ""}), ["spec.signerName: Required value"]),
        (
            csr({"signerName": "signer"}),
            [
                'spec.signerName: Invalid value: "signer": must be a fully qualified domain and '
                "path of the form 'example.com/signer-name'"
            ],
        ),
        (
            csr({"signerName": "example/signer"}),
            [
                'spec.signerName: Invalid value: "example": should be a domain with at least '
                "two segments separated by dots"
            ],
        ),
        (
            csr({"signerName": "kubernetes.io/legacy-unknown"}),
            [
                'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy '
                "signerName is not allowed via this API version"
            ],
        ),
        (
            csr(status={"conditions": [{"type": "Approved", "status": "False"}]}),
            ['status.conditions[0].status: Unsupported value: "False": supported values: "True"'],
        ),
        (
            csr(
                status={
                    "conditions": [
                        {"type": "Approved", "status": "True"},
                        {"type": "Denied", "status": "True"},
                    ]
                }
            ),
            [
                'status.conditions[1].type: Invalid value: "Denied": Approved and Denied '
                "conditions are mutually exclusive"
            ],
        ),
        (
            csr(
                status={
                    "conditions": [
                        {"type": "Failed", "status": "True"},
                        {"type": "Failed", "status": "True"},
                    ]
                }
            ),
            ['status.conditions[1].type: Duplicate value: "Failed"'],
        ),
        (
            csr(status={"conditions": [{"type": "", "status": ""}]}),
            [
                "status.conditions[0].type: Required value",
                "status.conditions[0].status: Required value",
            ],
        ),
        (
            csr(status={"certificate": b64(b"not a certificate")}),
            [
                'status.certificate: Invalid value: "<certificate data>": must contain at least '
                "one CERTIFICATE PEM block"
            ],
        ),
        (
            csr(status={"certificate": b64(REQUEST)}),
            [
                'status.certificate: Invalid value: "<certificate data>": only CERTIFICATE PEM '
                'blocks are allowed, found "CERTIFICATE REQUEST"'
            ],
        ),
    ],
)
def test_create(obj: CSR, want: list[str]) -> None:
    assert messages(v.certificate_signing_request(obj)) == want


def test_the_usages_must_be_known() -> None:
    (err,) = v.certificate_signing_request(csr({"usages": ["client auth", "flying"]}))
    assert str(err).startswith(
        'spec.usages[1]: Unsupported value: "flying": supported values: "any"'
    )


def test_a_request_that_is_not_a_pem_certificate_request_is_invalid() -> None:
    (err,) = v.certificate_signing_request(csr({"request": b64(b"hello")}))
    assert err.path == "spec.request"
    assert str(err).startswith("spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}")
    assert str(err).endswith("PEM block type must be CERTIFICATE REQUEST")


def test_a_request_whose_signature_does_not_hold_is_invalid() -> None:
    der = x509.load_pem_x509_csr(REQUEST).public_bytes(serialization.Encoding.DER)
    # The signature is the DER's last field: its last byte changed, the request still parses.
    forged = der[:-1] + bytes([der[-1] ^ 0x01])
    pem = (
        b"-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(forged)
        + b"-----END CERTIFICATE REQUEST-----\n"
    )
    (err,) = v.certificate_signing_request(csr({"request": b64(pem)}))
    assert err.path == "spec.request"
    assert str(err).endswith("x509: signature verification failure")


def approved(**fields: Any) -> dict[str, Any]:
    return {"type": "Approved", "status": "True", "reason": "OK", **fields}


def test_an_update_keeps_every_approved_denied_and_failed_condition() -> None:
    old = csr(status={"conditions": [approved(), {"type": "Failed", "status": "True"}]})
    new = csr(status={"conditions": [approved()]})
    assert messages(v.certificate_signing_request_status_update(new, old)) == [
        'status.conditions: Forbidden: updates may not remove a condition of type "Failed"'
    ]


def test_only_the_approval_adds_or_changes_approved_and_denied() -> None:
    old = csr()
    new = csr(status={"conditions": [approved()]})
    assert v.certificate_signing_request_approval_update(new, old) == []
    assert messages(v.certificate_signing_request_status_update(new, old)) == [
        'status.conditions: Forbidden: updates may not add a condition of type "Approved"'
    ]
    changed = csr(status={"conditions": [approved(reason="Other")]})
    assert messages(v.certificate_signing_request_update(changed, new)) == [
        'status.conditions: Forbidden: updates may not modify a condition of type "Approved"'
    ]


def test_only_status_sets_the_certificate_and_only_once(ca_certificate: bytes) -> None:
    old = csr(status={"conditions": [approved()]})
    issued = csr(status={"conditions": [approved()], "certificate": b64(ca_certificate)})
    assert v.certificate_signing_request_status_update(issued, old) == []
    assert messages(v.certificate_signing_request_approval_update(issued, old)) == [
        "status.certificate: Forbidden: updates may not set certificate content"
    ]
    again = csr(
        status={"conditions": [approved()], "certificate": b64(ca_certificate + ca_certificate)}
    )
    assert messages(v.certificate_signing_request_status_update(again, issued)) == [
        "status.certificate: Forbidden: updates may not modify existing certificate content"
    ]


@pytest.fixture
def ca_certificate(tmp_path: Path) -> bytes:
    cert, _ = pki.ensure_ca(tmp_path)
    return cert.public_bytes(serialization.Encoding.PEM)
