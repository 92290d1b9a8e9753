"""The authenticated caller of a request (k8s.io/apiserver/pkg/authentication/user.Info), set by
the authentication interceptor for the duration of one call and read by authorization and
admission."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
MASTERS_GROUP = "system:masters"
AUTHENTICATED_GROUP = "system:authenticated"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
ANONYMOUS_USER = "system:anonymous"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: frozenset[str] = frozenset()
    # The user's uid (a service account's), and what else the authenticator knows of the
    # credential (a bound token's pod and node), as user.Info's GetUID and GetExtra: (key,
    # values) pairs sorted by key, hashable as the user is.
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def node_name(self) -> str | None:
        """The node a kubelet's identity names (system:node:<name> in system:nodes), else None
        (k8s.io/kubernetes/pkg/auth/nodeidentifier)."""
        if NODES_GROUP in self.groups and self.name.startswith(NODE_USER_PREFIX):
            return self.name[len(NODE_USER_PREFIX) :] or None
        return None


# Who a request without credentials is (k8s.io/apiserver/pkg/authentication/request/anonymous),
# when anonymous requests are allowed (--anonymous-auth): authorized like anyone else.
ANONYMOUS = UserInfo(ANONYMOUS_USER, frozenset({UNAUTHENTICATED_GROUP}))

_current: contextvars.ContextVar[UserInfo | None] = contextvars.ContextVar(
    "podplane_apiserver_user", default=None
)


def current_user() -> UserInfo | None:
    """The caller of the request being served; None outside a request or without authentication."""
    return _current.get()


def set_current_user(user: UserInfo | None) -> contextvars.Token[UserInfo | None]:
    return _current.set(user)


def reset_current_user(token: contextvars.Token[UserInfo | None]) -> None:
    _current.reset(token)
