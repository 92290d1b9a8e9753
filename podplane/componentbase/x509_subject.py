"""The subject of a verified client certificate, as gRPC gives it in a call's auth context
("x509_subject", RFC 2253: "CN=system:node:node-1,O=system:nodes"): Kubernetes reads CN as the
user and each O as a group. Shared by the apiserver's authenticator and the kubelet's API."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence


def parse_rfc2253(subject: str) -> list[tuple[str, str]]:
    """(type, value) pairs of an RFC 2253 distinguished name ("CN=a\\,b,O=x"), escapes undone."""
    pairs: list[tuple[str, str]] = []
    attr, value, in_value, i = "", "", False, 0
    hexdigits = "0123456789abcdefABCDEF"
    while i < len(subject):
        ch = subject[i]
        if ch == "\\" and i + 1 < len(subject):
            if subject[i + 1] in hexdigits and i + 2 < len(subject) and subject[i + 2] in hexdigits:
                value += chr(int(subject[i + 1 : i + 3], 16))
                i += 3
                continue
            value += subject[i + 1]
            i += 2
            continue
        if not in_value and ch == "=":
            in_value = True
        elif in_value and ch in ",+":
            pairs.append((attr.strip(), value))
            attr, value, in_value = "", "", False
        elif in_value:
            value += ch
        else:
            attr += ch
        i += 1
    if in_value:
        pairs.append((attr.strip(), value))
    return pairs


@functools.lru_cache(maxsize=4096)
def name_and_groups(subject: str) -> tuple[str, frozenset[str]] | None:
    """(CN, the Os) of a subject; None without a common name (Kubernetes refuses those). Cached:
    a cluster has few client certificates and every request names one (parsing costs ~90 us)."""
    pairs = parse_rfc2253(subject)
    names = [v for t, v in pairs if t.upper() == "CN"]
    if not names or not names[0]:
        return None
    return names[0], frozenset(v for t, v in pairs if t.upper() == "O" and v)


def peer_subject(auth_context: Mapping[str, Sequence[bytes]]) -> str | None:
    """The verified client certificate's subject of a call, or None (no certificate)."""
    subjects = auth_context.get("x509_subject") or []
    return subjects[0].decode("utf-8", "replace") if subjects else None


# The short names of the attributes Python's ssl module spells out in a peer certificate.
_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
}
_SPECIAL = ',+"\\<>;'


def _escape(value: str) -> str:
    out = "".join(f"\\{ch}" if ch in _SPECIAL else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def subject_from_peercert(cert: Mapping[str, object]) -> str | None:
    """The RFC 2253 subject of a peer certificate as Python's ssl module gives it
    (SSLObject.getpeercert(): {"subject": ((("commonName", "admin"),), ...)}); None when the peer
    sent none."""
    subject = cert.get("subject")
    if not isinstance(subject, tuple) or not subject:
        return None
    rdns = []
    for rdn in reversed(subject):  # RFC 2253 writes the last RDN first
        rdns.append("+".join(f"{_SHORT_NAMES.get(t, t)}={_escape(v)}" for t, v in rdn))
    return ",".join(rdns)
