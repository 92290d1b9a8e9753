"""Client-certificate users (k8s.io/apiserver/pkg/authentication/request/x509): the verified
certificate's subject CN is the user name, each O a group. The front door has verified the chain
against --client-ca-file during the handshake and gives the subject."""

from __future__ import annotations

from apiserver.auth.user import UserInfo
from podplane.componentbase.x509_subject import name_and_groups, parse_rfc2253

__all__ = ["parse_rfc2253", "user_from_subject"]


def user_from_subject(subject: str) -> UserInfo | None:
    parsed = name_and_groups(subject)
    return UserInfo(*parsed) if parsed else None
