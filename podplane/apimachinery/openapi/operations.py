"""The REST API's paths and operations, as Kubernetes' apiserver installs them for each resource
(k8s.io/apiserver/pkg/endpoints/installer.go): the collection (list, create, deletecollection),
the object (read, replace, patch, delete), the list across namespaces and the subresources, with
Kubernetes' operation ids, query parameters and the x-kubernetes-action and
x-kubernetes-group-version-kind extensions kubectl looks operations up by.

Operations are described once, here, and rendered as Swagger 2.0 or OpenAPI 3.0 by documents.py."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.openapi import metatypes
from podplane.apimachinery.openapi.schemas import message_name
from podplane.apimachinery.resources import CreateOnlyResource, Resource

# The subresources each resource serves, as apiserver/endpoints/rest/discovery.py's SUBRESOURCES
# lists them (machinery cannot import a service; a unit test holds the two tables equal).
SUBRESOURCES: dict[str, tuple[str, ...]] = {
    "pods": (
        "status",
        "binding",
        "log",
        "exec",
        "attach",
        "portforward",
        "ephemeralcontainers",
        "eviction",
    ),
    "nodes": ("status",),
    "namespaces": ("status",),
    "replicationcontrollers": ("status", "scale"),
    "replicasets": ("status", "scale"),
    "deployments": ("status", "scale"),
    "statefulsets": ("status", "scale"),
    "jobs": ("status",),
    "persistentvolumes": ("status",),
    "persistentvolumeclaims": ("status",),
    "services": ("status",),
    "serviceaccounts": ("token",),
    "poddisruptionbudgets": ("status",),
    "certificatesigningrequests": ("approval", "status"),
}

# Kinds whose DELETE answers with the object (its deletionTimestamp set) rather than a Status,
# as Kubernetes' registries for them do.
DELETE_RETURNS_OBJECT = frozenset(
    {"pods", "persistentvolumes", "persistentvolumeclaims", "storageclasses"}
)

JSON = "application/json"
WATCH_STREAM = "application/json;stream=watch"
ANY = "*/*"
TEXT = "text/plain"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
# A custom resource's: no strategic merge patch (kubectl apply sends a merge patch when the
# operation does not list it).
CUSTOM_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path" or "query"
    type: str  # "string", "integer" or "boolean"
    description: str

    @property
    def required(self) -> bool:
        return self.location == "path"


@dataclass(frozen=True)
class Response:
    code: str
    description: str
    # The definition the body is; None for a plain string (logs, streams).
    definition: str | None


@dataclass(frozen=True)
class GroupVersionKind:
    group: str
    version: str
    kind: str

    def as_json(self) -> dict[str, str]:
        return {"group": self.group, "version": self.version, "kind": self.kind}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    description: str
    tag: str
    # x-kubernetes-action: get, list, post, put, patch, delete, deletecollection, connect.
    action: str | None
    kind: GroupVersionKind | None
    parameters: tuple[Parameter, ...]
    responses: tuple[Response, ...]
    produces: tuple[str, ...]
    body: str | None = None
    body_required: bool = True
    consumes: tuple[str, ...] = (ANY,)


Paths = dict[str, dict[str, Operation]]  # path -> method (get, put, post, patch, delete) -> op


def _query(name: str, type_: str, description: str) -> Parameter:
    return Parameter(name, "query", type_, description)


NAMESPACE = Parameter(
    "namespace",
    "path",
    "string",
    "The namespace of the objects: a scope for names and for access control.",
)
PRETTY = _query("pretty", "string", "If 'true', the response is indented for people to read.")
LABEL_SELECTOR = _query(
    "labelSelector",
    "string",
    "Only objects whose labels match this selector (app=web,tier!=db, "
    "env in (a,b)). Unset: every object.",
)
FIELD_SELECTOR = _query(
    "fieldSelector",
    "string",
    "Only objects whose fields match this selector "
    "(spec.nodeName=node-1,status.phase!=Succeeded). Unset: every object.",
)
LIMIT = _query(
    "limit",
    "integer",
    "The most objects a list returns. When more remain, the list's metadata carries "
    "a continue token to fetch the next chunk with.",
)
CONTINUE = _query(
    "continue",
    "string",
    "The continue token of a previous chunk of the same list, to fetch the next "
    "one. It expires when the revision it was read at is compacted.",
)
RESOURCE_VERSION = _query(
    "resourceVersion",
    "string",
    "The revision the list or watch starts from; how it is read depends "
    "on resourceVersionMatch. Unset: the most recent state.",
)
RESOURCE_VERSION_MATCH = _query(
    "resourceVersionMatch",
    "string",
    "How resourceVersion applies to a list: Exact (at that "
    "revision) or NotOlderThan (at it or later).",
)
WATCH = _query(
    "watch",
    "boolean",
    "Watch for changes to the described objects instead of listing them: the "
    "response is a stream of WatchEvents, added, modified and deleted.",
)
ALLOW_WATCH_BOOKMARKS = _query(
    "allowWatchBookmarks",
    "boolean",
    "With watch: the server may send BOOKMARK events, which carry "
    "only a resourceVersion to resume the watch from.",
)
TIMEOUT_SECONDS = _query(
    "timeoutSeconds",
    "integer",
    "How long a list or watch call may last, whether or not it is active.",
)
DRY_RUN = _query(
    "dryRun",
    "string",
    "When present, the request is validated and admitted but nothing is stored. "
    "The only accepted value is All.",
)
FIELD_MANAGER = _query(
    "fieldManager",
    "string",
    "The name of the actor making the change, at most 128 printable characters; an apply "
    "patch must give one.",
)
FIELD_VALIDATION = _query(
    "fieldValidation",
    "string",
    "What the server does with fields the object's schema does not know: "
    "Ignore drops them, Warn (the default) drops them and answers with a "
    "Warning header for each, Strict fails the request.",
)
GRACE_PERIOD_SECONDS = _query(
    "gracePeriodSeconds",
    "integer",
    "Seconds the object has to terminate before it is removed; 0 "
    "removes it at once. Unset: the kind's default.",
)
PROPAGATION_POLICY = _query(
    "propagationPolicy",
    "string",
    "What happens to the objects this one owns: Orphan leaves them, "
    "Background (the default) deletes them after it, Foreground "
    "before it.",
)

LIST = (
    ALLOW_WATCH_BOOKMARKS,
    CONTINUE,
    FIELD_SELECTOR,
    LABEL_SELECTOR,
    LIMIT,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    TIMEOUT_SECONDS,
    WATCH,
    PRETTY,
)
FORCE = _query(
    "force",
    "boolean",
    "For an apply patch: take over the fields other managers own instead of refusing "
    "with their conflicts. Other patches may not set it.",
)
WRITE = (DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, PRETTY)
PATCH = (DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE, PRETTY)
DELETE = (DRY_RUN, GRACE_PERIOD_SECONDS, PROPAGATION_POLICY, PRETTY)
DELETE_COLLECTION = (
    CONTINUE,
    DRY_RUN,
    FIELD_SELECTOR,
    GRACE_PERIOD_SECONDS,
    LABEL_SELECTOR,
    LIMIT,
    PROPAGATION_POLICY,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    TIMEOUT_SECONDS,
    PRETTY,
)

_CONTAINER = _query(
    "container", "string", "The container to use; may be omitted when the pod has only one."
)
_STREAMS = (
    _query("stdin", "boolean", "Whether the container's standard input is attached."),
    _query(
        "stdout", "boolean", "Whether the container's standard output is attached (default true)."
    ),
    _query(
        "stderr", "boolean", "Whether the container's standard error is attached (default true)."
    ),
    _query("tty", "boolean", "Whether the container gets a terminal (stdin must be set too)."),
)
_LOG = (
    _CONTAINER,
    _query("follow", "boolean", "Whether to stream the log as the container writes it."),
    _query(
        "previous",
        "boolean",
        "Whether to return the log of the container's previous, terminated instance.",
    ),
    _query("sinceSeconds", "integer", "Only lines written this many seconds ago or later."),
    _query("tailLines", "integer", "Only this many lines from the end of the log."),
    _query("timestamps", "boolean", "Whether each line starts with an RFC 3339 timestamp."),
    PRETTY,
)
_CONNECT: dict[str, tuple[str, tuple[Parameter, ...]]] = {
    "exec": (
        "PodExecOptions",
        (
            _query(
                "command",
                "string",
                "The command to run, one argument per occurrence of the "
                "parameter; not run in a shell.",
            ),
            _CONTAINER,
            *_STREAMS,
        ),
    ),
    "attach": ("PodAttachOptions", (_CONTAINER, *_STREAMS)),
    "portforward": (
        "PodPortForwardOptions",
        (_query("ports", "integer", "The pod's ports to forward to."),),
    ),
}


def group_versions() -> list[tuple[str, str]]:
    """Every served (group, version), in the table of kinds' order; "" is the core group."""
    out: list[tuple[str, str]] = []
    for r in resources.SERVED:
        group, _, version = r.api_version.rpartition("/")
        if (group, version) not in out:
            out.append((group, version))
    return out


