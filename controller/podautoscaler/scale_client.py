"""The target's scale subresource (client-go's scale client and the RESTMapper the HPA
controller finds the target's resource with): the kind of spec.scaleTargetRef is looked up in
its group/version's discovery document (a built-in workload or a custom resource whose
definition serves /scale), then its autoscaling/v1 Scale is read and written through the REST
door at .../<resource>/<name>/scale."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject
from podplane.client.rest import RestClient, RestError


class MappingError(Exception):
    pass


@dataclass(frozen=True)
class Mapping:
    group: str
    version: str
    resource: str

    def scale_path(self, namespace: str, name: str) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{prefix}/namespaces/{namespace}/{self.resource}/{name}/scale"

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


def parse_group_version(api_version: str) -> tuple[str, str]:
    """schema.ParseGroupVersion: "apps/v1", "v1"; more than one slash is an error."""
    if api_version.count("/") > 1:
        raise MappingError(f"unexpected GroupVersion string: {api_version}")
    if "/" not in api_version:
        return "", api_version
    group, version = api_version.split("/")
    return group, version


@dataclass(frozen=True)
class Scale:
    """An autoscaling/v1 Scale as the apiserver answered it (kept whole, to write it back)."""

    body: JSONObject

    @property
    def spec_replicas(self) -> int:
        return int((self.body.get("spec") or {}).get("replicas") or 0)

    @property
    def status_replicas(self) -> int:
        return int((self.body.get("status") or {}).get("replicas") or 0)

    @property
    def selector(self) -> str:
        return str((self.body.get("status") or {}).get("selector") or "")

    def with_replicas(self, replicas: int) -> Scale:
        spec = dict(self.body.get("spec") or {})
        spec["replicas"] = replicas
        return Scale({**self.body, "spec": spec})


class ScaleClient:
    def __init__(self, rest: RestClient) -> None:
        self.rest = rest
        # Discovery answers by group/version: a kind's resource does not change while its
        # definition exists, and a miss is looked up again.
        self._resources: dict[tuple[str, str, str], str] = {}

    async def mapping(self, api_version: str, kind: str) -> Mapping:
        group, version = parse_group_version(api_version)
        key = (group, version, kind)
        if key not in self._resources:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                listed = await self.rest.get(path)
            except RestError as e:
                if not e.not_found:
                    raise
                listed = {}
            for r in listed.get("resources") or []:
                if isinstance(r, dict) and "/" not in str(r.get("name")):
                    self._resources[(group, version, str(r.get("kind")))] = str(r["name"])
        resource = self._resources.get(key)
        if resource is None:
            raise MappingError(f'no matches for kind "{kind}" in group "{group}"')
        return Mapping(group, version, resource)

    async def get(self, mapping: Mapping, namespace: str, name: str) -> Scale:
        return Scale(await self.rest.get(mapping.scale_path(namespace, name)))

    async def update(self, mapping: Mapping, namespace: str, scale: Scale) -> Scale:
        name = str((scale.body.get("metadata") or {}).get("name", ""))
        return Scale(await self.rest.put(mapping.scale_path(namespace, name), scale.body))
