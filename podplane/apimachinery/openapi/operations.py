"""The REST API's paths and operations, as Kubernetes' apiserver installs them for each resource
(k8s.io/apiserver/pkg/endpoints/installer.go): the collection (list, create, deletecollection),
the object (read, replace, patch, delete), the list across namespaces and the subresources, with
Kubernetes' operation ids, query parameters and the x-kubernetes-action and
x-kubernetes-group-version-kind extensions kubectl looks operations up by.

Operations are described once, here, and rendered as Swagger 2.0 or OpenAPI 3.0 by documents.py."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.openapi import metatypes
from podplane.apimachinery.openapi.parameters import (
    DELETE,
    DELETE_COLLECTION,
    DELETE_RETURNS_OBJECT,
    JSON,
    LIST,
    NAMESPACE,
    NO_DELETE_COLLECTION,
    PRETTY,
    WATCH_STREAM,
    WRITE,
    GroupVersionKind,
    Operation,
    Parameter,
    Paths,
    Response,
    ok,
)
from podplane.apimachinery.openapi.schemas import message_name
from podplane.apimachinery.openapi.scope import SUBRESOURCES, Scope
from podplane.apimachinery.openapi.subresources import patch, proxy, subresource
from podplane.apimachinery.resources import CreateOnlyResource, Resource

__all__ = [
    "SUBRESOURCES",
    "WATCH_STREAM",
    "Operation",
    "Parameter",
    "Paths",
    "Response",
    "discovery_path",
    "group_versions",
    "paths",
    "resource_paths",
]


def group_versions() -> list[tuple[str, str]]:
    """Every served (group, version), in the table of kinds' order; "" is the core group."""
    out: list[tuple[str, str]] = []
    for r in resources.IN_TABLE_ORDER:
        group, _, version = r.api_version.rpartition("/")
        if (group, version) not in out:
            out.append((group, version))
    return out


def _create_only(s: Scope) -> dict[str, Operation]:
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
            ok(name, "201", "202"),
            (JSON,),
            body=name,
        )
    }


def _computed_paths(s: Scope) -> Paths:
    """A computed kind's (componentstatuses): get and list, no watch, no writes."""
    kind, base = s.resource.kind, f"{s.prefix}/{s.resource.plural}"
    list_params = tuple(p for p in LIST if p.name != "watch")
    return {
        base: {
            "get": Operation(
                s.op_id("list"),
                f"List the {kind} objects.",
                s.tag,
                "list",
                s.kind,
                list_params,
                ok(s.list_definition),
                (JSON,),
            )
        },
        f"{base}/{{name}}": {
            "get": Operation(
                s.op_id("read"),
                f"Read the named {kind}.",
                s.tag,
                "get",
                s.kind,
                (s.name, PRETTY),
                ok(s.definition),
                (JSON,),
            )
        },
    }


def _collection(s: Scope) -> dict[str, Operation]:
    kind, name = s.resource.kind, s.definition
    scope = s.path_parameters
    operations = {
        "get": Operation(
            s.op_id("list"),
            f"List or watch the {kind} objects.",
            s.tag,
            "list",
            s.kind,
            scope + LIST,
            ok(s.list_definition),
            (JSON, WATCH_STREAM),
        ),
        "post": Operation(
            s.op_id("create"),
            f"Create a {kind}.",
            s.tag,
            "post",
            s.kind,
            scope + WRITE,
            ok(name, "201", "202"),
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
            ok(metatypes.STATUS),
            (JSON,),
            body=metatypes.DELETE_OPTIONS,
            body_required=False,
        ),
    }
    if s.resource.plural in NO_DELETE_COLLECTION:
        del operations["delete"]
    return operations


def _item(s: Scope) -> dict[str, Operation]:
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
            ok(name),
            (JSON,),
        ),
        "put": Operation(
            s.op_id("replace"),
            f"Replace the named {kind}.",
            s.tag,
            "put",
            s.kind,
            params + WRITE,
            ok(name, "201"),
            (JSON,),
            body=name,
        ),
        "patch": patch(
            s, s.op_id("patch"), f"Partially update the named {kind}.", s.kind, name, params
        ),
        "delete": Operation(
            s.op_id("delete"),
            f"Delete the named {kind}.",
            s.tag,
            "delete",
            s.kind,
            params + DELETE,
            ok(deleted, "202"),
            (JSON,),
            body=metatypes.DELETE_OPTIONS,
            body_required=False,
        ),
    }


def _resource_paths(s: Scope) -> Paths:
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
                ok(s.list_definition),
                (JSON, WATCH_STREAM),
            )
        }
    for sub in s.served_subresources:
        out[f"{base}/{{name}}/{sub}"] = subresource(s, sub)
        if sub == "proxy":
            out[f"{base}/{{name}}/proxy/{{path}}"] = proxy(s, with_path=True)
    return out


def resource_paths(
    resource: Resource,
    definition: str,
    list_definition: str,
    subresources: tuple[str, ...],
) -> Paths:
    """A custom resource's paths and operations, as kube-apiserver's CRD OpenAPI builder gives
    them (the same shapes as a built-in kind's)."""
    s = Scope(resource, resource.group, resource.version, definition, list_definition, subresources)
    return _resource_paths(s)


def discovery_path(group: str, version: str, resource: Resource) -> Paths:
    """The group version's discovery document path (GET /apis/<group>/<version>/)."""
    first = Scope(resource, group, version)
    return {
        f"{first.prefix}/": {
            "get": Operation(
                f"get{first.id_infix}APIResources",
                "List the resources the group version serves.",
                first.tag,
                None,
                None,
                (),
                ok(metatypes.API_RESOURCE_LIST),
                (JSON,),
            )
        }
    }


def paths(group: str, version: str) -> Paths:
    """Every path the group version serves and its operations; {} when it is not served."""
    served = [r for r in resources.SERVED if r.api_version.rpartition("/")[::2] == (group, version)]
    if not served:
        return {}
    first = Scope(served[0], group, version)
    out: Paths = {
        f"{first.prefix}/": {
            "get": Operation(
                f"get{first.id_infix}APIResources",
                "List the resources the group version serves.",
                first.tag,
                None,
                None,
                (),
                ok(metatypes.API_RESOURCE_LIST),
                (JSON,),
            )
        }
    }
    for r in served:
        out.update(_resource_paths(Scope(r, group, version)))
    for computed in resources.COMPUTED:
        if (computed.group, computed.version) == (group, version):
            out.update(_computed_paths(Scope(computed, group, version)))
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
                ok(binding, "201", "202"),
                (JSON,),
                body=binding,
            )
        }
    return dict(sorted(out.items()))