def _capitalized(word: str, first: bool = True) -> str:
    """Kubernetes' ToValidOperationID: letters, digits and _ kept (a leading digit dropped), the
    first of each run after another character capitalized; the very first only if `first`."""
    out, upper = [], first
    for i, ch in enumerate(word):
        if ch.isalpha() or ch == "_" or (i and ch.isdigit()):
            out.append(ch.upper() if upper else ch)
            upper = False
        else:
            upper = True
    return "".join(out)


@dataclass(frozen=True)
class _Scope:
    """One resource's place in the API: its path prefix and how its operations are named."""

    resource: Resource | CreateOnlyResource
    group: str
    version: str
    # A custom resource's: its definitions' names and its subresources (a built-in kind's come
    # from its messages and SUBRESOURCES).
    definition_name: str = ""
    list_definition_name: str = ""
    subresources: tuple[str, ...] | None = None

    @property
    def definition(self) -> str:
        return self.definition_name or message_name(self.resource.message)

    @property
    def list_definition(self) -> str:
        return self.list_definition_name or message_name(_list_message(self.resource))

    @property
    def served_subresources(self) -> tuple[str, ...]:
        if self.subresources is not None:
            return self.subresources
        return SUBRESOURCES.get(self.resource.plural, ())

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def id_infix(self) -> str:  # CoreV1, AppsV1, CoordinationV1
        group = self.group.removesuffix(".k8s.io") or "core"
        return _capitalized(group) + _capitalized(self.version)

    @property
    def tag(self) -> str:  # core_v1, coordination_v1
        group = self.group.removesuffix(".k8s.io") or "core"
        return f"{_capitalized(group, first=False)}_{_capitalized(self.version, first=False)}"

    @property
    def kind(self) -> GroupVersionKind:
        return GroupVersionKind(self.group, self.version, self.resource.kind)

    @property
    def namespaced(self) -> str:
        return "Namespaced" if self.resource.namespaced else ""

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return (NAMESPACE,) if self.resource.namespaced else ()

    @property
    def name(self) -> Parameter:
        return Parameter("name", "path", "string", f"The name of the {self.resource.kind}.")

    def op_id(
        self,
        verb: str,
        subresource: str = "",
        *,
        collection: bool = False,
        all_namespaces: bool = False,
    ) -> str:
        """Kubernetes' operation id: readCoreV1NamespacedPodStatus,
        deleteAppsV1CollectionNamespacedDeployment, listCoreV1PodForAllNamespaces."""
        return (
            f"{verb}{self.id_infix}{'Collection' if collection else ''}"
            f"{'' if all_namespaces else self.namespaced}{self.resource.kind}"
            f"{_capitalized(subresource)}{'ForAllNamespaces' if all_namespaces else ''}"
        )


