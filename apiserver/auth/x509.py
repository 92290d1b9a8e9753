"""Client-certificate users (k8s.io/apiserver/pkg/authentication/request/x509): the verified
certificate's subject CN is the user name, each O a group. gRPC has verified the chain against
--client-ca-file during the handshake and gives the subject in the call's auth context."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from apiserver.auth.user import UserInfo


def parse_rfc2253(subject: str) -> list[tuple[str, str]]:
    """(type, value) pairs of an RFC 2253 distinguished name ("CN=a\\,b,O=x"), escapes undone."""
    pairs: list[tuple[str, str]] = []
    attr, value, in_value, i = "", "", False, 0
    while i < len(subject):
        ch = subject[i]
        if ch == "\\" and i + 1 < len(subject):
            nxt = subject[i + 1]
            if (nxt in "0123456789abcdefABCDEF" and i + 2 < len(subject)
                    and subject[i + 2] in "0123456789abcdefABCDEF"):
                value += chr(int(subject[i + 1:i + 3], 16))
                i += 3
                continue
            value += nxt
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


def user_from_subject(subject: str) -> UserInfo | None:
    pairs = parse_rfc2253(subject)
    names = [v for t, v in pairs if t.upper() == "CN"]
    if not names or not names[0]:
        return None  # Kubernetes refuses a certificate without a common name
    groups = frozenset(v for t, v in pairs if t.upper() == "O" and v)
    return UserInfo(names[0], groups)


def user_from_auth_context(auth_context: Mapping[str, Sequence[bytes]]) -> UserInfo | None:
    """The user of a verified client certificate, or None (no certificate on this connection)."""
    subjects = auth_context.get("x509_subject") or []
    if not subjects:
        return None
    return user_from_subject(subjects[0].decode("utf-8", "replace"))
