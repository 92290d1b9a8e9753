"""What API Priority and Fairness classifies a request by (k8s.io/apiserver/pkg/util/flowcontrol
RequestDigest): the request's Kubernetes attributes and its user, the same whichever door the
request came through. Each door builds one from what it knows before serving the request."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.auth.user import ANONYMOUS, UserInfo

READ_ONLY_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class RequestDigest:
    """A resource request (verb: get, list, watch, create, update, patch, delete,
    deletecollection; the resource, its API group, subresource, namespace and name) or a
    non-resource one (verb: the lower-cased HTTP method; the path)."""

    user: UserInfo
    verb: str
    resource: str = ""
    api_group: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    is_resource_request: bool = True
    path: str = ""

    @property
    def mutating(self) -> bool:
        return self.verb not in READ_ONLY_VERBS

    @property
    def watch(self) -> bool:
        return self.is_resource_request and self.verb == "watch"


def user_or_anonymous(user: UserInfo | None) -> UserInfo:
    """Who a request is classified as: its user; when no authentication is configured
    (--insecure-serving, in-process tests), Kubernetes' anonymous user, so such requests are
    limited like any unauthenticated caller's."""
    return ANONYMOUS if user is None else user