def _ok(definition: str | None, *codes: str) -> tuple[Response, ...]:
    names = {"200": "OK", "201": "Created", "202": "Accepted"}
    return tuple(Response(code, names[code], definition) for code in ("200", *codes))


def _list_message(r: Resource | CreateOnlyResource) -> type[Message]:
    if isinstance(r, CreateOnlyResource):
        raise ValueError(f"{r.kind} is created only: it has no list")
    return r.list_message


def _create_only(s: _Scope) -> dict[str, Operation]:
    """A create-only kind's one operation (an access review): the object sent, answered with
    its status filled in."""
    name = s.definition
    return {
        "post": Operation(
            s.op_id("create"),
            f"Create a {s.resource.kind}.",
            s.tag,
            "post",
            s.kind,
            s.path_parameters + WRITE,
            _ok(name, "201", "202"),
            (JSON,),
            body=name,
        )
    }


def _collection(s: _Scope) -> dict[str, Operation]:
    kind, name = s.resource.kind, s.definition
    scope = s.path_parameters
    return {
        "get": Operation(
            s.op_id("list"),
            f"List or watch the {kind} objects.",
            s.tag,
            "list",
            s.kind,
            scope + LIST,
            _ok(s.list_definition),
            (JSON, WATCH_STREAM),
        ),
        "post": Operation(
            s.op_id("create"),
            f"Create a {kind}.",
            s.tag,
            "post",
            s.kind,
            scope + WRITE,
            _ok(name, "201", "202"),
            (JSON,),
            body=name,
        ),
        "delete": Operation(
            s.op_id("delete", collection=True),
            f"Delete the {kind} objects the selectors match.",
            s.tag,
            "deletecollection",
            s.kind,
            scope + DELETE_COLLECTION,
            _ok(metatypes.STATUS),
            (JSON,),
            body=metatypes.DELETE_OPTIONS,
            body_required=False,
        ),
    }


