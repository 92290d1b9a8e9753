"""The system priority classes at start: created when missing, left alone when there (even when
changed), a create that finds one made by another apiserver meanwhile is done, and storage
failing is retried for 30 s before the apiserver gives up."""

from __future__ import annotations

import pytest

from apiserver import errors
from apiserver.registry.scheduling.system_priority_classes import ensure_system_priority_classes
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import resources


class Classes:
    def __init__(self, *stored: scheduling_pb2.PriorityClass) -> None:
        self.stored = {c.metadata.name: c for c in stored}
        self.creates: list[str] = []
        # Made by another apiserver between our get and our create.
        self.made_meanwhile: set[str] = set()
        self.failures = 0

    async def get(self, namespace: str, name: str) -> scheduling_pb2.PriorityClass:
        if self.failures:
            self.failures -= 1
            raise errors.unavailable("etcd is unreachable")
        if name not in self.stored:
            raise errors.not_found(resources.PRIORITY_CLASS, name)
        return self.stored[name]

    async def create(self, obj: scheduling_pb2.PriorityClass) -> scheduling_pb2.PriorityClass:
        name = obj.metadata.name
        if name in self.made_meanwhile or name in self.stored:
            raise errors.already_exists(resources.PRIORITY_CLASS, name)
        self.creates.append(name)
        self.stored[name] = obj
        return obj


class Sleeps:
    def __init__(self) -> None:
        self.total = 0.0

    async def __call__(self, seconds: float) -> None:
        self.total += seconds


def named(name: str, value: int, description: str = "") -> scheduling_pb2.PriorityClass:
    pc = scheduling_pb2.PriorityClass(value=value, description=description)
    pc.metadata.name = name
    return pc


async def test_created_when_missing() -> None:
    store = Classes()
    await ensure_system_priority_classes(store)
    assert store.creates == ["system-node-critical", "system-cluster-critical"]
    assert store.stored["system-node-critical"].value == 2000001000
    assert store.stored["system-cluster-critical"].value == 2000000000
    assert store.stored["system-node-critical"].description == (
        "Used for system critical pods that must not be moved from their current node."
    )


async def test_left_alone_when_there_or_made_meanwhile() -> None:
    relabelled = named("system-node-critical", 2000001000, "ours")
    store = Classes(relabelled)
    store.made_meanwhile.add("system-cluster-critical")
    await ensure_system_priority_classes(store)
    assert store.creates == []
    assert store.stored["system-node-critical"].description == "ours"


async def test_storage_failures_are_retried_then_given_up() -> None:
    store, sleeps = Classes(), Sleeps()
    store.failures = 3
    await ensure_system_priority_classes(store, sleep=sleeps)
    assert sleeps.total == 3
    assert len(store.creates) == 2

    store, sleeps = Classes(), Sleeps()
    store.failures = 1000
    with pytest.raises(RuntimeError, match="unable to add default system priority classes"):
        await ensure_system_priority_classes(store, sleep=sleeps)
    assert sleeps.total == 30
