"""What the apiserver serves of each CustomResourceDefinition, kept in step with the definitions
in its watch cache (kube-apiserver's crdHandler and its serving info): a definition whose names
are accepted has each served version stored, cached and put in the registry of served resources
(apiserver/registry/served.py) within the watch event that brings it; a change to its spec or
accepted names rebuilds that (the old watch caches close their watches, whose clients resume on
the new); a definition deleted, or no longer accepted, is served no more. Every apiserver does
the same from its own cache, so several converge on what etcd holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import grpc

from apiserver import errors
from apiserver.admission.interfaces import Admission
from apiserver.registry.cacher import Cacher
from apiserver.registry.customresource.conversion import (
    WebhookConverter,
    webhook_client,
    webhook_conversion,
)
from apiserver.registry.customresource.scale import CustomScaler
from apiserver.registry.customresource.storage import JSONCodec, key_prefix
from apiserver.registry.customresource.strategy import CustomResourceStrategy
from apiserver.registry.generic.managed_fields import ManagedFields
from apiserver.registry.generic.store import Store
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import CustomResourceVersion, ServedResources
from apiserver.storage.etcd import EtcdClient
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD, Version
from podplane.apimachinery.fieldmanager.openapi_schema import custom_resource_type
from podplane.printers.custom import custom_resource_table

log = logging.getLogger(__name__)

# Makes (and starts) the watch cache of a custom resource version's store.
NewCacher = Callable[[Store[CustomObject]], Cacher[CustomObject]]


@dataclass(frozen=True)
class StorageParts:
    """What a custom resource's store shares with the built-in kinds' stores."""

    etcd: EtcdClient
    new_cacher: NewCacher
    admission: Admission | None
    # The watch caches a conversion webhook's Service is resolved from (services and
    # endpointslices); without them, only webhooks at a URL are called.
    cachers: Mapping[str, Cacher[Any]] = field(default_factory=dict)


def _signature(crd: CRD) -> tuple[str, bytes, bytes]:
    """What the storage of a definition is built from: a change to anything else (its status
    conditions, its labels) leaves it as it is."""
    return (
        crd.metadata.uid,
        crd.spec.SerializeToString(deterministic=True),
        crd.status.accepted_names.SerializeToString(deterministic=True),
    )


def terminating_refusal(plural: str, group: str) -> errors.APIError:
    """What a create gets while the definition is being deleted (MethodNotSupported)."""
    return errors.APIError(
        grpc.StatusCode.UNIMPLEMENTED,
        "MethodNotAllowed",
        "create not allowed while custom resource definition is terminating",
        errors.Details(group=group, kind=plural),
    )


class CustomResourceServing:
    """Follows the definitions' watch cache (a CacheObserver of it) and serves what they
    define."""

    def __init__(self, served: ServedResources, parts: StorageParts) -> None:
        self.served = served
        self.parts = parts
        self._signatures: dict[str, tuple[str, bytes, bytes]] = {}
        self._terminating: dict[str, bool] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.webhooks = webhook_client(parts.cachers)

    # ------------------------------------------------------------------ CacheObserver
    def changed(self, prev: CRD | None, obj: CRD | None) -> None:
        either = obj or prev
        if either is not None:
            self._sync(either.metadata.name, obj)

    def replaced(self, objects: Iterable[CRD]) -> None:
        current = {crd.metadata.name: crd for crd in objects}
        for name in list(self._signatures):
            if name not in current:
                self._sync(name, None)
        for name, crd in current.items():
            self._sync(name, crd)

    # ------------------------------------------------------------------ serving
    def _sync(self, name: str, crd: CRD | None) -> None:
        if crd is None or not definitions.served(crd):
            if name in self._signatures:
                log.info("custom resources of %s: no longer served", name)
                self._stop(self.served.of_definition(name))
                self.served.set_custom(name, [])
                del self._signatures[name]
                self._terminating.pop(name, None)
            return
        terminating = definitions.is_true(crd, definitions.TERMINATING)
        self._terminating[name] = terminating
        signature = _signature(crd)
        if self._signatures.get(name) == signature:
            # The same storage; the definition's conditions (Established, Terminating) move on.
            current = self.served.of_definition(name)
            self.served.set_custom(
                name, [replace(v, crd=crd, terminating=terminating) for v in current]
            )
            return
        old = self.served.of_definition(name)
        versions = [self._serve(crd, v, terminating) for v in definitions.served_versions(crd)]
        self.served.set_custom(name, versions)
        self._signatures[name] = signature
        self._stop(old)
        log.info(
            "custom resources of %s: serving %s",
            name,
            ", ".join(v.resource.api_version for v in versions) or "no version",
        )

    def _serve(self, crd: CRD, v: Version, terminating: bool) -> CustomResourceVersion:
        resource = definitions.resource(crd, v)
        rules = CustomResourceStrategy(crd, v, resource)
        storage = f"{crd.spec.group}/{definitions.storage_version(crd)}"
        webhook = webhook_conversion(crd)
        store: Store[CustomObject] = Store(
            self.parts.etcd,
            rules.strategy(),
            codec=(
                JSONCodec(storage, None, None)  # read as stored: the converter converts
                if webhook is not None
                else JSONCodec(storage, resource.api_version, rules.schema)
            ),
            prefix=key_prefix(crd.spec.group, resource.plural),
        )
        if webhook is not None:
            schemas = {other.name: definitions.version_schema(other) for other in crd.spec.versions}
            store.converter = WebhookConverter(self.webhooks, webhook, crd, v.name, schemas)
        store.admission = self.parts.admission
        store.managed_fields = ManagedFields(
            resource,
            custom_resource_type(definitions.schema_json(v) or {}),
            status=rules.status_enabled,
            served=frozenset(
                f"{crd.spec.group}/{other.name}" for other in definitions.served_versions(crd)
            ),
        )
        cacher = self.parts.new_cacher(store)
        cacher.start()
        name = crd.metadata.name
        warning = definitions.deprecation_warning(crd, v)
        api: ResourceAPI[CustomObject] = ResourceAPI(
            store,
            cacher,
            scaler=CustomScaler(rules.scale) if rules.scale is not None else None,
            table=custom_resource_table(v.additional_printer_columns),
            warnings=(warning,) if warning else (),
            create_refusal=lambda: (
                terminating_refusal(resource.plural, resource.group)
                if self._terminating.get(name)
                else None
            ),
        )
        return CustomResourceVersion(crd, v, api, rules.schema, terminating)

    def _stop(self, versions: Iterable[CustomResourceVersion]) -> None:
        for v in versions:
            reads = v.api.reads
            if isinstance(reads, Cacher):
                task = asyncio.get_running_loop().create_task(reads.stop())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    async def stop(self) -> None:
        """Stops every custom resource's watch cache (the apiserver's stop)."""
        for v in list(self.served.custom.values()):
            reads = v.api.reads
            if isinstance(reads, Cacher):
                await reads.stop()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        await self.webhooks.close()
