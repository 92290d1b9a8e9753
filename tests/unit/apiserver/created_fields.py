"""What the tests of a create's managed fields compare: `created` against the general path (the
whole object's JSON through FieldManager.update, as every other write goes), entry by entry
(manager, operation, apiVersion, time, FieldsV1 text), byte for byte."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from apiserver.objects import object_meta
from apiserver.registry.generic.managed_fields import ManagedFields, Manager
from podplane.apimachinery import codec, manifest
from podplane.apimachinery.resources import Resource

KUBECTL = Manager(user_agent="kubectl/v1.36.4 (linux/amd64)")
NAMED = Manager(field_manager="replicaset-controller")
NOBODY = Manager()  # recorded as "unknown"


class Clock:
    """A time per call, so that the entries show how often each path asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"2024-05-01T10:{self.calls // 60:02d}:{self.calls % 60:02d}Z"


def general(fields: ManagedFields[Any], obj: Message, manager: Manager) -> list[Any]:
    """The general path's entries for a create of `obj` (what `created` recorded before it
    had a path of its own for requests without managedFields)."""
    meta = object_meta(obj)
    requested = list(meta.managed_fields)
    bare = copy.deepcopy(obj)
    object_meta(bare).ClearField("managed_fields")
    try:
        new = codec.encode(bare)
    except ValueError:
        return []
    return fields.manager.update(None, new, (), requested, manager.name)


def fresh(resource: Resource[Any, Any, Any], **options: Any) -> ManagedFields[Any]:
    fields: ManagedFields[Any] = ManagedFields(resource, **options)
    fields.manager.clock = Clock()
    return fields


def assert_alike(
    make: Any, objects: Sequence[tuple[Message, Manager]], expect_entries: bool = True
) -> None:
    """Creates each object, in order, through `created` and through the general path (each
    with a ManagedFields of its own and its own clock), and compares the entries."""
    fast, reference = make(), make()
    recorded = 0
    for obj, manager in objects:
        expected = general(reference, obj, manager)
        created = copy.deepcopy(obj)
        fast.created(created, manager)
        got = list(object_meta(created).managed_fields)
        assert [e.SerializeToString(deterministic=True) for e in got] == [
            e.SerializeToString(deterministic=True) for e in expected
        ], f"{object_meta(obj).name}: {got} != {expected}"
        recorded += len(got)
    assert fast.manager.clock.calls == reference.manager.clock.calls == recorded
    if expect_entries:
        assert recorded


def obj(data: dict[str, Any]) -> Message:
    return manifest.from_dict(data)
