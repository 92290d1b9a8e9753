"""kube-system's `extension-apiserver-authentication` ConfigMap (kube-apiserver's
clusterauthenticationtrust controller): the client CA (client-ca-file) and, with a front-proxy
CA, the request-header settings (requestheader-client-ca-file, requestheader-allowed-names,
requestheader-username-headers, requestheader-group-headers,
requestheader-extra-headers-prefix, each list JSON-encoded as Go's json.Marshal writes it), from
which an aggregated API server learns whom to trust; written when the apiserver starts and again
whenever someone changes it. With it, the bootstrap policy's `extension-apiserver-authentication-
reader` Role in kube-system (get, list, watch of that ConfigMap) and its
`system::extension-apiserver-authentication-reader` binding to the controller-manager and the
scheduler, as Kubernetes' namespace_policy.go declares them (the bootstrap policy's own objects,
apiserver/auth/bootstrap_namespace_roles.py: created here when missing, reconciled at start)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from apiserver import errors
from apiserver.auth.bootstrap_namespace_roles import (
    AUTHENTICATION_READER as READER_ROLE,
)
from apiserver.auth.bootstrap_namespace_roles import (
    AUTHENTICATION_READER_BINDING as READER_BINDING,
)
from apiserver.auth.bootstrap_namespace_roles import namespace_role_bindings, namespace_roles
from apiserver.options.aggregator import AggregatorOptions
from apiserver.registry.apiextensions.loop import DefinitionLoop
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
CONFIG_MAP = "extension-apiserver-authentication"

T = TypeVar("T")


class Writes(Protocol[T]):
    async def get(self, namespace: str, name: str) -> T: ...

    async def create(self, obj: T) -> T: ...

    async def update(self, obj: T) -> T: ...


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def authentication_data(client_ca: bytes, aggregator: AggregatorOptions | None) -> dict[str, str]:
    """The ConfigMap's data, as Kubernetes writes it."""
    data: dict[str, str] = {}
    if client_ca:
        data["client-ca-file"] = client_ca.decode()
    if aggregator is not None and aggregator.requestheader_ca:
        data["requestheader-username-headers"] = _json_list(
            aggregator.requestheader_username_headers
        )
        data["requestheader-group-headers"] = _json_list(aggregator.requestheader_group_headers)
        data["requestheader-extra-headers-prefix"] = _json_list(
            aggregator.requestheader_extra_headers_prefix
        )
        data["requestheader-client-ca-file"] = aggregator.requestheader_ca.decode()
        data["requestheader-allowed-names"] = _json_list(aggregator.requestheader_allowed_names)
    return data


_PEM_END = "-----END CERTIFICATE-----"
_CA_KEYS = ("client-ca-file", "requestheader-client-ca-file")


def _certificates(bundle: str) -> list[str]:
    return [c.strip() + "\n" + _PEM_END for c in bundle.split(_PEM_END) if c.strip()]


def _listed(value: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    return [v for v in parsed if isinstance(v, str)] if isinstance(parsed, list) else []


def combined(existing: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """The ConfigMap's data with this apiserver's added: each CA bundle the union of the
    certificates, each list the union of its values, in the order first seen."""
    out = dict(existing)
    for key, value in own.items():
        if key not in out:
            out[key] = value
        elif key in _CA_KEYS:
            have = _certificates(out[key])
            added = [c for c in _certificates(value) if c not in have]
            if added:
                out[key] = "\n".join([*have, *added]) + "\n"
        else:
            have = _listed(out[key])
            added = [v for v in _listed(value) if v not in have]
            if added:
                out[key] = _json_list([*have, *added])
    return out


def reader_role() -> rbac_pb2.Role:
    return next(r for r in namespace_roles() if r.metadata.name == READER_ROLE)


def reader_binding() -> rbac_pb2.RoleBinding:
    return next(b for b in namespace_role_bindings() if b.metadata.name == READER_BINDING)


async def _ensure(store: Writes[T], obj: T, name: str) -> None:
    try:
        await store.create(obj)
    except errors.APIError as e:
        if e.reason != "AlreadyExists":
            raise


class AuthenticationTrust:
    """Keeps the ConfigMap (a CacheObserver of the ConfigMaps' cache: a change to it is
    undone) and creates the reader Role and binding when missing."""

    def __init__(
        self,
        config_maps: Writes[core_pb2.ConfigMap],
        roles: Writes[rbac_pb2.Role],
        role_bindings: Writes[rbac_pb2.RoleBinding],
        data: dict[str, str],
    ) -> None:
        self.config_maps, self.roles, self.role_bindings = config_maps, roles, role_bindings
        self.data = data
        self.loop = DefinitionLoop("cluster_authentication_trust_controller", self.reconcile)

    def changed(self, prev: core_pb2.ConfigMap | None, obj: core_pb2.ConfigMap | None) -> None:
        current = obj or prev
        if current is not None and (current.metadata.namespace, current.metadata.name) == (
            NAMESPACE,
            CONFIG_MAP,
        ):
            self.loop.enqueue(CONFIG_MAP)

    def replaced(self, objects: Iterable[core_pb2.ConfigMap]) -> None:
        self.loop.enqueue(CONFIG_MAP)

    async def run(self) -> None:
        self.loop.enqueue(CONFIG_MAP)
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        await _ensure(self.roles, reader_role(), READER_ROLE)
        await _ensure(self.role_bindings, reader_binding(), READER_BINDING)
        await self.write()
        return None

    async def write(self) -> None:
        """writeConfigMap: created, or updated when this apiserver's data adds to it (every
        apiserver of the cluster writes its own: the union is kept, as Kubernetes'
        combinedClusterAuthenticationInfo keeps it, so apiservers of different flags agree)."""
        try:
            existing = await self.config_maps.get(NAMESPACE, CONFIG_MAP)
        except errors.APIError as e:
            if e.reason != "NotFound":
                raise
            created = core_pb2.ConfigMap(
                api_version="v1",
                kind="ConfigMap",
                metadata=meta_pb2.ObjectMeta(name=CONFIG_MAP, namespace=NAMESPACE),
                data=self.data,
            )
            await self.config_maps.create(created)
            return
        data = combined(dict(existing.data), self.data)
        if dict(existing.data) == data:
            return
        updated = core_pb2.ConfigMap()
        updated.CopyFrom(existing)
        updated.data.clear()
        updated.data.update(data)
        await self.config_maps.update(updated)
        log.info("updated %s/%s", NAMESPACE, CONFIG_MAP)
