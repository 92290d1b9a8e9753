"""The two Handles (scheduler/framework/interfaces.py::Handle): podplane.client's
SharedInformerFactory, the scheduler's informers, one per kind, which plugins list from and the
scheduler starts and waits for before it schedules; and StaticListers, fixed objects for a
framework with no cluster behind it (unit tests, benchmarks), the default."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client
from podplane.client.informer import object_key

M = TypeVar("M", bound=Message)


class StaticLister(Generic[M]):
    def __init__(self, objects: Iterable[M] = ()) -> None:
        self.objects: dict[str, M] = {object_key(o): o for o in objects}

    def get(self, key: str) -> M | None:
        return self.objects.get(key)

    def list(self) -> builtins.list[M]:
        return list(self.objects.values())

    def by_namespace(self, namespace: str) -> builtins.list[M]:
        return [o for key, o in self.objects.items() if key.startswith(f"{namespace}/")]


class StaticListers:
    def __init__(self, objects: Mapping[str, Iterable[Message]] | None = None) -> None:
        """`objects` by plural; a kind not given has none."""
        self._listers: dict[str, StaticLister[Any]] = {
            plural: StaticLister(objs) for plural, objs in (objects or {}).items()
        }

    @property
    def client(self) -> Client | None:
        return None

    def lister(self, resource: Resource[M]) -> StaticLister[M]:
        lister: StaticLister[M] = self._listers.setdefault(resource.plural, StaticLister())
        return lister
