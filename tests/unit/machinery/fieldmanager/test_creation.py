"""A create's managed fields by CreateRecorder (fieldmanager/creation.py): what
FieldManager.update records for a create whose request gives none, for objects whose top-level
fields may be Keyed (their text remembered by key, their value encoded only when it is not),
with a bounded memory."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.fieldmanager.creation import CreateRecorder, Keyed
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, make_path
from podplane.apimachinery.fieldmanager.manager import FieldManager
from podplane.apimachinery.fieldmanager.openapi_schema import custom_resource_type
from podplane.apimachinery.fieldmanager.proto_schema import message_type

T0 = "2024-05-01T10:00:00Z"
STATUS = {"": FieldSet.of(make_path("status"))}


def pods() -> FieldManager:
    return FieldManager(
        message_type(core_pb2.Pod.DESCRIPTOR),
        "v1",
        "Pod",
        codec.encode(core_pb2.Pod()),
        STATUS,
        clock=lambda: T0,
    )


def pod(name: str, *containers: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {
            "containers": [
                {"name": c, "image": "x", "ports": [{"containerPort": 80}]} for c in containers
            ],
            "restartPolicy": "Always",
        },
        "status": {"phase": "Pending"},
    }


def keyed(obj: dict[str, Any], encoded: list[str] | None = None) -> dict[str, Any]:
    """The object with its spec Keyed by the spec's text, counting each time it is encoded."""
    spec = obj["spec"]

    def encode() -> Any:
        if encoded is not None:
            encoded.append(obj["metadata"]["name"])
        return spec

    return {**obj, "spec": Keyed(repr(spec), encode)}


def test_a_create_records_what_an_update_from_nothing_records() -> None:
    manager = pods()
    recorder = CreateRecorder(manager)
    for obj in (pod("a", "web", app="a"), pod("b", "web", "log"), pod("c")):
        assert recorder.entries(keyed(obj), "kubectl") == manager.update(
            None, obj, (), (), "kubectl"
        )
        assert recorder.entries(obj, "") == manager.update(None, obj, (), (), "")


def test_a_spec_seen_before_is_not_encoded_again() -> None:
    recorder = CreateRecorder(pods())
    encoded: list[str] = []
    texts = [
        recorder.entries(keyed(pod(name, "web", app=name), encoded), "kubectl")[0].fields_v1
        for name in ("a", "b", "c")
    ]
    assert encoded == ["a"]
    assert texts[0] == texts[1] == texts[2]
    assert '"f:spec":{"f:containers":{' in texts[0]


def test_remembered_texts_are_bounded_and_stay_right_past_the_bound() -> None:
    """Two remembered, five specs in turn, twice over: each create still records what the
    general path records, and the oldest texts make way."""
    manager = pods()
    recorder = CreateRecorder(manager, memo_size=2)
    for round_ in range(2):
        for i in range(5):
            obj = pod(f"p-{round_}-{i}", f"c{i}")
            assert recorder.entries(keyed(obj), "kubectl") == manager.update(
                None, obj, (), (), "kubectl"
            )
            assert recorder.remembered() == min(2, 5 * round_ + i + 1)


def test_a_field_that_adds_nothing_is_remembered_as_nothing() -> None:
    """An empty spec is the empty object's: the create records only its labels, and a second
    create with it, none at all when it has no labels either."""
    manager = pods()
    recorder = CreateRecorder(manager)
    empty_spec = codec.encode(core_pb2.Pod())["spec"]
    for obj in (
        {"metadata": {"name": "a", "labels": {"x": "y"}}, "spec": empty_spec},
        {"metadata": {"name": "b"}, "spec": empty_spec},
    ):
        assert recorder.entries(keyed(obj), "m") == manager.update(None, obj, (), (), "m")
    assert recorder.entries(keyed({"metadata": {"name": "b"}, "spec": empty_spec}), "m") == []


def test_a_custom_resources_create_records_what_an_update_from_nothing_records() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port"],
                        "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "x-kubernetes-preserve-unknown-fields": True,
    }
    manager = FieldManager(
        custom_resource_type(schema),
        "example.com/v1",
        "Widget",
        {"apiVersion": "example.com/v1", "kind": "Widget"},
        STATUS,
        clock=lambda: T0,
    )
    recorder = CreateRecorder(manager)
    for name in ("a", "b"):
        obj = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": name},
            "spec": {"ports": [{"port": 80}, {"port": 80}, {"port": 81}], "labels": {"a": "b"}},
            "status": {"ready": True},
            "extra": {"deduced": [1, 2], "more": {"x": None}},
        }
        assert recorder.entries(keyed(obj), "kubectl") == manager.update(
            None, obj, (), (), "kubectl"
        )
