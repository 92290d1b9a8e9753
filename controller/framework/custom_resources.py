"""The custom resources a controller acts on, as the controller-manager discovers them: one
Resource per established CustomResourceDefinition (its preferred version, as discovery lists
first), read from the process's shared informer of definitions; consumers are told when the set
changes (the garbage collector then watches a new kind, or stops watching a removed one)."""

from __future__ import annotations

from collections.abc import Callable

from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.resources import CustomResource, Resource
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory

CRD = apiextensions_pb2.CustomResourceDefinition


def _served(crd: CRD) -> list[CustomResource]:
    if not definitions.is_true(crd, definitions.ESTABLISHED) or crd.metadata.deletion_timestamp:
        return []
    return [definitions.resource(crd, v) for v in definitions.served_versions(crd)]


class CustomResourceKinds:
    def __init__(self, informers: SharedInformerFactory) -> None:
        self.definitions: Informer[CRD] = informers.informer_for(
            resources.CUSTOM_RESOURCE_DEFINITION
        )
        self._listeners: list[Callable[[], None]] = []
        self.definitions.add_handler(
            on_add=lambda _: self._changed(),
            on_update=lambda old, new: self._changed() if _served(old) != _served(new) else None,
            on_delete=lambda _: self._changed(),
        )

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def preferred(self) -> list[CustomResource]:
        """Each established definition's preferred version: one Resource per custom kind."""
        out = []
        for crd in self.definitions.list():
            served = _served(crd)
            if served:
                out.append(served[0])
        return sorted(out, key=lambda r: (r.group, r.plural))

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        """The served custom resource of a kind in a group version (an owner reference's)."""
        for crd in self.definitions.list():
            for r in _served(crd):
                if (r.api_version, r.kind) == (api_version, kind):
                    return r
        return None
