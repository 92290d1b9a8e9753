"""Custom objects in the codec and in storage: apiVersion, kind and metadata are typed, every other
top-level field is the object's own JSON, written back at the top level with its keys sorted as
Go writes an unstructured object; managedFields and the rest of metadata round-trip; etcd holds
the object as JSON in the storage version, read back in the version asked for, defaulted."""

from __future__ import annotations

import json
from typing import Any

from apiserver.registry.customresource.storage import JSONCodec
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec
from podplane.apimachinery.codec import FieldValidation
from podplane.apimachinery.structural import CustomResourceSchema

OBJECT: dict[str, Any] = {
    "apiVersion": "stable.example.com/v1",
    "kind": "CronTab",
    "metadata": {
        "name": "c",
        "namespace": "default",
        "labels": {"app": "c"},
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "stable.example.com/v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:image": {}}},
            }
        ],
    },
    "spec": {"image": "x", "cronSpec": "* * * * *", "list": [1, 2.5, None, {"b": 1, "a": 2}]},
    "status": {},
    "data": "top-level fields other than spec and status are the object's too",
}


def test_the_rest_of_the_object_is_its_own_json() -> None:
    obj, unknown = codec.decode(CustomObject, OBJECT, FieldValidation.STRICT)
    assert unknown == []
    assert obj.metadata.labels["app"] == "c"
    assert obj.metadata.managed_fields[0].manager == "kubectl"
    assert json.loads(obj.content) == {k: OBJECT[k] for k in ("spec", "status", "data")}
    # Sorted keys at every level, so the same object is always the same text.
    assert obj.content.index('"cronSpec"') < obj.content.index('"image"')
    assert '{"a":2,"b":1}' in obj.content
    assert codec.encode(obj) == {
        **OBJECT,
        "metadata": {**OBJECT["metadata"], "creationTimestamp": None},
    }


def test_an_object_of_nothing_but_metadata() -> None:
    obj, _ = codec.decode(
        CustomObject, {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n"}}
    )
    assert obj.content == ""
    assert list(codec.encode(obj)) == ["apiVersion", "kind", "metadata"]


def test_storage_is_json_in_the_storage_version_read_back_in_the_served_one() -> None:
    schema = CustomResourceSchema.from_json(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {"replicas": {"type": "integer", "default": 1}},
                }
            },
        }
    )
    obj, _ = codec.decode(CustomObject, OBJECT)
    obj.metadata.resource_version = "42"
    stored = JSONCodec("stable.example.com/v1", "stable.example.com/v1beta1", schema)
    data = stored.encode(obj)
    document = json.loads(data)
    assert document["apiVersion"] == "stable.example.com/v1"
    assert "resourceVersion" not in document["metadata"]
    assert stored.encode(obj) == data  # deterministic: an unchanged object is not written
    back = stored.decode(data)
    assert back.api_version == "stable.example.com/v1beta1"
    assert json.loads(back.content)["spec"]["replicas"] == 1  # defaulted as read


def test_the_strategy_prunes_defaults_and_validates_by_the_schema() -> None:
    """Through the structural library: unknown fields dropped and named, defaults set, the
    schema's errors as the apiserver's field errors."""
    from apiserver.registry.customresource.strategy import CustomResourceStrategy
    from podplane.api.apiextensions.v1 import apiextensions_pb2
    from podplane.apimachinery.apiextensions import definitions

    crd, _ = codec.decode(
        apiextensions_pb2.CustomResourceDefinition,
        {
            "spec": {
                "group": "g.example.com",
                "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "required": ["size"],
                                        "properties": {
                                            "size": {"type": "string", "enum": ["s", "m"]},
                                            "count": {"type": "integer", "default": 1},
                                        },
                                    }
                                },
                            }
                        },
                    }
                ],
            }
        },
    )
    version = crd.spec.versions[0]
    rules = CustomResourceStrategy(crd, version, definitions.resource(crd, version))
    obj, _ = codec.decode(
        CustomObject,
        {
            "apiVersion": "g.example.com/v1",
            "kind": "Thing",
            "metadata": {"name": "t", "namespace": "default"},
            "spec": {"size": "xl", "typo": 1},
            "other": True,
        },
    )
    assert rules.prune(obj) == ["other", "spec.typo"]
    assert json.loads(obj.content) == {"spec": {"size": "xl", "count": 1}}
    assert [str(e) for e in rules.validate(obj)] == [
        'spec.size: Unsupported value: "xl": supported values: "s", "m"'
    ]


