"""What a request is in Kubernetes' terms (k8s.io/apiserver/pkg/endpoints/request.RequestInfo),
whichever door it came through: a gRPC Pods/Create and an HTTP POST to /api/v1/namespaces/x/pods
are both a POST ("create") on pods. Metrics, the in-flight limit and authorization all read it."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver import errors
from apiserver.flowcontrol.max_inflight import MUTATING, READ_ONLY

# kube-apiserver's limit on a request body (MaxRequestBodyBytes, 3 MiB): the gRPC server refuses a
# larger message with RESOURCE_EXHAUSTED before decoding it. Stored objects are smaller still
# (registry.store.MAX_OBJECT_BYTES, etcd's 1.5 MiB).
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
