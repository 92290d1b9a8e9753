"""The schemas server-side apply reads types from: the protos' `(meta.v1.k8s)` options for every
built-in kind (Kubernetes' list types, atomic structs and maps, key defaults, as its OpenAPI
says them), and an OpenAPI v3 structural schema for a custom resource (kube-openapi's
schemaconv rules); and what a typed value sets, compared and merged by them."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.fieldmanager import fieldsv1
from podplane.apimachinery.fieldmanager.compare import ABSENT, compare
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, make_path
from podplane.apimachinery.fieldmanager.merge import merge, remove_items
from podplane.apimachinery.fieldmanager.openapi_schema import custom_resource_type, openapi_type
from podplane.apimachinery.fieldmanager.proto_schema import message_type
from podplane.apimachinery.fieldmanager.schema import (
    ASSOCIATIVE,
    ATOMIC,
    LIST,
    MAP,
    SCALAR,
    SET,
    UNTYPED,
    ListType,
    MapType,
    ScalarType,
    Type,
)
from podplane.apimachinery.fieldmanager.typed import TypedError, path_type, to_field_set, validate

POD = message_type(core_pb2.Pod.DESCRIPTOR)
DEPLOYMENT = message_type(apps_pb2.Deployment.DESCRIPTOR)


def at(root: Type, *steps: Any) -> Type:
    found = path_type(root, make_path(*steps))
    assert found is not None, steps
    return found


def scalar(typ: Type) -> str:
    assert isinstance(typ, ScalarType)
    return typ.scalar


def test_the_protos_give_kubernetes_list_types_and_keys() -> None:
    containers = at(POD, "spec", "containers")
    assert isinstance(containers, ListType)
    assert (containers.list_type, containers.keys) == (ASSOCIATIVE, ("name",))
    ports = at(POD, "spec", "containers", {"name": "c"}, "ports")
    assert isinstance(ports, ListType)
    assert (ports.list_type, ports.keys) == (ASSOCIATIVE, ("containerPort", "protocol"))
    port = ports.element
    assert isinstance(port, MapType) and port.default("protocol") == "TCP"
    finalizers = at(POD, "metadata", "finalizers")
    assert isinstance(finalizers, ListType) and finalizers.list_type == SET
    tolerations = at(POD, "spec", "tolerations")
    assert isinstance(tolerations, ListType) and tolerations.list_type == ATOMIC
    owners = at(POD, "metadata", "ownerReferences")
    assert isinstance(owners, ListType) and owners.keys == ("uid",)


@pytest.mark.parametrize(
    "root,steps,atomic",
    [
        (DEPLOYMENT, ("spec", "selector"), True),  # LabelSelector: +structType=atomic
        (POD, ("spec", "nodeSelector"), True),  # +mapType=atomic
        (POD, ("metadata", "labels"), False),
        (POD, ("spec", "affinity"), False),
        (
            message_type(core_pb2.PersistentVolume.DESCRIPTOR),
            ("spec", "claimRef"),
            False,  # an ObjectReference, made granular by the field
        ),
        (
            message_type(core_pb2.Event.DESCRIPTOR),
            ("involvedObject",),
            True,  # an ObjectReference
        ),
    ],
)
def test_atomic_structs_and_maps(root: MapType, steps: tuple[str, ...], atomic: bool) -> None:
    found = at(root, *steps)
    assert isinstance(found, MapType) and found.atomic is atomic


def test_formats_make_untyped_scalars() -> None:
    limits = at(POD, "spec", "containers", {"name": "c"}, "resources", "limits")
    assert isinstance(limits, MapType) and limits.element is not None
    assert scalar(limits.element) == "untyped"
    assert scalar(at(DEPLOYMENT, "spec", "strategy", "rollingUpdate", "maxSurge")) == "untyped"
    replicas = at(DEPLOYMENT, "spec", "replicas")
    assert isinstance(replicas, ScalarType) and replicas.scalar == "numeric"


CRD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "port": {"x-kubernetes-int-or-string": True},
                "selector": {
                    "type": "object",
                    "x-kubernetes-map-type": "atomic",
                    "additionalProperties": {"type": "string"},
                },
                "hosts": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "routes": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["path", "method"],
                    "items": {
                        "type": "object",
                        "properties": {
                            "path": {"type": "string"},
                            "method": {"type": "string", "default": "GET"},
                        },
                    },
                },
                "args": {"type": "array", "items": {"type": "string"}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    },
}


def test_a_structural_schema_gives_the_same_vocabulary() -> None:
    root = custom_resource_type(CRD_SCHEMA)
    assert isinstance(at(root, "metadata", "labels"), MapType)  # metadata is an ObjectMeta
    assert scalar(at(root, "spec", "port")) == "untyped"
    selector = at(root, "spec", "selector")
    assert isinstance(selector, MapType) and selector.atomic
    hosts = at(root, "spec", "hosts")
    assert isinstance(hosts, ListType) and hosts.list_type == SET
    routes = at(root, "spec", "routes")
    assert isinstance(routes, ListType) and routes.keys == ("path", "method")
    assert isinstance(routes.element, MapType) and routes.element.default("method") == "GET"
    args = at(root, "spec", "args")
    assert isinstance(args, ListType) and args.list_type == ATOMIC
    config = at(root, "spec", "config")
    assert isinstance(config, MapType) and config.element is not None
    assert config.element.kind == UNTYPED
    applied = {
        "apiVersion": "example.com/v1",
        "kind": "Site",
        "metadata": {"name": "s"},
        "spec": {
            "hosts": ["a", "b"],
            "routes": [{"path": "/"}],
            "selector": {"app": "s"},
            "config": {"deep": {"x": 1}},
        },
    }
    assert fieldsv1.dumps(to_field_set(applied, root)) == (
        '{"f:apiVersion":{},"f:kind":{},"f:metadata":{"f:name":{}},"f:spec":{"f:config":'
        '{"f:deep":{".":{},"f:x":{}}},"f:hosts":{"v:\\"a\\"":{},"v:\\"b\\"":{}},'
        '"f:routes":{"k:{\\"method\\":\\"GET\\",\\"path\\":\\"/\\"}":{".":{},"f:path":{}}},'
        '"f:selector":{}}}'
    )
    with pytest.raises(TypedError) as refused:
        validate({"spec": {"unknown": 1}}, root)
    assert str(refused.value) == ".spec.unknown: field not declared in schema"


def test_kinds_and_shapes() -> None:
    assert openapi_type({"type": "string"}).kind == SCALAR
    assert openapi_type({"type": "array", "items": {"type": "string"}}).kind == LIST
    assert openapi_type({"type": "object"}).kind == MAP
    assert openapi_type({}).kind == UNTYPED


# ---------------------------------------------------------------- typed values


def test_what_a_configuration_sets() -> None:
    config = {
        "metadata": {"name": "p", "labels": {}},
        "spec": {
            "containers": [{"name": "c", "image": "x", "env": None}],
            "volumes": [],
            "securityContext": {},
        },
    }
    assert fieldsv1.dumps(to_field_set(config, POD)) == (
        '{"f:metadata":{"f:labels":{},"f:name":{}},"f:spec":{"f:containers":'
        '{"k:{\\"name\\":\\"c\\"}":{".":{},"f:env":{},"f:image":{},"f:name":{}}},'
        '"f:securityContext":{}}}'
    )


def test_compare_records_added_removed_and_modified() -> None:
    old = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}
    new = {"spec": {"containers": [{"name": "a", "image": "z"}, {"name": "c", "image": "y"}]}}
    found = compare(old, new, POD)
    item = {"name": "a"}
    assert found.modified == FieldSet.of(make_path("spec", "containers", item, "image"))
    assert found.added == FieldSet.of(
        make_path("spec", "containers", {"name": "c"}),
        make_path("spec", "containers", {"name": "c"}, "name"),
        make_path("spec", "containers", {"name": "c"}, "image"),
    )
    assert found.removed == FieldSet.of(
        make_path("spec", "containers", {"name": "b"}),
        make_path("spec", "containers", {"name": "b"}, "name"),
        make_path("spec", "containers", {"name": "b"}, "image"),
    )
    assert compare(old, old, POD).same()
    assert compare(ABSENT, old, POD).added.has(make_path("spec"))


def test_merge_and_remove_by_the_schema() -> None:
    live = {
        "spec": {
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}],
            "tolerations": [{"key": "k"}],
            "nodeSelector": {"a": "1", "b": "2"},
        }
    }
    config = {
        "spec": {
            "containers": [{"name": "b", "image": "z"}],
            "tolerations": [{"key": "other"}],
            "nodeSelector": {"c": "3"},
        }
    }
    assert merge(live, config, POD) == {
        "spec": {
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "z"}],
            "tolerations": [{"key": "other"}],  # atomic: replaced
            "nodeSelector": {"c": "3"},  # atomic: replaced
        }
    }
    removed = remove_items(live, FieldSet.of(make_path("spec", "containers", {"name": "a"})), POD)
    assert removed["spec"]["containers"] == [{"name": "b", "image": "y"}]
