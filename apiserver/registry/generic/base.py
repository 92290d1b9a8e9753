"""What every verb of the generic store uses: one kind's keys in etcd, its storage codec, its
validation, and etcd's errors as the API's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission.interfaces import Admission
from apiserver.objects import T, object_meta
from apiserver.registry.generic.claims import Allocator, Claims
from apiserver.registry.generic.codec import MAX_OBJECT_BYTES, ProtobufCodec, StorageCodec
from apiserver.registry.generic.managed_fields import ManagedFields
from apiserver.registry.strategies.base import Strategy
from apiserver.storage.etcd import (
    ClaimingWrite,
    EtcdClient,
    EtcdRequestTooLarge,
    EtcdUnavailable,
    FutureRevisionError,
    KeyValue,
)
from apiserver.validation.fields import FieldError, forbidden, invalid_error

R = TypeVar("R")


class VersionConverter(Protocol[T]):
    """Converts a kind's objects between the version its store serves and the storage version
    (a custom resource's conversion webhook): what the store reads from etcd is converted
    before anything uses it, what it writes after admission and validation."""

    async def to_served(self, objects: list[T]) -> list[T]: ...

    async def to_storage(self, obj: T) -> T: ...


class StoreBase(Generic[T]):
    """One kind's objects in etcd: where they are, how they are encoded and validated."""

    def __init__(
        self,
        etcd: EtcdClient,
        strategy: Strategy[T],
        *,
        codec: StorageCodec[T] | None = None,
        prefix: str = "",
    ) -> None:
        self.etcd = etcd
        self.strategy = strategy
        self.resource = strategy.resource
        self.codec: StorageCodec[T] = codec or ProtobufCodec(strategy.new)
        self.prefix = (prefix or f"/registry/{self.resource.plural}/").encode()
        # The admission chain (apiserver/admission/plugins.py), set by the server; None admits
        # everything.
        self.admission: Admission | None = None
        # The pools a kind's objects take values from (services: cluster IPs, node ports).
        self.allocator: Allocator[T] | None = None
        # metadata.managedFields, kept on every create and update.
        self.managed_fields: ManagedFields[T] = ManagedFields(self.resource)
        # Converts what is read and written when the storage version is another (None: the
        # codec reads and writes the served version).
        self.converter: VersionConverter[T] | None = None

    # ------------------------------------------------------------------ keys and codec
    def key(self, namespace: str, name: str) -> bytes:
        if not name:
            raise errors.bad_request("name: Required value: resource name may not be empty")
        if self.resource.namespaced:
            return self.prefix + f"{namespace or 'default'}/{name}".encode()
        return self.prefix + name.encode()

    def range_prefix(self, namespace: str) -> bytes:
        if self.resource.namespaced and namespace:
            return self.prefix + f"{namespace}/".encode()
        return self.prefix

    def decode(self, kv: KeyValue) -> T:
        obj = self.codec.decode(kv.value)
        object_meta(obj).resource_version = str(kv.mod_revision)
        return obj

    def encode(self, obj: T) -> bytes:
        data = self.codec.encode(obj)
        if len(data) > MAX_OBJECT_BYTES:
            raise errors.too_large_for_etcd()
        return data

    async def read(self, kv: KeyValue) -> T:
        """The stored object at the served version."""
        return (await self.read_all([kv]))[0]

    async def read_all(self, kvs: Sequence[KeyValue]) -> list[T]:
        """Stored objects at the served version, converted together (one conversion request
        for a list's page)."""
        objects = [self.decode(kv) for kv in kvs]
        if self.converter is None or not objects:
            return objects
        return await self.converter.to_served(objects)

    async def stored(self, obj: T) -> bytes:
        """The bytes to write for `obj`: converted to the storage version, encoded."""
        if self.converter is not None:
            obj = await self.converter.to_storage(obj)
        return self.encode(obj)

    def namespace_of(self, obj: T) -> str:
        if self.resource.namespaced:
            return str(object_meta(obj).namespace or "default")
        return ""

    def namespace_or_default(self, namespace: str) -> str:
        return (namespace or "default") if self.resource.namespaced else ""

    # ------------------------------------------------------------------ validation
    def validate(
        self,
        obj: T,
        old: T | None = None,
        validate_update: Callable[[T, T], list[FieldError]] | None = None,
    ) -> None:
        """The strategy's validation of a create (`old` None) or an update; raises Invalid."""
        rules = validate_update or self.strategy.validate_update
        errs = (
            self.strategy.validate(obj)
            if old is None
            else rules(obj, old) + _finalizers_update(obj, old)
        )
        if errs:
            meta = object_meta(obj)
            raise invalid_error(
                self.resource.kind,
                meta.name or meta.generate_name,
                errs,
                errors.group_of(self.resource),
            )

    # ------------------------------------------------------------------ etcd
    async def guard(self, coro: Awaitable[R]) -> R:
        """An etcd call, its failures as the API's errors."""
        try:
            return await coro
        except EtcdUnavailable as e:
            raise errors.unavailable(str(e)) from e
        except FutureRevisionError as e:
            # As the watch cache answers a resourceVersion it has not reached (Kubernetes'
            # NewTooLargeResourceVersionError).
            _, current = await self.etcd.get(b"\0")
            raise errors.timeout(
                f"Too large resource version: {e.requested}, current: {current}"
            ) from None
        except EtcdRequestTooLarge:
            # A read whose namespace or name is megabytes long: no object has such a key.
            raise errors.request_entity_too_large(MAX_OBJECT_BYTES) from None

    async def write_claiming(
        self, key: bytes, data: bytes | None, kv: KeyValue, claims: Claims
    ) -> tuple[bool, KeyValue | None, int, bool]:
        """compare_and_put (data) or compare_and_delete (None) with the claims: (ok, the latest
        key-value on failure, revision, whether the failure was only a claimed key taken)."""
        result: ClaimingWrite = await self.guard(
            self.etcd.write_claiming(key, data, kv.mod_revision, claims.claim, claims.release)
        )
        unchanged = result.current is not None and result.current.mod_revision == kv.mod_revision
        return result.succeeded, result.current, result.revision, unchanged


def _finalizers_update(new: Message, old: Message) -> list[FieldError]:
    new_meta, old_meta = object_meta(new), object_meta(old)
    if not old_meta.deletion_timestamp:
        return []
    added = [f for f in new_meta.finalizers if f not in old_meta.finalizers]
    if not added:
        return []
    return [
        forbidden(
            "metadata.finalizers",
            f"no new finalizers can be added if the object is "
            f"being deleted, found new finalizers {added}",
        )
    ]
