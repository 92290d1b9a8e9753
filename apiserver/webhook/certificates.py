"""A server certificate that failed verification, worded as Go's crypto/tls and crypto/x509 word
it (`tls: failed to verify certificate: x509: certificate signed by unknown authority`,
`... x509: certificate is valid for a.example.com, not hook.ns.svc`).

OpenSSL reports a name mismatch without the certificate's names, and an expired certificate
without its dates, which Go's texts give; so for those failures the certificate is fetched again
over a connection that checks the chain only (or nothing, for the dates), and closed before
anything is sent."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

from cryptography import x509

# OpenSSL's verification results that Go reports as an unknown authority.
UNKNOWN_AUTHORITY = frozenset({2, 18, 19, 20, 21})
HOSTNAME_MISMATCH = 62
OUT_OF_VALIDITY = frozenset({9, 10})  # not yet valid, expired
PREFIX = "tls: failed to verify certificate: "


def verification_text(err: ssl.SSLCertVerificationError) -> str:
    """The text for a failure other than a name mismatch."""
    if err.verify_code in UNKNOWN_AUTHORITY:
        return PREFIX + "x509: certificate signed by unknown authority"
    return PREFIX + f"x509: {err.verify_message}"


# Go's crypto/tls alert texts, by OpenSSL's alert reason.
_ALERTS = {
    "HANDSHAKE_FAILURE": "handshake failure",
    "BAD_CERTIFICATE": "bad certificate",
    "UNKNOWN_CA": "unknown certificate authority",
    "PROTOCOL_VERSION": "protocol version not supported",
    "INTERNAL_ERROR": "internal error",
    "CERTIFICATE_REQUIRED": "certificate required",
    "NO_APPLICATION_PROTOCOL": "no application protocol",
    "UNRECOGNIZED_NAME": "unrecognized name",
    "ACCESS_DENIED": "access denied",
}


def handshake_text(err: OSError) -> str:
    """A handshake that failed other than by verification: an answer in plain HTTP (Go's
    ErrSchemeMismatch), or the alert the server sent (`remote error: tls: ...`)."""
    reason = str(getattr(err, "reason", "") or "")
    if reason == "WRONG_VERSION_NUMBER":
        return "http: server gave HTTP response to HTTPS client"
    for prefix in ("TLSV1_ALERT_", "SSLV3_ALERT_", "TLSV13_ALERT_"):
        if reason.startswith(prefix) and reason[len(prefix) :] in _ALERTS:
            return f"remote error: tls: {_ALERTS[reason[len(prefix) :]]}"
    return f"tls: {err}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _pairs(value: object) -> list[tuple[str, str]]:
    """getpeercert()'s ((key, value), ...) tuples."""
    if not isinstance(value, tuple):
        return []
    return [(str(p[0]), str(p[1]).strip()) for p in value if isinstance(p, tuple) and len(p) == 2]


def hostname_error(host: str, peer: dict[str, object]) -> str:
    """x509.HostnameError's text for the certificate `peer` (ssl's getpeercert() form)."""
    pairs = _pairs(peer.get("subjectAltName"))
    dns_names = [value for kind, value in pairs if kind == "DNS"]
    ips = [str(ipaddress.ip_address(value)) for kind, value in pairs if kind == "IP Address"]
    subject = peer.get("subject")
    rdns = subject if isinstance(subject, tuple) else ()
    common_names = [value for rdn in rdns for key, value in _pairs(rdn) if key == "commonName"]
    if not pairs and host in common_names:
        return "x509: certificate relies on legacy Common Name field, use SANs instead"
    if _is_ip(host):
        if not ips:
            return (
                f"x509: cannot validate certificate for {host} "
                "because it doesn't contain any IP SANs"
            )
        valid = ", ".join(ips)
    else:
        valid = ", ".join(dns_names)
    if not valid:
        return f"x509: certificate is not valid for any names, but wanted to match {host}"
    return f"x509: certificate is valid for {valid}, not {host}"


async def _peer_certificate(
    ca_bundle: bytes, address: tuple[str, int], server_name: str, verify: bool
) -> dict[str, object] | bytes | None:
    """The certificate the server at `address` presents, over a connection that checks the
    chain only (`verify`: getpeercert()'s dict) or nothing (its DER); closed before anything is
    sent. None when it cannot be fetched."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if ca_bundle:
        probe.load_verify_locations(cadata=ca_bundle.decode("ascii", "replace"))
    else:
        probe.load_default_certs()
    try:
        _, writer = await asyncio.open_connection(
            address[0], address[1], ssl=probe, server_hostname=server_name
        )
    except (OSError, ssl.SSLError):
        return None
    try:
        if verify:
            peer = writer.get_extra_info("peercert")
            return dict(peer) if isinstance(peer, dict) else None
        ssl_object = writer.get_extra_info("ssl_object")
        return ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity_error(der: bytes, now: datetime.datetime) -> str | None:
    """x509.CertificateInvalidError's text (Expired) for a leaf outside its validity."""
    cert = x509.load_der_x509_certificate(der)
    if now < cert.not_valid_before_utc:
        detail = f"current time {_rfc3339(now)} is before {_rfc3339(cert.not_valid_before_utc)}"
    elif now > cert.not_valid_after_utc:
        detail = f"current time {_rfc3339(now)} is after {_rfc3339(cert.not_valid_after_utc)}"
    else:
        return None  # a CA in the chain is the one out of its validity
    return f"x509: certificate has expired or is not yet valid: {detail}"


async def detailed_text(
    err: ssl.SSLCertVerificationError,
    ca_bundle: bytes,
    address: tuple[str, int],
    server_name: str,
) -> str | None:
    """Go's text for a failure whose wording needs the certificate (a name mismatch, a leaf
    out of its validity), None for the others or when the certificate cannot be fetched."""
    if err.verify_code == HOSTNAME_MISMATCH:
        peer = await _peer_certificate(ca_bundle, address, server_name, verify=True)
        return PREFIX + hostname_error(server_name, peer) if isinstance(peer, dict) else None
    if err.verify_code in OUT_OF_VALIDITY:
        der = await _peer_certificate(ca_bundle, address, server_name, verify=False)
        if isinstance(der, bytes):
            text = validity_error(der, datetime.datetime.now(datetime.UTC))
            return PREFIX + text if text is not None else None
    return None
