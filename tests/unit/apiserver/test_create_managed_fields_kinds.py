"""A create's managed fields (tests/unit/apiserver/test_create_managed_fields.py) for every kind,
with odd values, and for custom resources: what the general path records."""

from __future__ import annotations

import copy
import functools
import random
from typing import Any

import pytest
from google.protobuf.message import Message

from apiserver.objects import object_meta
from apiserver.registry.generic.managed_fields import ManagedFields
from apiserver.registry.strategy import STRATEGIES
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import codec, resources
from podplane.apimachinery.fieldmanager.openapi_schema import custom_resource_type
from podplane.apimachinery.resources import Resource
from tests.fuzz import grpc_mutate, samples
from tests.unit.apiserver.created_fields import (
    KUBECTL,
    NAMED,
    NOBODY,
    assert_alike,
    fresh,
    general,
)

# ---------------------------------------------------------------- every kind, odd values


def outcome(record: Any) -> Any:
    """The entries a path records, or the type of error it raises."""
    try:
        return [e.SerializeToString(deterministic=True) for e in record()]
    except Exception as e:  # noqa: BLE001 - the paths must fail alike too
        return type(e)


def created_by(fields: ManagedFields[Any], obj: Message) -> list[Any]:
    fields.created(obj, NAMED)
    return list(object_meta(obj).managed_fields)


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.plural)
def test_every_kind_records_what_the_general_path_records(
    resource: Resource[Any, Any, Any],
) -> None:
    """Each kind's fuzzing sample (a Node, a Deployment, ...), defaulted, and mutations of it
    (odd strings and numbers, duplicated, emptied and cleared fields at any depth), each
    created twice under two names: the second create of a spec finds its text remembered."""
    rng = random.Random(resource.plural)
    fast, reference = fresh(resource), fresh(resource)
    sample, _ = codec.decode(resource.message, samples.sample(resource, "a", "default"))
    STRATEGIES[resource.plural].default(sample)  # as the store has it when it records
    for i in range(16):
        mutant = copy.deepcopy(sample)
        if i:
            grpc_mutate.mutate(rng, mutant, rng.randrange(1, 6))
        for name in ("a", "b"):
            created = copy.deepcopy(mutant)
            object_meta(created).ClearField("managed_fields")
            object_meta(created).name = f"{name}-{i}"
            expected = outcome(functools.partial(general, reference, created, NAMED))
            assert outcome(functools.partial(created_by, fast, created)) == expected, i


# ---------------------------------------------------------------- custom resources

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "string"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["port"],
                    "items": {
                        "type": "object",
                        "properties": {"port": {"type": "integer"}, "name": {"type": "string"}},
                    },
                },
            },
        },
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
        "data": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def widget(name: str, **content: Any) -> Message:
    return codec.decode(
        CustomObject,
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            **content,
        },
    )[0]


def test_custom_resources_record_what_the_general_path_records() -> None:
    resource = resources.custom_resource(
        "example.com", "v1", "Widget", "widgets", namespaced=True, has_status=True
    )
    spec = {"size": "big", "ports": [{"port": 80, "name": "http"}, {"port": 81}]}
    objects = [
        (widget("a", spec=spec, status={"ready": True}), KUBECTL),
        (widget("b", spec=spec, data={"x": {"y": [1, 2]}, "z": None}), NAMED),
        (widget("c"), NOBODY),
    ]
    assert_alike(
        lambda: fresh(resource, schema=custom_resource_type(WIDGET_SCHEMA), status=True), objects
    )
