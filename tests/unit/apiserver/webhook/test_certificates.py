"""A certificate whose names do not match, worded as Go's x509.HostnameError."""

from __future__ import annotations

import pytest

from apiserver.webhook.certificates import hostname_error

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
