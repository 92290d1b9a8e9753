"""The two Handles (scheduler/framework/interfaces.py::Handle): SharedInformers, the scheduler's
informers, one per kind, which plugins list from and the scheduler runs and waits for before it
schedules (client-go's SharedInformerFactory); and StaticListers, fixed objects for a framework
with no cluster behind it (unit tests, benchmarks), the default."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client
from podplane.client.informer import Informer, object_key

M = TypeVar("M", bound=Message)


class SharedInformers:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._informers: dict[str, Informer[Any]] = {}

    @property
    def client(self) -> Client:
        return self._client

    def informer(self, resource: Resource[M]) -> Informer[M]:
        """The one informer of the kind, made on first use."""
        informer: Informer[M] | None = self._informers.get(resource.plural)
        if informer is None:
            informer = Informer(self._client.for_resource(resource), name=resource.plural)
            self._informers[resource.plural] = informer
        return informer

    def lister(self, resource: Resource[M]) -> Informer[M]:
        return self.informer(resource)

    def informers(self) -> dict[str, Informer[Any]]:
        """Every informer made so far, by plural."""
        return dict(self._informers)


class StaticLister(Generic[M]):
    def __init__(self, objects: Iterable[M] = ()) -> None:
        self.objects: dict[str, M] = {object_key(o): o for o in objects}

    def get(self, key: str) -> M | None:
        return self.objects.get(key)

    def list(self) -> builtins.list[M]:
        return list(self.objects.values())


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