def _item(s: _Scope) -> dict[str, Operation]:
    kind, name = s.resource.kind, s.definition
    params = (s.name, *s.path_parameters)
    deleted = name if s.resource.plural in DELETE_RETURNS_OBJECT else metatypes.STATUS
    return {
        "get": Operation(
            s.op_id("read"),
            f"Read the named {kind}.",
            s.tag,
            "get",
            s.kind,
            (*params, PRETTY),
            _ok(name),
            (JSON,),
        ),
        "put": Operation(
            s.op_id("replace"),
            f"Replace the named {kind}.",
            s.tag,
            "put",
            s.kind,
            params + WRITE,
            _ok(name, "201"),
            (JSON,),
            body=name,
        ),
        "patch": _patch(
            s, s.op_id("patch"), f"Partially update the named {kind}.", s.kind, name, params
        ),
        "delete": Operation(
            s.op_id("delete"),
            f"Delete the named {kind}.",
            s.tag,
            "delete",
            s.kind,
            params + DELETE,
            _ok(deleted, "202"),
            (JSON,),
            body=metatypes.DELETE_OPTIONS,
            body_required=False,
        ),
    }


def _patch(
    s: _Scope,
    op_id: str,
    description: str,
    kind: GroupVersionKind,
    definition: str,
    params: tuple[Parameter, ...],
) -> Operation:
    return Operation(
        op_id,
        description,
        s.tag,
        "patch",
        kind,
        params + PATCH,
        _ok(definition, "201"),
        (JSON,),
        body=metatypes.PATCH,
        consumes=CUSTOM_PATCH_TYPES if s.subresources is not None else PATCH_TYPES,
    )


def _subresource(s: _Scope, sub: str) -> dict[str, Operation]:
    kind = s.resource.kind
    params = (s.name, *s.path_parameters)
    if sub in ("status", "ephemeralcontainers", "scale", "approval"):
        if sub == "scale":
            definition, gvk = metatypes.SCALE, GroupVersionKind("autoscaling", "v1", "Scale")
        else:
            definition, gvk = s.definition, s.kind
        what = {
            "status": "status",
            "scale": "scale",
            "ephemeralcontainers": "ephemeral containers",
            "approval": "approval",
        }[sub]
        return {
            "get": Operation(
                s.op_id("read", sub),
                f"Read the {what} of the named {kind}.",
                s.tag,
                "get",
                gvk,
                (*params, PRETTY),
                _ok(definition),
                (JSON,),
            ),
            "put": Operation(
                s.op_id("replace", sub),
                f"Replace the {what} of the named {kind}.",
                s.tag,
                "put",
                gvk,
                params + WRITE,
                _ok(definition, "201"),
                (JSON,),
                body=definition,
            ),
            "patch": _patch(
                s,
                s.op_id("patch", sub),
                f"Partially update the {what} of the named {kind}.",
                gvk,
                definition,
                params,
            ),
        }
    if sub == "binding":
        binding = message_name(core_pb2.Binding)
        return {
            "post": Operation(
                s.op_id("create", sub),
                f"Bind the named {kind} to a node.",
                s.tag,
                "post",
                GroupVersionKind("", "v1", "Binding"),
                params + WRITE,
                _ok(binding, "201", "202"),
                (JSON,),
                body=binding,
            )
        }
    if sub == "eviction":
        eviction = message_name(policy_pb2.Eviction)
        return {
            "post": Operation(
                s.op_id("create", sub),
                f"Evict the named {kind}: delete it if its PodDisruptionBudget allows.",
                s.tag,
                "post",
                GroupVersionKind("policy", "v1", "Eviction"),
                params + WRITE,
                _ok(eviction, "201", "202"),
                (JSON,),
                body=eviction,
            )
        }
    if sub == "token":
        token_request = message_name(token_request_pb2.TokenRequest)
        return {
            "post": Operation(
                s.op_id("create", sub),
                f"Create a token for the named {kind}.",
                s.tag,
                "post",
                GroupVersionKind("authentication.k8s.io", "v1", "TokenRequest"),
                params + WRITE,
                _ok(token_request, "201", "202"),
                (JSON,),
                body=token_request,
            )
        }
    if sub == "log":
        return {
            "get": Operation(
                s.op_id("read", sub),
                f"Read the log of a container of the named {kind}.",
                s.tag,
                "get",
                s.kind,
                params + _LOG,
                _ok(None),
                (TEXT, JSON),
            )
        }
    options_kind, query = _CONNECT[sub]
    gvk = GroupVersionKind("", "v1", options_kind)
    what = {"exec": "Run a command in", "attach": "Attach to", "portforward": "Forward ports to"}[
        sub
    ]
    return {
        method: Operation(
            f"connect{s.id_infix}{method.title()}{s.namespaced}{kind}{_capitalized(sub)}",
            f"{what} a container of the named {kind} ({method.upper()}, upgraded to a stream).",
            s.tag,
            "connect",
            gvk,
            params + query,
            _ok(None),
            (ANY,),
        )
        for method in ("get", "post")
    }


