"""The names of bootstrap tokens and their Secrets (k8s.io/cluster-bootstrap/token/api)."""

from __future__ import annotations

import re

SECRET_TYPE = "bootstrap.kubernetes.io/token"
SECRET_NAMESPACE = "kube-system"
SECRET_PREFIX = "bootstrap-token-"

TOKEN_ID_KEY = "token-id"
TOKEN_SECRET_KEY = "token-secret"
EXPIRATION_KEY = "expiration"
DESCRIPTION_KEY = "description"
EXTRA_GROUPS_KEY = "auth-extra-groups"
USAGE_PREFIX = "usage-bootstrap-"
USAGE_AUTHENTICATION_KEY = USAGE_PREFIX + "authentication"
USAGE_SIGNING_KEY = USAGE_PREFIX + "signing"
KNOWN_USAGES = ("signing", "authentication")

USER_PREFIX = "system:bootstrap:"
DEFAULT_GROUP = "system:bootstrappers"
# The group kubeadm gives the tokens it makes, which its RBAC bindings name.
KUBEADM_NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"

TOKEN_PATTERN = r"\A([a-z0-9]{6})\.([a-z0-9]{16})\Z"
GROUP_PATTERN = r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z"
# The patterns as Kubernetes' messages show them (Go's \z).
TOKEN_PATTERN_SHOWN = r"\A([a-z0-9]{6})\.([a-z0-9]{16})\z"
GROUP_PATTERN_SHOWN = r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z"
TOKEN_RE = re.compile(TOKEN_PATTERN)
GROUP_RE = re.compile(GROUP_PATTERN)


def secret_name(token_id: str) -> str:
    return SECRET_PREFIX + token_id
