"""A certificate whose names do not match, worded as Go's x509.HostnameError, and one out of
its validity, as Go's x509.CertificateInvalidError."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from apiserver.webhook.certificates import hostname_error, validity_error
from tests.unit.apiserver.webhook.webhook_server import EXPIRED_AT, make_pki

CN = ((("commonName", "hook.ns.svc"),),)


@pytest.mark.parametrize(
    ("host", "peer", "message"),
    [
        (
            "b.ns.svc",
            {"subject": CN, "subjectAltName": (("DNS", "a.ns.svc"), ("DNS", "a"))},
            "x509: certificate is valid for a.ns.svc, a, not b.ns.svc",
        ),
        (
            "10.0.0.2",
            {"subject": CN, "subjectAltName": (("IP Address", "10.0.0.1"),)},
            "x509: certificate is valid for 10.0.0.1, not 10.0.0.2",
        ),
        (
            "10.0.0.2",
            {"subject": CN, "subjectAltName": (("DNS", "a"),)},
            "x509: cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs",
        ),
        (
            "::1",
            {"subjectAltName": (("IP Address", "0:0:0:0:0:0:0:2\n"),)},
            "x509: certificate is valid for ::2, not ::1",
        ),
        (
            "hook.ns.svc",
            {"subject": CN},
            "x509: certificate relies on legacy Common Name field, use SANs instead",
        ),
        (
            "x.ns.svc",
            {"subject": CN},
            "x509: certificate is not valid for any names, but wanted to match x.ns.svc",
        ),
    ],
)
def test_a_name_mismatch_lists_the_certificates_names(
    host: str, peer: dict[str, object], message: str
) -> None:
    assert hostname_error(host, peer) == message


def test_a_leaf_out_of_its_validity_gives_its_dates(tmp_path: Path) -> None:
    make_pki(tmp_path, expired=True)
    der = x509.load_pem_x509_certificate((tmp_path / "server.crt").read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    after = datetime.datetime(2026, 11, 26, 21, 0, 0, tzinfo=datetime.UTC)
    before = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    inside = EXPIRED_AT - datetime.timedelta(days=1)
    assert validity_error(der, after) == (
        "x509: certificate has expired or is not yet valid: "
        "current time 2026-11-26T21:00:00Z is after 2025-01-02T03:04:05Z"
    )
    assert validity_error(der, before) == (
        "x509: certificate has expired or is not yet valid: "
        "current time 2024-01-01T00:00:00Z is before 2024-12-03T03:04:05Z"
    )
    assert validity_error(der, inside) is None