def _resource_paths(s: _Scope) -> Paths:
    r = s.resource
    base = (
        f"{s.prefix}/namespaces/{{namespace}}/{r.plural}"
        if r.namespaced
        else f"{s.prefix}/{r.plural}"
    )
    if isinstance(r, CreateOnlyResource):
        return {base: _create_only(s)}
    out: Paths = {base: _collection(s), f"{base}/{{name}}": _item(s)}
    if r.namespaced:
        out[f"{s.prefix}/{r.plural}"] = {
            "get": Operation(
                s.op_id("list", all_namespaces=True),
                f"List or watch the {r.kind} objects of every namespace.",
                s.tag,
                "list",
                s.kind,
                LIST,
                _ok(s.list_definition),
                (JSON, WATCH_STREAM),
            )
        }
    for sub in s.served_subresources:
        out[f"{base}/{{name}}/{sub}"] = _subresource(s, sub)
    return out


def resource_paths(
    resource: Resource,
    definition: str,
    list_definition: str,
    subresources: tuple[str, ...],
) -> Paths:
    """A custom resource's paths and operations, as kube-apiserver's CRD OpenAPI builder gives
    them (the same shapes as a built-in kind's)."""
    s = _Scope(
        resource, resource.group, resource.version, definition, list_definition, subresources
    )
    return _resource_paths(s)


def discovery_path(group: str, version: str, resource: Resource) -> Paths:
    """The group version's discovery document path (GET /apis/<group>/<version>/)."""
    first = _Scope(resource, group, version)
    return {
        f"{first.prefix}/": {
            "get": Operation(
                f"get{first.id_infix}APIResources",
                "List the resources the group version serves.",
                first.tag,
                None,
                None,
                (),
                _ok(metatypes.API_RESOURCE_LIST),
                (JSON,),
            )
        }
    }


def paths(group: str, version: str) -> Paths:
    """Every path the group version serves and its operations; {} when it is not served."""
    served = [r for r in resources.SERVED if r.api_version.rpartition("/")[::2] == (group, version)]
    if not served:
        return {}
    first = _Scope(served[0], group, version)
    out: Paths = {
        f"{first.prefix}/": {
            "get": Operation(
                f"get{first.id_infix}APIResources",
                "List the resources the group version serves.",
                first.tag,
                None,
                None,
                (),
                _ok(metatypes.API_RESOURCE_LIST),
                (JSON,),
            )
        }
    }
    for r in served:
        out.update(_resource_paths(_Scope(r, group, version)))
    if (group, version) == ("", "v1"):  # pods/binding's kind, also created on its own
        binding = message_name(core_pb2.Binding)
        out[f"{first.prefix}/namespaces/{{namespace}}/bindings"] = {
            "post": Operation(
                "createCoreV1NamespacedBinding",
                "Bind a pod to a node.",
                first.tag,
                "post",
                GroupVersionKind("", "v1", "Binding"),
                (NAMESPACE, *WRITE),
                _ok(binding, "201", "202"),
                (JSON,),
                body=binding,
            )
        }
    return dict(sorted(out.items()))
