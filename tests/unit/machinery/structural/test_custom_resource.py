"""A custom resource through its version's schema as the apiserver handles it: normalized on
decoding (pruned, nulls dropped, metadata coerced, defaulted) and validated on writes."""

from __future__ import annotations

import copy
from typing import Any

from podplane.apimachinery.structural.custom_resource import CustomResourceSchema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "size": {"type": "string", "enum": ["small", "large"]},
                "name": {"type": "string", "maxLength": 5},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "x-kubernetes-preserve-unknown-fields": True,
                },
            },
        },
        "status": {"type": "object", "properties": {"ready": {"type": "integer", "minimum": 0}}},
    },
}


def resource(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Foo", "metadata": {"name": "a"}, "spec": spec}


def test_normalize_prunes_coerces_and_defaults() -> None:
    crs = CustomResourceSchema.from_json(SCHEMA)
    obj = resource(name="x", replicas=None, foo=1)
    obj["metadata"]["bogus"] = True
    obj["metadata"]["labels"] = {}
    obj["extra"] = {"a": 1}
    obj["spec"]["template"] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "x": 1},
        "spec": {},
    }
    unknown = crs.normalize(obj)
    assert unknown == ["extra", "metadata.bogus", "spec.foo", "spec.template.metadata.x"]
    assert obj == {
        "apiVersion": "example.com/v1",
        "kind": "Foo",
        "metadata": {"name": "a"},
        "spec": {
            "name": "x",
            "replicas": 1,
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}},
        },
    }


def test_validate_reports_kubernetes_messages() -> None:
    crs = CustomResourceSchema.from_json(SCHEMA)
    obj = resource(replicas="3", size="huge", name="toolong", ports=[{"name": "a"}, {"name": "a"}])
    assert [str(e) for e in crs.validate(obj)] == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: '
        '"string"',
        'spec.size: Unsupported value: "huge": supported values: "small", "large"',
        "spec.name: Too long: may not be longer than 5",
        'spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}',
    ]
    assert [str(e) for e in crs.validate(resource())] == ["spec.name: Required value"]


def test_update_ratchets_unchanged_values() -> None:
    crs = CustomResourceSchema.from_json(SCHEMA)
    old = resource(name="toolong", replicas=20)
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"a": "b"}
    assert crs.validate(new, old) == []
    new["spec"]["replicas"] = 30
    assert [str(e) for e in crs.validate(new, old)] == [
        "spec.replicas: Invalid value: 30: spec.replicas in body should be less than or equal to 10"
    ]


def test_embedded_resources_need_type_meta() -> None:
    crs = CustomResourceSchema.from_json(SCHEMA)
    obj = resource(name="x", template={"metadata": {"name": "p"}})
    assert [str(e) for e in crs.validate(obj)] == [
        "spec.template.apiVersion: Required value: must not be empty",
        "spec.template.kind: Required value: must not be empty",
    ]


def test_status_is_validated_at_status() -> None:
    crs = CustomResourceSchema.from_json(SCHEMA)
    old = resource(name="x")
    new = {**old, "status": {"ready": -1}}
    # The status validator's root is status itself: the message names the value from there.
    assert [str(e) for e in crs.validate_status(new, old)] == [
        "status.ready: Invalid value: -1: ready in body should be greater than or equal to 0"
    ]
