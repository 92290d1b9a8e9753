"""Client-certificate users (k8s.io/apiserver/pkg/authentication/request/x509): the verified
certificate's subject CN is the user name, each O a group. gRPC has verified the chain against
--client-ca-file during the handshake and gives the subject in the call's auth context."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from apiserver.auth.user import UserInfo
from podplane.componentbase.x509_subject import name_and_groups, parse_rfc2253, peer_subject

__all__ = ["parse_rfc2253", "user_from_auth_context", "user_from_subject"]


def user_from_subject(subject: str) -> UserInfo | None:
    parsed = name_and_groups(subject)
    return UserInfo(*parsed) if parsed else None


def user_from_auth_context(auth_context: Mapping[str, Sequence[bytes]]) -> UserInfo | None:
    """The user of a verified client certificate, or None (no certificate on this connection)."""
    subject = peer_subject(auth_context)
    return user_from_subject(subject) if subject is not None else None
