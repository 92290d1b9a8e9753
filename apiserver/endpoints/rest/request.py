"""What an HTTP request asks for, in Kubernetes' terms (k8s.io/apiserver/pkg/endpoints/request's
RequestInfoFactory): /api/v1/namespaces/default/pods/jumpod/log is a "get" of pods/log named
jumpod in default; GET /apis/apps/v1/deployments?watch=1 a "watch" of deployments in every
namespace. Paths that name no resource (/version, /openapi/v3, /healthz) are non-resource
requests, authorized by path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from apiserver import errors
from apiserver.endpoints.request import RequestInfo, Resolver
from podplane.apimachinery import resources
from podplane.apimachinery.resources import ComputedResource, CreateOnlyResource, Resource

# Subresources whose requests hold a connection for as long as the client wants.
LONG_RUNNING_SUBRESOURCES = frozenset({"log", "exec", "attach", "portforward", "proxy"})
# namespaces/<name>/<x> names a subresource of the namespace for these, else a resource in it.
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})

_BY_GROUP_VERSION_PLURAL: dict[tuple[str, str, str], Resource] = {
    (r.api_version.rpartition("/")[0], r.api_version.rpartition("/")[2], r.plural): r
    for r in resources.ALL_VERSIONS
}


def builtin(group: str, version: str, plural: str) -> Resource | None:
    return _BY_GROUP_VERSION_PLURAL.get((group, version, plural))


_CREATE_ONLY: dict[tuple[str, str, str], CreateOnlyResource] = {
    (r.api_version.rpartition("/")[0], r.api_version.rpartition("/")[2], r.plural): r
    for r in resources.CREATE_ONLY
}


_COMPUTED: dict[tuple[str, str, str], ComputedResource] = {
    (r.group, r.version, r.plural): r for r in resources.COMPUTED
}


_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_INT64 = 2**63


def int64(value: object, name: str) -> int:
    """A query parameter or DeleteOptions field that is an int64, as Go's strconv.ParseInt reads
    it (no spaces, underscores or other digits than 0-9); a 400 naming it otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.match(value):
        number = int(value)
    else:
        raise errors.bad_request(f"{name}: Invalid value: {_quoted(value)}: must be an integer")
    if not -_INT64 <= number < _INT64:
        raise errors.bad_request(
            f"{name}: Invalid value: {_quoted(value)}: out of range for a 64-bit integer"
        )
    return number


def _quoted(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def optional_int64(query: Mapping[str, str], key: str) -> int | None:
    value = query.get(key)
    return None if value is None or value == "" else int64(value, key)


def truthy(value: str | None) -> bool:
    """A boolean query parameter as Kubernetes reads one (runtime.Convert_Slice_string_To_bool):
    absent, "0" and "false" (any case) are false; any other value, even an empty one, is true."""
    return value is not None and value != "0" and value.lower() != "false"


@dataclass(frozen=True)
class ResourceRequest:
    """A request for a resource: its verb (get, list, watch, create, update, patch, delete,
    deletecollection), the group version it came through, the resource (None: a plural the group
    version does not serve, or a create-only kind) and the namespace, name and subresource it
    names. A create-only kind's request (an access review) names it in `create_only`."""

    method: str
    verb: str
    group: str
    version: str
    plural: str
    resource: Resource | None
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    create_only: CreateOnlyResource | None = None
    # A computed kind's get or list (componentstatuses).
    computed: ComputedResource | None = None

    @property
    def long_running(self) -> bool:
        return self.verb == "watch" or self.subresource in LONG_RUNNING_SUBRESOURCES

    @property
    def info(self) -> RequestInfo:
        """The door-neutral request info metrics and the overload guard read: the verb is the
        HTTP method, but LIST and WATCH (apiserver metrics' CleanVerb)."""
        verb = {"list": "LIST", "watch": "WATCH"}.get(self.verb, self.method)
        return RequestInfo(verb, self.plural, self.subresource, self.long_running)


@dataclass(frozen=True)
class NonResourceRequest:
    """A request for a path that names no resource: discovery, OpenAPI, version, health."""

    method: str
    path: str

    @property
    def verb(self) -> str:
        return self.method.lower()


def _verb(method: str, named: bool, query: Mapping[str, str]) -> str:
    if method in ("GET", "HEAD"):
        if named:
            return "get"  # ?watch on an object's own path is a get: watch one with /watch/...
        return "watch" if truthy(query.get("watch")) else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def parse(
    method: str, path: str, query: Mapping[str, str], resolve: Resolver = builtin
) -> ResourceRequest | NonResourceRequest:
    """The request a method and path make (the path without its query string)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return NonResourceRequest(method, path)
    watch_prefix = rest[0] == "watch"  # the deprecated /watch/ paths
    if watch_prefix:
        rest = rest[1:]
        if not rest:
            return NonResourceRequest(method, path)
    namespace = ""
    in_namespace = False  # the path is /namespaces/<namespace>/<resource>...
    if rest[0] == "namespaces" and len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
        namespace, rest, in_namespace = rest[1], rest[2:], True
    plural = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 else ""
    verb = "watch" if watch_prefix else _verb(method, bool(name), query)
    resource = resolve(group, version, plural)
    if resource is not None and not _routed(resource, in_namespace, rest, watch_prefix):
        resource = None
    create_only = _CREATE_ONLY.get((group, version, plural))
    if create_only is not None and (
        len(rest) > 1 or watch_prefix or create_only.namespaced != in_namespace
    ):
        create_only = None  # only the collection is served, in a namespace when namespaced
    computed = _COMPUTED.get((group, version, plural))
    if computed is not None and (len(rest) > 2 or in_namespace != computed.namespaced):
        computed = None  # the collection and its objects, no subresource
    return ResourceRequest(
        method,
        verb,
        group,
        version,
        plural,
        resource,
        namespace,
        name,
        subresource,
        create_only,
        computed,
    )


def _proxied(rest: list[str]) -> bool:
    """nodes/<name>/proxy/<path...>: the path after the subresource is the kubelet's."""
    return len(rest) > 3 and rest[0] == "nodes" and rest[2] == "proxy"


def _routed(resource: Resource, in_namespace: bool, rest: list[str], watch_prefix: bool) -> bool:
    """Whether Kubernetes serves a path of this shape for the resource (else: 404). A namespaced
    kind is reached in a namespace, or across every namespace for a list or watch only
    (/api/v1/pods); a cluster-scoped one never in a namespace; a subresource is the last part
    (and the /watch/ paths have none)."""
    if len(rest) > (2 if watch_prefix else 3) and not (_proxied(rest) and not watch_prefix):
        return False
    if resource.namespaced:
        return in_namespace or len(rest) == 1
    return not in_namespace