DEFAULTING = CustomResourceSchema.from_json(
    {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"replicas": {"type": "integer", "default": 1}},
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "data": {"type": "string"},
        },
    }
)


def _objects() -> list[CustomObject]:
    """Objects as the store writes them: metadata of every shape, content of every JSON type."""
    full: dict[str, Any] = {
        **OBJECT,
        "metadata": {
            **OBJECT["metadata"],
            "uid": "0b1e6f5e-1f6c-4b8e-9a47-4f0d6a3c9e11",
            "generation": 3,
            "creationTimestamp": "2026-11-24T10:00:00Z",
            "deletionTimestamp": "2026-11-24T11:00:00Z",
            "deletionGracePeriodSeconds": 0,
            "finalizers": ["example.com/keep"],
            "annotations": {"note": "ünïcode ✓", "empty": ""},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "d",
                    "uid": "5a1d",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                *OBJECT["metadata"]["managedFields"],
                {
                    "manager": "controller",
                    "operation": "Update",
                    "apiVersion": "stable.example.com/v1",
                    "time": "2026-11-24T10:00:01Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {".": {}, "f:phase": {}}},
                    "subresource": "status",
                },
            ],
        },
        "spec": {"image": "ü", "n": -0.0, "big": 2**62, "f": 1.5e-7, "nested": [[{}], None]},
        "status": {"phase": "Running"},
    }
    bare: dict[str, Any] = {"apiVersion": "stable.example.com/v1", "kind": "CronTab"}
    bare["metadata"] = {"name": "bare", "namespace": "default"}
    objects = [codec.decode(CustomObject, d, FieldValidation.STRICT)[0] for d in (full, bare)]
    # Content as a gRPC client may send it: valid JSON, keys unsorted, spaces.
    loose = CustomObject()
    loose.CopyFrom(objects[1])
    loose.content = '{"spec": {"z": 1, "a": {"y": true, "b": null}}, "data": "x"}'
    return [*objects, loose]


def test_what_a_codec_wrote_reads_back_as_any_decode_of_its_bytes_reads_it() -> None:
    """The watch cache decodes every write with the codec that encoded it: read from the object
    the codec kept, it is the object a codec that never saw it decodes from the bytes."""
    for obj in _objects():
        obj.metadata.resource_version = "7"
        writer = JSONCodec("stable.example.com/v1", "stable.example.com/v1", DEFAULTING)
        data = writer.encode(obj)
        reader = JSONCodec("stable.example.com/v1", "stable.example.com/v1", DEFAULTING)
        from_bytes = reader.decode(data)
        kept = writer.decode(data)
        assert kept == from_bytes, obj.metadata.name
        assert kept.metadata.resource_version == ""
        spec = json.loads(kept.content or "{}").get("spec")
        assert spec is None or spec["replicas"] == 1  # defaulted as read
        # Once: the same bytes again are decoded from the JSON, to the same object.
        assert writer.decode(data) == from_bytes


def test_what_a_codec_keeps_is_its_own_copy() -> None:
    obj = _objects()[0]
    writer = JSONCodec("stable.example.com/v1", "stable.example.com/v1", DEFAULTING)
    data = writer.encode(obj)
    obj.metadata.labels["changed"] = "after the write"
    obj.content = '{"spec":{"image":"other"}}'
    kept = writer.decode(data)
    assert "changed" not in kept.metadata.labels
    assert json.loads(kept.content)["spec"]["image"] == "ü"
    # Decoded in another version's codec: the kept object is that version's writer's only.
    other = JSONCodec("stable.example.com/v1", "stable.example.com/v1beta1", DEFAULTING)
    data = writer.encode(obj)
    assert other.decode(data).api_version == "stable.example.com/v1beta1"
    assert writer.decode(data).api_version == "stable.example.com/v1"
