"""What a gRPC request is in Kubernetes' terms (k8s.io/apiserver/pkg/endpoints/request.RequestInfo):
Pods/Create is a POST ("create") on pods, Pods/Bind a POST on pods/binding, Pods/UpdateStatus a PUT
("update") on pods/status. Metrics, the in-flight limit and authorization all read it."""
from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery import resources

READ_ONLY, MUTATING = "readOnly", "mutating"

_MUTATING_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# gRPC method -> (verb, subresource, long-running).
_METHODS: dict[str, tuple[str, str, bool]] = {
    # Kubernetes reports the HTTP method, except LIST and WATCH (apiserver metrics.CleanVerb).
    "Create": ("POST", "", False),
    "Get": ("GET", "", False),
    "List": ("LIST", "", False),
    "Watch": ("WATCH", "", True),
    "Update": ("PUT", "", False),
    "UpdateStatus": ("PUT", "status", False),
    "Delete": ("DELETE", "", False),
    "Bind": ("POST", "binding", False),
    "Log": ("GET", "log", True),
    "Exec": ("POST", "exec", True),
    "UpdateEphemeralContainers": ("PUT", "ephemeralcontainers", False),
    "Attach": ("POST", "attach", True),
}
_RESOURCES_BY_SERVICE = {r.service: r.plural for r in resources.ALL}
_AUTHORIZATION_VERBS = {"POST": "create", "GET": "get", "LIST": "list", "WATCH": "watch",
                        "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class RequestInfo:
    """What a request is in Kubernetes' terms (k8s.io/apiserver/pkg/endpoints/request.RequestInfo)."""
    verb: str
    resource: str
    subresource: str = ""
    long_running: bool = False

    @property
    def request_kind(self) -> str:
        return MUTATING if self.verb in _MUTATING_VERBS else READ_ONLY

    @property
    def authorization_verb(self) -> str:
        """The verb an authorizer decides on: create, get, list, watch, update, delete."""
        return _AUTHORIZATION_VERBS.get(self.verb, self.verb.lower())


def request_info(method: str) -> RequestInfo | None:
    """"/podplane.core.v1.Pods/Create" -> create on pods; None for services that serve no resource
    (health, reflection)."""
    service, _, name = method.lstrip("/").rpartition("/")
    plural = _RESOURCES_BY_SERVICE.get(service)
    if plural is None:
        return None
    verb, subresource, long_running = _METHODS.get(name, (name.lower(), "", False))
    return RequestInfo(verb, plural, subresource, long_running)
