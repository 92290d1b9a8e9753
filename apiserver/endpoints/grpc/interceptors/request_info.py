"""What a gRPC method is in Kubernetes' terms: Pods/Create is a POST ("create") on pods, Pods/Bind a
POST on pods/binding, Pods/Evict a POST on pods/eviction, Pods/UpdateStatus a PUT ("update") on
pods/status."""

from __future__ import annotations

from dataclasses import replace

from google.protobuf.message import Message

from apiserver.endpoints.request import RequestInfo, Resolver
from podplane.apimachinery import resources

# gRPC method -> (verb, subresource, long-running).
_METHODS: dict[str, tuple[str, str, bool]] = {
    # Kubernetes reports the HTTP method, except LIST and WATCH (apiserver metrics.CleanVerb).
    "Create": ("POST", "", False),
    "Get": ("GET", "", False),
    "List": ("LIST", "", False),
    "Watch": ("WATCH", "", True),
    "Update": ("PUT", "", False),
    "UpdateStatus": ("PUT", "status", False),
    "UpdateApproval": ("PUT", "approval", False),
    "Delete": ("DELETE", "", False),
    "Bind": ("POST", "binding", False),
    # A request stream: each binding it carries is a Bind (request_stream.py).
    "BindStream": ("POST", "binding", False),
    # A request stream: each object it carries (an event, a pod) is a Create.
    "CreateStream": ("POST", "", False),
    "Log": ("GET", "log", True),
    "Exec": ("POST", "exec", True),
    "UpdateEphemeralContainers": ("PUT", "ephemeralcontainers", False),
    "Attach": ("POST", "attach", True),
    "CreateToken": ("POST", "token", False),
    "Evict": ("POST", "eviction", False),
}
# Services that serve no resource, authorized as the non-resource path they stand for:
# reflection (the services, their methods and messages) is the gRPC door's discovery and OpenAPI
# document, which system:discovery grants every authenticated user and no anonymous one. The
# health service is left to authentication (open while anonymous requests are allowed).
_NON_RESOURCE_PATHS = (("/grpc.reflection.", "/openapi/v3"),)
_RESOURCES_BY_SERVICE = {r.service: r.plural for r in (*resources.SERVED, *resources.COMPUTED)}
# The services of a plural's other served versions, and their group: an events.k8s.io/v1 Events
# call is authorized in events.k8s.io, not in the core group its plural names by default.
_OTHER_VERSION_GROUPS = {r.service: r.group for r in resources.OTHER_VERSIONS}


def request_info(method: str) -> RequestInfo | None:
    """What a call is about: "/podplane.core.v1.Pods/Create" -> create on pods; None for services
    that serve no resource (health, reflection). A CustomObjects call's resource is the
    request's: its info says so (per_request) and custom_request_info completes it."""
    service, _, name = method.lstrip("/").rpartition("/")
    if service == resources.CUSTOM_OBJECTS_SERVICE:
        verb, subresource, long_running = _METHODS.get(name, (name.lower(), "", False))
        return RequestInfo(verb, "", subresource, long_running, per_request=True)
    plural = _RESOURCES_BY_SERVICE.get(service)
    if plural is None:
        return None
    verb, subresource, long_running = _METHODS.get(name, (name.lower(), "", False))
    group = _OTHER_VERSION_GROUPS.get(service)
    return RequestInfo(verb, plural, subresource, long_running, group=group)


def non_resource_path(method: str) -> str | None:
    """The non-resource path a method is authorized as ("/openapi/v3" for reflection), else
    None."""
    for prefix, path in _NON_RESOURCE_PATHS:
        if method.startswith(prefix):
            return path
    return None


def custom_request_info(info: RequestInfo, request: Message, resolve: Resolver) -> RequestInfo:
    """A CustomObjects call's info: the group and plural its request names, and whether that
    resource is namespaced."""
    group: str = getattr(request, "group", "")
    version: str = getattr(request, "version", "")
    plural: str = getattr(request, "plural", "")
    resource = resolve(group, version, plural)
    return replace(
        info,
        resource=plural,
        group=group,
        namespaced=resource.namespaced if resource is not None else None,
    )
