"""What a request is in Kubernetes' terms (k8s.io/apiserver/pkg/endpoints/request.RequestInfo),
whichever door it came through: a gRPC Pods/Create and an HTTP POST to /api/v1/namespaces/x/pods
are both a POST ("create") on pods. Metrics, the in-flight limit and authorization all read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apiserver import errors
from apiserver.flowcontrol.max_inflight import MUTATING, READ_ONLY
from podplane.apimachinery.resources import Resource

# The served resource a (group, version, plural) names, built-in or custom (None: none): the
# server's registry of served resources answers it (apiserver/registry/served.py).
Resolver = Callable[[str, str, str], Resource | None]

# kube-apiserver's limit on a request body (MaxRequestBodyBytes, 3 MiB): the gRPC server refuses a
# larger message with RESOURCE_EXHAUSTED before decoding it. Stored objects are smaller still
# (registry.generic.codec.MAX_OBJECT_BYTES, etcd's 1.5 MiB).
MAX_REQUEST_BYTES = 3 * 1024 * 1024

_MUTATING_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AUTHORIZATION_VERBS = {
    "POST": "create",
    "GET": "get",
    "LIST": "list",
    "WATCH": "watch",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclass(frozen=True)
class RequestInfo:
    """The verb is the HTTP method, except LIST and WATCH (apiserver metrics.CleanVerb)."""

    verb: str
    resource: str
    subresource: str = ""
    long_running: bool = False
    # The request's API group and whether its resource is namespaced, when the request names
    # them (a custom resource's); None: the built-in kind of that plural's.
    group: str | None = None
    namespaced: bool | None = None
    # A method of the CustomObjects service: its resource is the request's (custom_request_info).
    per_request: bool = False

    @property
    def request_kind(self) -> str:
        """readOnly or mutating: which in-flight limit the request counts against."""
        return MUTATING if self.verb in _MUTATING_VERBS else READ_ONLY

    @property
    def authorization_verb(self) -> str:
        """The verb an authorizer decides on: create, get, list, watch, update, delete."""
        return _AUTHORIZATION_VERBS.get(self.verb, self.verb.lower())


def undecodable_error(reason: str) -> errors.APIError:
    """A request body that is not the request's message: 400 BadRequest."""
    return errors.bad_request(f"the request body could not be decoded: {reason}")
