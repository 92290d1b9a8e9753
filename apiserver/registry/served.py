"""Every resource the apiserver serves, as both doors, discovery, OpenAPI and authorization find
them at run time: the built-in kinds (the table of kinds, known at import, by plural) and each
served version of every CustomResourceDefinition whose names are accepted (added and removed
while the server runs, apiserver/registry/customresource/serving.py). One registry for both: a
custom resource's verbs are a ResourceAPI over the same generic store and watch cache as a
built-in kind's, never a path of their own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from apiserver.registry.componentstatus.rest import ComponentStatuses
from apiserver.registry.resource import ResourceAPI
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery import resources
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.resources import CustomResource, Resource
from podplane.apimachinery.structural import CustomResourceSchema

# (group, version, plural): a resource as a request path names it.
ResourceKey = tuple[str, str, str]


def key_of(r: Resource) -> ResourceKey:
    return (r.group, r.version, r.plural)


@dataclass(frozen=True)
class CustomResourceVersion:
    """One served version of a CustomResourceDefinition: the definition as it was when its
    storage was built, the version, and its verbs."""

    crd: apiextensions_pb2.CustomResourceDefinition
    version: apiextensions_pb2.CustomResourceDefinitionVersion
    api: ResourceAPI[CustomObject]
    schema: CustomResourceSchema | None
    # Being deleted: its objects are being removed, none may be created.
    terminating: bool = False

    @property
    def resource(self) -> CustomResource:
        resource: CustomResource = self.api.resource
        return resource

    @property
    def subresources(self) -> tuple[str, ...]:
        out = []
        if definitions.has_status(self.version):
            out.append("status")
        if definitions.scale(self.version) is not None:
            out.append("scale")
        return tuple(out)

    @property
    def established(self) -> bool:
        """Whether discovery lists it (it is served from the moment its names are accepted)."""
        return definitions.is_true(self.crd, definitions.ESTABLISHED)

    @property
    def preferred(self) -> bool:
        """Whether it is the version discovery lists first for its group."""
        served = definitions.served_versions(self.crd)
        return bool(served) and served[0].name == self.version.name


@dataclass
class ServedResources(Mapping[str, ResourceAPI[Any]]):
    """The built-in kinds' verbs by plural (a Mapping, as every caller of a built-in kind reads
    it: apis["pods"]) and the custom resources' by group, version and plural."""

    builtin: dict[str, ResourceAPI[Any]]
    custom: dict[ResourceKey, CustomResourceVersion] = field(default_factory=dict)
    # The built-in kinds' other served versions (resources.OTHER_VERSIONS: registry/versions.py).
    versions: dict[ResourceKey, ResourceAPI[Any]] = field(default_factory=dict)
    # The computed kinds' verbs, by plural (resources.COMPUTED: componentstatuses).
    computed: dict[str, ComponentStatuses] = field(default_factory=dict)
    # Moves whenever the custom resources change: what documents built from them are cached by.
    revision: int = 0

    # ------------------------------------------------------------------ built-in, by plural
    def __getitem__(self, plural: str) -> ResourceAPI[Any]:
        return self.builtin[plural]

    def __iter__(self) -> Iterator[str]:
        return iter(self.builtin)

    def __len__(self) -> int:
        return len(self.builtin)

    # ------------------------------------------------------------------ every resource
    def lookup(self, group: str, version: str, plural: str) -> ResourceAPI[Any] | None:
        """The verbs of the resource a request names, built-in or custom; None if not served."""
        api = self.builtin.get(plural)
        if api is not None and (api.resource.group, api.resource.version) == (group, version):
            return api  # a built-in kind is never shadowed by a definition
        other = self.versions.get((group, version, plural))
        if other is not None:
            return other
        found = self.custom.get((group, version, plural))
        return found.api if found is not None else None

    def resolve(self, group: str, version: str, plural: str) -> Resource | None:
        """The served resource a request path names (the REST door's request parsing)."""
        api = self.lookup(group, version, plural)
        return api.resource if api is not None else None

    def custom_version(self, group: str, version: str, plural: str) -> CustomResourceVersion | None:
        return self.custom.get((group, version, plural))

    def resources(self) -> list[Resource]:
        """Every served resource: the built-in kinds in the table's order, their other versions,
        then the custom resources."""
        return [
            *(api.resource for api in self.builtin.values()),
            *(api.resource for api in self.versions.values()),
            *self.custom_resources(),
        ]

    def custom_resources(self) -> list[CustomResource]:
        return [c.resource for c in self.custom.values()]

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        """The served resource of a kind in a group version (an owner reference's)."""
        for r in self.resources():
            if r.api_version == api_version and r.kind == kind:
                return r
        return None

    def served_kinds(self) -> frozenset[tuple[str, str]]:
        """Every (apiVersion, kind) a written object may say it is."""
        return frozenset(
            {(r.api_version, r.kind) for r in resources.SERVED}
            | {(r.api_version, r.kind) for r in self.custom_resources()}
        )

    # ------------------------------------------------------------------ changes
    def set_custom(self, crd_name: str, versions: list[CustomResourceVersion]) -> None:
        """Serves exactly `versions` of the definition `crd_name` (none: it is not served)."""
        for key, entry in list(self.custom.items()):
            if entry.crd.metadata.name == crd_name:
                del self.custom[key]
        for v in versions:
            self.custom[key_of(v.resource)] = v
        self.revision += 1

    def of_definition(self, crd_name: str) -> list[CustomResourceVersion]:
        return [c for c in self.custom.values() if c.crd.metadata.name == crd_name]
