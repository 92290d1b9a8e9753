"""A service account's user name and groups (k8s.io/apiserver/pkg/authentication/serviceaccount):
system:serviceaccount:<namespace>:<name>, in system:serviceaccounts and
system:serviceaccounts:<namespace>. Read by the apiserver's authentication, impersonation,
authorization and flow control, and by the controller-manager's clients per controller."""

from __future__ import annotations

import re

USERNAME_PREFIX = "system:serviceaccount:"
ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
GROUP_PREFIX = ALL_SERVICE_ACCOUNTS_GROUP + ":"

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def make_username(namespace: str, name: str) -> str:
    """serviceaccount.MakeUsername."""
    return f"{USERNAME_PREFIX}{namespace}:{name}"


def make_group_names(namespace: str) -> tuple[str, str]:
    """serviceaccount.MakeGroupNames: every account's group and its namespace's."""
    return ALL_SERVICE_ACCOUNTS_GROUP, GROUP_PREFIX + namespace


def split_username(user: str) -> tuple[str, str] | None:
    """The namespace and name of a service account's user name, else None
    (serviceaccount.SplitUsername: a namespace name and a service account name)."""
    if not user.startswith(USERNAME_PREFIX):
        return None
    parts = user[len(USERNAME_PREFIX) :].split(":")
    if len(parts) != 2:
        return None
    namespace, name = parts
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        return None
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return None
    return namespace, name
