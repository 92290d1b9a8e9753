"""The operations of a resource's subresources: status, scale, approval and ephemeral containers
written like the object; binding, eviction and token posted; a container's log read; exec, attach
and port-forward connected (upgraded to a stream); a node's proxy passing every method on."""

from __future__ import annotations

from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery.openapi import metatypes
from podplane.apimachinery.openapi.parameters import (
    ANY,
    CONNECT,
    CUSTOM_PATCH_TYPES,
    JSON,
    LOG,
    PATCH,
    PATCH_TYPES,
    PRETTY,
    PROXY_PATH,
    TEXT,
    WRITE,
    GroupVersionKind,
    Operation,
    Parameter,
    ok,
)
from podplane.apimachinery.openapi.schemas import message_name
from podplane.apimachinery.openapi.scope import Scope, capitalized

# What each subresource written like the object is called in its operations' descriptions.
_WRITTEN = {
    "status": "status",
    "scale": "scale",
    "ephemeralcontainers": "ephemeral containers",
    "approval": "approval",
}
# The subresources a POST creates: what it does, and the kind it takes and answers.
_POSTED = {
    "binding": ("Bind the named {kind} to a node.", "", "v1", core_pb2.Binding),
    "eviction": (
        "Evict the named {kind}: delete it if its PodDisruptionBudget allows.",
        "policy",
        "v1",
        policy_pb2.Eviction,
    ),
    "token": (
        "Create a token for the named {kind}.",
        "authentication.k8s.io",
        "v1",
        token_request_pb2.TokenRequest,
    ),
}
_CONNECTED = {"exec": "Run a command in", "attach": "Attach to", "portforward": "Forward ports to"}
# The methods a proxy passes on (nodes/proxy: the kubelet's API).
_PROXIED = ("get", "put", "post", "delete", "patch")


def patch(
    s: Scope,
    op_id: str,
    description: str,
    kind: GroupVersionKind,
    definition: str,
    params: tuple[Parameter, ...],
) -> Operation:
    """A PATCH of the object or of a subresource written like it."""
    return Operation(
        op_id,
        description,
        s.tag,
        "patch",
        kind,
        params + PATCH,
        ok(definition, "201"),
        (JSON,),
        body=metatypes.PATCH,
        consumes=CUSTOM_PATCH_TYPES if s.subresources is not None else PATCH_TYPES,
    )


def subresource(s: Scope, sub: str) -> dict[str, Operation]:
    """The operations of the subresource `sub` of the scope's resource, by HTTP method."""
    if sub in _WRITTEN:
        return _written(s, sub)
    if sub in _POSTED:
        return _posted(s, sub)
    if sub == "log":
        return _log(s)
    return _connected(s, sub)


def _written(s: Scope, sub: str) -> dict[str, Operation]:
    kind, what = s.resource.kind, _WRITTEN[sub]
    params = (s.name, *s.path_parameters)
    if sub == "scale":
        definition, gvk = metatypes.SCALE, GroupVersionKind("autoscaling", "v1", "Scale")
    else:
        definition, gvk = s.definition, s.kind
    return {
        "get": Operation(
            s.op_id("read", sub),
            f"Read the {what} of the named {kind}.",
            s.tag,
            "get",
            gvk,
            (*params, PRETTY),
            ok(definition),
            (JSON,),
        ),
        "put": Operation(
            s.op_id("replace", sub),
            f"Replace the {what} of the named {kind}.",
            s.tag,
            "put",
            gvk,
            params + WRITE,
            ok(definition, "201"),
            (JSON,),
            body=definition,
        ),
        "patch": patch(
            s,
            s.op_id("patch", sub),
            f"Partially update the {what} of the named {kind}.",
            gvk,
            definition,
            params,
        ),
    }


def _posted(s: Scope, sub: str) -> dict[str, Operation]:
    description, group, version, message = _POSTED[sub]
    definition = message_name(message)
    return {
        "post": Operation(
            s.op_id("create", sub),
            description.format(kind=s.resource.kind),
            s.tag,
            "post",
            GroupVersionKind(group, version, message.__name__),
            (s.name, *s.path_parameters, *WRITE),
            ok(definition, "201", "202"),
            (JSON,),
            body=definition,
        )
    }


def _log(s: Scope) -> dict[str, Operation]:
    return {
        "get": Operation(
            s.op_id("read", "log"),
            f"Read the log of a container of the named {s.resource.kind}.",
            s.tag,
            "get",
            s.kind,
            (s.name, *s.path_parameters, *LOG),
            ok(None),
            (TEXT, JSON),
        )
    }


def proxy(s: Scope, with_path: bool) -> dict[str, Operation]:
    """nodes/proxy and nodes/proxy/{path}: every method passed on to the node's kubelet."""
    options_kind, query = CONNECT["proxy"]
    kind, suffix = s.resource.kind, "WithPath" if with_path else ""
    params = (s.name, *s.path_parameters, *((PROXY_PATH,) if with_path else query))
    return {
        method: Operation(
            f"connect{s.id_infix}{method.title()}{s.namespaced}{kind}Proxy{suffix}",
            f"Connect {method.upper()} requests to proxy of {kind}.",
            s.tag,
            "connect",
            GroupVersionKind("", "v1", options_kind),
            params,
            ok(None),
            (ANY,),
        )
        for method in _PROXIED
    }


def _connected(s: Scope, sub: str) -> dict[str, Operation]:
    if sub == "proxy":
        return proxy(s, with_path=False)
    kind = s.resource.kind
    options_kind, query = CONNECT[sub]
    return {
        method: Operation(
            f"connect{s.id_infix}{method.title()}{s.namespaced}{kind}{capitalized(sub)}",
            f"{_CONNECTED[sub]} a container of the named {kind} ({method.upper()}, upgraded to "
            "a stream).",
            s.tag,
            "connect",
            GroupVersionKind("", "v1", options_kind),
            (s.name, *s.path_parameters, *query),
            ok(None),
            (ANY,),
        )
        for method in ("get", "post")
    }
