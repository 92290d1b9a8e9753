"""The pieces of the REST API's operations, as Kubernetes' apiserver describes them: the types
of an operation, its parameters and responses, the media types, and the query parameters each
verb takes (k8s.io/apiserver/pkg/endpoints/installer.go)."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds whose DELETE answers with the object (its deletionTimestamp set) rather than a Status,
# as Kubernetes' registries for them do.
DELETE_RETURNS_OBJECT = frozenset(
    {"pods", "persistentvolumes", "persistentvolumeclaims", "storageclasses"}
)
# Kinds that are never deleted as a collection: Kubernetes' namespace registry has no
# DeleteCollection (each namespace is deleted on its own, and finalized).
NO_DELETE_COLLECTION = frozenset({"namespaces"})

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


def query(name: str, type_: str, description: str) -> Parameter:
    return Parameter(name, "query", type_, description)


NAMESPACE = Parameter(
    "namespace",
    "path",
    "string",
    "The namespace of the objects: a scope for names and for access control.",
)
PRETTY = query("pretty", "string", "If 'true', the response is indented for people to read.")
LABEL_SELECTOR = query(
    "labelSelector",
    "string",
    "Only objects whose labels match this selector (app=web,tier!=db, "
    "env in (a,b)). Unset: every object.",
)
FIELD_SELECTOR = query(
    "fieldSelector",
    "string",
    "Only objects whose fields match this selector "
    "(spec.nodeName=node-1,status.phase!=Succeeded). Unset: every object.",
)
LIMIT = query(
    "limit",
    "integer",
    "The most objects a list returns. When more remain, the list's metadata carries "
    "a continue token to fetch the next chunk with.",
)
CONTINUE = query(
    "continue",
    "string",
    "The continue token of a previous chunk of the same list, to fetch the next "
    "one. It expires when the revision it was read at is compacted.",
)
RESOURCE_VERSION = query(
    "resourceVersion",
    "string",
    "The revision the list or watch starts from; how it is read depends "
    "on resourceVersionMatch. Unset: the most recent state.",
)
RESOURCE_VERSION_MATCH = query(
    "resourceVersionMatch",
    "string",
    "How resourceVersion applies to a list: Exact (at that "
    "revision) or NotOlderThan (at it or later).",
)
WATCH = query(
    "watch",
    "boolean",
    "Watch for changes to the described objects instead of listing them: the "
    "response is a stream of WatchEvents, added, modified and deleted.",
)
ALLOW_WATCH_BOOKMARKS = query(
    "allowWatchBookmarks",
    "boolean",
    "With watch: the server may send BOOKMARK events, which carry "
    "only a resourceVersion to resume the watch from.",
)
TIMEOUT_SECONDS = query(
    "timeoutSeconds",
    "integer",
    "How long a list or watch call may last, whether or not it is active.",
)
DRY_RUN = query(
    "dryRun",
    "string",
    "When present, the request is validated and admitted but nothing is stored. "
    "The only accepted value is All.",
)
FIELD_MANAGER = query(
    "fieldManager",
    "string",
    "The name of the actor making the change, at most 128 printable characters; an apply "
    "patch must give one.",
)
FIELD_VALIDATION = query(
    "fieldValidation",
    "string",
    "What the server does with fields the object's schema does not know: "
    "Ignore drops them, Warn (the default) drops them and answers with a "
    "Warning header for each, Strict fails the request.",
)
GRACE_PERIOD_SECONDS = query(
    "gracePeriodSeconds",
    "integer",
    "Seconds the object has to terminate before it is removed; 0 "
    "removes it at once. Unset: the kind's default.",
)
PROPAGATION_POLICY = query(
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
FORCE = query(
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

_CONTAINER = query(
    "container", "string", "The container to use; may be omitted when the pod has only one."
)
_STREAMS = (
    query("stdin", "boolean", "Whether the container's standard input is attached."),
    query(
        "stdout", "boolean", "Whether the container's standard output is attached (default true)."
    ),
    query(
        "stderr", "boolean", "Whether the container's standard error is attached (default true)."
    ),
    query("tty", "boolean", "Whether the container gets a terminal (stdin must be set too)."),
)
LOG = (
    _CONTAINER,
    query("follow", "boolean", "Whether to stream the log as the container writes it."),
    query(
        "previous",
        "boolean",
        "Whether to return the log of the container's previous, terminated instance.",
    ),
    query("sinceSeconds", "integer", "Only lines written this many seconds ago or later."),
    query("tailLines", "integer", "Only this many lines from the end of the log."),
    query("timestamps", "boolean", "Whether each line starts with an RFC 3339 timestamp."),
    PRETTY,
)
CONNECT: dict[str, tuple[str, tuple[Parameter, ...]]] = {
    "exec": (
        "PodExecOptions",
        (
            query(
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
        (query("ports", "integer", "The pod's ports to forward to."),),
    ),
    "proxy": (
        "NodeProxyOptions",
        (
            query(
                "path",
                "string",
                "Path is the URL path to use for the current proxy request to node.",
            ),
        ),
    ),
}
# nodes/proxy/{path}: the path of the kubelet's API the request goes to.
PROXY_PATH = Parameter("path", "path", "string", "path to the resource")


def ok(definition: str | None, *codes: str) -> tuple[Response, ...]:
    names = {"200": "OK", "201": "Created", "202": "Accepted"}
    return tuple(Response(code, names[code], definition) for code in ("200", *codes))
