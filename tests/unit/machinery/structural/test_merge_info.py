"""What server-side apply reads of a custom resource's schema: list types, map keys, map types,
and deduced values where the schema says nothing."""

from __future__ import annotations

from podplane.apimachinery.structural.merge_info import DEDUCED, SetValue, merge_info
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import new_structural

SCHEMA = new_structural(
    decode_props(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "ports": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["name", "protocol"],
                            "items": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "protocol": {"type": "string", "default": "TCP"},
                                    "targets": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "set",
                                        "items": {"type": "string"},
                                    },
                                },
                            },
                        },
                        "args": {"type": "array", "items": {"type": "string"}},
                        "selector": {
                            "type": "object",
                            "x-kubernetes-map-type": "atomic",
                            "additionalProperties": {"type": "string"},
                        },
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "size": {"x-kubernetes-int-or-string": True},
                        "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        "sets": {
                            "type": "array",
                            "x-kubernetes-list-type": "set",
                            "items": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
        }
    )
)


def test_list_types_and_keys() -> None:
    ports = merge_info(SCHEMA, ["spec", "ports"])
    assert (ports.kind, ports.list_type, ports.map_keys) == ("array", "map", ("name", "protocol"))
    assert not ports.is_atomic
    args = merge_info(SCHEMA, ["spec", "args"])
    assert (args.list_type, args.is_atomic) == ("atomic", True)
    targets = merge_info(SCHEMA, ["spec", "ports", {"name": "http", "protocol": "TCP"}, "targets"])
    assert targets.list_type == "set"
    inner = merge_info(SCHEMA, ["spec", "sets", SetValue(["a"])])
    assert (inner.kind, inner.list_type) == ("array", "atomic")


def test_map_types() -> None:
    assert merge_info(SCHEMA, ["spec", "selector"]).map_type == "atomic"
    assert merge_info(SCHEMA, ["spec", "selector"]).is_atomic
    labels = merge_info(SCHEMA, ["spec", "labels"])
    assert (labels.map_type, labels.is_atomic) == ("granular", False)
    value = merge_info(SCHEMA, ["spec", "labels", "app"])
    assert (value.kind, value.is_atomic) == ("string", True)
    assert merge_info(SCHEMA, ["spec", "ports", 0, "name"]).kind == "string"


def test_int_or_string_is_a_scalar() -> None:
    assert merge_info(SCHEMA, ["spec", "size"]).kind == "int-or-string"


def test_unknown_places_are_deduced() -> None:
    raw = merge_info(SCHEMA, ["spec", "raw"])
    assert raw.kind == "object" and not raw.deduced  # the field itself is typed
    assert merge_info(SCHEMA, ["spec", "raw", "anything", "deeper"]) == DEDUCED
    assert merge_info(SCHEMA, ["spec", "nope"]) == DEDUCED
    assert DEDUCED.list_type == "atomic" and DEDUCED.map_type == "granular"
