"""The plugin's sources in the apiserver (Kubernetes' informers): policies and bindings from their
watch caches, namespaces from theirs (then storage, for one created a moment ago), a paramKind's
objects from its resource's reads (the watch cache, built-in or custom), the equivalent
resources among those served, and the server's authorizer for the CEL Authorizer library."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apiserver import errors
from apiserver.admission.lookups import CachedThenStored
from apiserver.admission.param_authorization import ParamAuthorization, param_authorization
from apiserver.admission.policy.compiled import ParamKind
from apiserver.admission.policy.matching import Matched
from apiserver.admission.policy.plugin import Sources, ValidatingAdmissionPolicy, object_json
from apiserver.admission.policy.type_checking import (
    GroupVersionKind,
    KindsFor,
    SchemaType,
    builtin_kinds,
    builtin_schema_type,
)
from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.user import UserInfo
from apiserver.controlplane.policy_status import PolicyStatusController
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic.store import Store
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import ServedResources
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.structural.cel.types import Type, decl_type


@dataclass(frozen=True)
class ServedParams:
    """A paramKind's served resource (ParamResource)."""

    resource: Resource
    api: ResourceAPI[Any]

    @property
    def namespaced(self) -> bool:
        return self.resource.namespaced

    async def get(self, namespace: str, name: str) -> JSONObject | None:
        found = self.api.reads.peek(namespace, name)
        if found is None:
            try:
                found = await self.api.reads.get(namespace, name)
            except errors.APIError as e:
                if e.reason == "NotFound":
                    return None
                raise
        return object_json(self.resource, found)

    async def list(self, namespace: str) -> Sequence[JSONObject]:
        listed = await self.api.reads.list(namespace)
        return [j for obj in listed.items if (j := object_json(self.resource, obj)) is not None]


@dataclass(frozen=True)
class ServedParamSource:
    apis: Callable[[], ServedResources]

    def resource(self, kind: ParamKind) -> ServedParams | None:
        apis = self.apis()
        resource = apis.by_kind(kind.api_version, kind.kind)
        if resource is None:
            return None
        api = apis.lookup(resource.group, resource.version, resource.plural)
        return ServedParams(resource, api) if api is not None else None


def equivalents(
    apis: Callable[[], ServedResources],
) -> Callable[[Resource], Sequence[Matched]]:
    """EquivalentResourcesFor: the served resources of the same group and plural."""

    def of(resource: Resource) -> Sequence[Matched]:
        return [
            Matched(r.group, r.version, r.plural, r.kind)
            for r in apis().resources()
            if r.group == resource.group and r.plural == resource.plural
        ]

    return of


def validating_admission_policy(
    cachers: Mapping[str, Cacher[Any]],
    stores: Mapping[str, Store[Any]],
    apis: Callable[[], ServedResources],
    authorizer: Authorizer,
) -> ValidatingAdmissionPolicy:
    namespaces = cachers["namespaces"]

    async def namespace(name: str) -> JSONObject | None:
        ns = namespaces.peek("", name)
        if ns is None:
            try:
                ns = await stores["namespaces"].get("", name)
            except errors.APIError as e:
                if e.reason == "NotFound":
                    return None
                raise
        return object_json(namespaces.store.resource, ns)

    def authorize(
        user: UserInfo, verb: str, group: str, resource: str, sub: str, ns: str, name: str
    ) -> tuple[bool, str]:
        decision = authorizer.authorize(Attributes(user, verb, resource, sub, ns, name, group))
        return decision.allowed, decision.reason

    def authorize_path(user: UserInfo, verb: str, path: str) -> bool:
        return authorizer.authorize_non_resource(user, verb, path)

    return ValidatingAdmissionPolicy(
        Sources(
            policies=lambda: list(cachers["validatingadmissionpolicies"].objects.values()),
            bindings=lambda: list(cachers["validatingadmissionpolicybindings"].objects.values()),
            namespace=namespace,
            params=ServedParamSource(apis),
            equivalents=equivalents(apis),
            authorize=authorize,
            authorize_path=authorize_path,
        )
    )


def served_kinds(apis: Callable[[], ServedResources]) -> KindsFor:
    """RESTMapper.KindsFor over what is served: built-in kinds, then custom resources'."""

    def kinds_for(group: str, version: str, resource: str) -> list[GroupVersionKind]:
        found = builtin_kinds(group, version, resource)
        custom = apis().custom_version(group, version, resource)
        if custom is not None:
            found.append(GroupVersionKind(group, version, custom.resource.kind))
        return found

    return kinds_for


def served_schema_type(apis: Callable[[], ServedResources]) -> SchemaType:
    """A kind's CEL type: a built-in kind's OpenAPI schema, or a served custom resource
    version's structural schema."""

    def schema_type(gvk: GroupVersionKind) -> Type | None:
        found = builtin_schema_type(gvk)
        if found is not None:
            return found
        for custom in apis().custom.values():
            r = custom.resource
            if (r.group, r.version, r.kind) == (gvk.group, gvk.version, gvk.kind):
                schema = custom.schema
                return decl_type(schema.structural, is_resource_root=True) if schema else None
        return None

    return schema_type


def policy_status_controller(
    cachers: Mapping[str, Cacher[Any]],
    stores: Mapping[str, Store[Any]],
    apis: Callable[[], ServedResources],
) -> PolicyStatusController:
    """The policies' status controller, following their watch cache."""
    cache = cachers["validatingadmissionpolicies"]
    controller = PolicyStatusController(
        cache,
        stores["validatingadmissionpolicies"],
        served_kinds(apis),
        served_schema_type(apis),
    )
    cache.observers.append(controller)
    return controller


def policy_param_authorization(
    cachers: Mapping[str, Cacher[Any]],
    stores: Mapping[str, Store[Any]],
    apis: Callable[[], ServedResources],
    authorizer: Authorizer,
) -> ParamAuthorization:
    """The policies' and bindings' check of their writer's read access to the parameters
    (their strategies' in Kubernetes)."""
    cache = cachers["validatingadmissionpolicies"]
    return param_authorization(
        authorizer,
        lambda: apis().custom_resources(),
        CachedThenStored(cache, stores["validatingadmissionpolicies"]).lookup,
        lambda name: cache.peek("", name),
    )
