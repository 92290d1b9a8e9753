"""The generic registry: create, get, list, update, update status and delete any kind in etcd
(kubernetes staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go over storage/etcd3).

Objects are stored under /registry/<plural>/<namespace>/<name> (cluster-scoped kinds:
/registry/<plural>/<name>) without their resourceVersion, which is the key's etcd mod_revision:
the built-in kinds as protobuf, custom resources as JSON under /registry/<group>/<plural>/...
(their storage codec and prefix, apiserver/registry/customresource/)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission.interfaces import NamespaceAdmission, WriteAdmission
from apiserver.objects import ListMessage, T, object_meta
from apiserver.registry import deletion
from apiserver.registry.managed_fields import SERVER, ManagedFields, Manager
from apiserver.registry.options import (
    DEFAULT_DELETE,
    DEFAULT_LIST,
    DEFAULT_PATCH,
    EXACT,
    DeleteOptions,
    ListOptions,
    PatchOptions,
)
from apiserver.registry.strategy import Strategy
from apiserver.storage.etcd import (
    ClaimingWrite,
    CompactedError,
    EtcdClient,
    EtcdRequestTooLarge,
    EtcdUnavailable,
    FutureRevisionError,
    KeyValue,
    prefix_end,
)
from apiserver.validation.fields import FieldError, forbidden, invalid_error
from podplane.apimachinery import json_text, selectors, timeutil
from podplane.apimachinery.resources import Resource

MAX_OBJECT_BYTES = 3 * 1024 * 1024 // 2  # 1.5 MiB, etcd's default request limit
MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet
R = TypeVar("R")
# An object an Allocator is given (a Protocol's type parameter only taken is contravariant).
Taken = TypeVar("Taken", bound=Message, contravariant=True)
# How often a write tries again when a value it chose was taken meanwhile: each failure is
# another write's success, so only a range nearly full under heavy contention gets that far.
MAX_CLAIM_ATTEMPTS = 100


@dataclass(frozen=True)
class Claims:
    """Keys written in the same etcd transaction as an object: those it claims (created; each
    must be absent, or the whole write fails) and those it releases (deleted). They hold the
    values an object takes from a shared pool, as a Service's cluster IPs and node ports."""

    claim: Mapping[bytes, bytes] = dataclasses.field(default_factory=dict)
    release: tuple[bytes, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.claim or self.release)


class Allocator(Protocol[Taken]):
    """What a kind whose objects take values from a shared pool adds to its writes."""

    def prepare(self, new: Taken, old: Taken | None) -> None:
        """Before validation: settles the fields allocation depends on (a Service's IP
        families), or raises the APIError of a request that cannot be served."""

    async def allocate(self, new: Taken, old: Taken | None, *, dry_run: bool) -> Claims:
        """After validation: fills the values left to the pool, checks those asked for (raises
        APIError when taken or out of range) and names the keys the write claims and releases.
        Called again, from the request, when a claimed key was taken meanwhile."""
        ...

    def release(self, old: Taken) -> Claims:
        """The keys removing `old` from storage releases."""
        ...


def parse_resource_version(value: str, path: str = "resourceVersion") -> int:
    """A resourceVersion as Go's strconv reads it (ASCII digits only, no sign or spaces), and one
    etcd can be asked about: its revisions are int64s."""
    if not value:
        return 0
    if _DIGITS.fullmatch(value) and int(value) <= MAX_INT64:
        return int(value)
    raise errors.bad_request(f'{path}: Invalid value: "{value}": must be a non-negative integer')


def _set_type(obj: Message, api_version: str, kind: str) -> None:
    """Sets the object's TypeMeta: every kind has apiVersion and kind; Message declares neither."""
    for field, value in (("api_version", api_version), ("kind", kind)):
        setattr(obj, field, value)


class StorageCodec(Protocol[T]):
    """How a kind's objects are written to etcd and read back: without their resourceVersion,
    and the same object always as the same bytes (an update that changes nothing is not
    written)."""

    def encode(self, obj: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...


class ProtobufCodec(Generic[T]):
    """The built-in kinds' storage: their protobuf message."""

    def __init__(self, new: Callable[[], T]) -> None:
        self.new = new

    def encode(self, obj: T) -> bytes:
        # Deterministic: map entries (labels, annotations, data) in key order, whatever order they
        # were set in, so that an update that changes nothing encodes to the stored bytes and is
        # not written (as Kubernetes compares the encoded object with etcd's in GuaranteedUpdate).
        if not object_meta(obj).resource_version:  # a create's: nothing to leave out
            data: bytes = obj.SerializeToString(deterministic=True)
            return data
        stored = type(obj)()
        stored.CopyFrom(obj)
        object_meta(stored).resource_version = ""
        data = stored.SerializeToString(deterministic=True)
        return data

    def decode(self, data: bytes) -> T:
        obj = self.new()
        obj.ParseFromString(data)
        return obj


class Store(Generic[T]):
    """One kind's objects in etcd, typed by its message (Store[core_pb2.Pod], ...)."""

    def __init__(
        self,
        etcd: EtcdClient,
        strategy: Strategy[T],
        admit_namespace: NamespaceAdmission | None = None,
        *,
        codec: StorageCodec[T] | None = None,
        prefix: str = "",
    ) -> None:
        self.etcd = etcd
        self.strategy = strategy
        self.resource = strategy.resource
        self.codec: StorageCodec[T] = codec or ProtobufCodec(strategy.new)
        self.prefix = (prefix or f"/registry/{self.resource.plural}/").encode()
        self.admit_namespace = admit_namespace
        # Object-dependent admission (NodeRestriction, PodSecurity), set by the server.
        self.admission: WriteAdmission | None = None
        # The pools a kind's objects take values from (services: cluster IPs, node ports).
        self.allocator: Allocator[T] | None = None
        # metadata.managedFields, kept on every create and update.
        self.managed_fields: ManagedFields[T] = ManagedFields(self.resource)

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

    def _namespace_of(self, obj: T) -> str:
        if self.resource.namespaced:
            return str(object_meta(obj).namespace or "default")
        return ""

    def _validate(
        self,
        obj: T,
        old: T | None = None,
        validate_update: Callable[[T, T], list[FieldError]] | None = None,
    ) -> None:
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

    async def _guard(self, coro: Awaitable[R]) -> R:
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

    # ------------------------------------------------------------------ reads
    async def get(self, namespace: str, name: str) -> T:
        kv, _ = await self._guard(self.etcd.get(self.key(namespace, name)))
        if kv is None:
            raise errors.not_found(self.resource, name)
        return self.decode(kv)

    async def list(self, namespace: str, options: ListOptions = DEFAULT_LIST) -> ListMessage[T]:
        """The objects the selectors match, read at the options' resourceVersion when they ask
        for that very state (resourceVersionMatch Exact), else at the latest revision, or at the
        revision of the list a continue token continues."""
        exact_version = options.resource_version_match == EXACT
        revision = parse_resource_version(options.resource_version) if exact_version else 0
        limit, continue_token = options.limit, options.continue_
        labels, fields = self.selectors(options.label_selector, options.field_selector)
        start = self.range_prefix(namespace)
        end = prefix_end(start)
        exact = revision
        if continue_token:
            revision, start = self._decode_continue(continue_token, start)
        out = self.strategy.new_list()
        items = out.items
        last_returned = b""
        has_more = False
        # Without selectors, every key is an item: what a page leaves is what etcd counts past
        # it (Kubernetes' remainingItemCount; with selectors it cannot know without reading).
        everything = labels.empty and not fields.requirements
        remaining: int | None = None
        while True:
            # One past the page (to know whether more follow), within etcd's int64 limit.
            chunk = min(limit - len(items) + 1, MAX_INT64) if limit else 0
            try:
                kvs, etcd_more, read_rev, count = await self._guard(
                    self.etcd.range_counted(start, end, limit=chunk, revision=revision)
                )
            except CompactedError:
                if exact and not continue_token:
                    raise errors.too_old(exact, 0) from None
                raise errors.APIError(
                    errors.too_old(revision, 0).code,
                    "Expired",
                    "The provided continue parameter is too old to display a "
                    "consistent list result. You can start a new list without "
                    "the continue parameter.",
                ) from None
            revision = revision or read_rev
            for kv in kvs:
                obj = self.decode(kv)
                if not (
                    labels.matches(object_meta(obj).labels)
                    and fields.matches(self.strategy.fields(obj))
                ):
                    continue
                if limit and len(items) == limit:
                    has_more = True
                    break
                items.append(obj)
                last_returned = kv.key
            if has_more and everything:
                remaining = count - len(items)  # one range from the page's start: all of it
            if has_more or not etcd_more or not kvs:
                break
            start = kvs[-1].key + b"\0"
        # Every page of a paginated list is read at the first page's revision (a consistent list).
        out.metadata.resource_version = str(revision)
        if has_more:
            token = {"rv": revision, "start": (last_returned + b"\0").decode("utf-8", "replace")}
            out.metadata.continue_token = base64.urlsafe_b64encode(
                json.dumps(token).encode()
            ).decode()
            if remaining is not None:
                out.metadata.remaining_item_count = remaining
        return out

    def _decode_continue(self, token: str, prefix: bytes) -> tuple[int, bytes]:
        try:
            data = json_text.loads(base64.urlsafe_b64decode(token.encode()))
            rv, start = int(data["rv"]), str(data["start"]).encode()
            if not 0 <= rv <= MAX_INT64:  # an etcd revision
                raise ValueError(rv)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise errors.bad_request(
                "continue: Invalid value: the continue token is not valid"
            ) from None
        if not start.startswith(prefix):
            raise errors.bad_request(
                "continue: Invalid value: the continue token is for another list"
            )
        return rv, start

    def selectors(
        self, label_selector: str, field_selector: str
    ) -> tuple[selectors.LabelSelector, selectors.FieldSelector]:
        try:
            labels = selectors.parse_labels(label_selector)
        except selectors.SelectorError as e:
            raise errors.bad_request(
                f"labelSelector: Invalid value: {label_selector!r}: {e}"
            ) from None
        try:
            fields = selectors.parse_fields(field_selector, self.strategy.selectable_fields)
        except selectors.SelectorError as e:
            raise errors.bad_request(
                f'fieldSelector: Invalid value: "{field_selector}": {e} for "{self.resource.kind}"'
            ) from None
        return labels, fields

    # ------------------------------------------------------------------ writes
    async def create(self, obj: T, *, dry_run: bool = False, manager: Manager | None = SERVER) -> T:
        """Stores a new object; with `dry_run`, everything but the write (the answer has no
        resourceVersion, as Kubernetes' dry run has none). Its managed fields are `manager`'s
        (None: they are set already, by an apply)."""
        meta = object_meta(obj)
        if self.resource.namespaced:
            meta.namespace = meta.namespace or "default"
        _set_type(obj, self.resource.api_version, self.resource.kind)
        self.strategy.default(obj)
        if manager is not None:
            self.managed_fields.created(obj, manager)
        meta.uid = str(uuid.uuid4())
        meta.creation_timestamp = timeutil.now()
        meta.resource_version = ""
        meta.generation = 1
        meta.deletion_timestamp = ""
        meta.ClearField("deletion_grace_period_seconds")
        self.strategy.prepare_for_create(obj)
        if self.allocator is not None:
            self.allocator.prepare(obj, None)
        generated = not meta.name and meta.generate_name
        for attempt in range(8):
            if generated:
                meta.name = meta.generate_name + "".join(
                    secrets.choice(_NAME_CHARS) for _ in range(5)
                )
            self._validate(obj)
            if attempt == 0 and self.resource.namespaced and self.admit_namespace is not None:
                await self.admit_namespace(obj, meta.namespace, self.resource)
            if attempt == 0 and self.admission is not None:
                await self.admission.admit_create(obj)
            key = self.key(meta.namespace, meta.name)
            if dry_run:
                existing, _ = await self._guard(self.etcd.get(key))
                if self.allocator is not None:
                    await self._guard(self.allocator.allocate(obj, None, dry_run=True))
                self.encode(obj)  # the size check
                if existing is None:
                    return obj
                rev = None
            elif self.allocator is not None:
                rev = await self._create_claiming(key, obj, self.allocator)
            else:
                rev = await self._guard(self.etcd.create(key, self.encode(obj)))
            if rev is not None:
                meta.resource_version = str(rev)
                return obj
            if not generated:
                break
        raise errors.already_exists(self.resource, meta.name)

    async def _create_claiming(self, key: bytes, obj: T, allocator: Allocator[T]) -> int | None:
        """Stores a new object with the keys of the values it takes, in one transaction: its
        revision, or None if the key exists (and nothing was claimed)."""
        requested = type(obj)()
        requested.CopyFrom(obj)
        for _ in range(MAX_CLAIM_ATTEMPTS):
            claims = await self._guard(allocator.allocate(obj, None, dry_run=False))
            result = await self._guard(
                self.etcd.write_claiming(key, self.encode(obj), 0, claims.claim, claims.release)
            )
            if result.succeeded:
                return result.revision
            # Allocated again from the request: on another attempt, or for another generated name.
            allocated_name = object_meta(obj).name
            obj.CopyFrom(requested)
            object_meta(obj).name = allocated_name
            if result.current is not None:
                return None
        raise errors.conflict(self.resource, object_meta(obj).name, _CLAIMS_CONTENDED)

    async def _write_claiming(
        self, key: bytes, data: bytes | None, kv: KeyValue, claims: Claims
    ) -> tuple[bool, KeyValue | None, int, bool]:
        """compare_and_put (data) or compare_and_delete (None) with the claims: (ok, the latest
        key-value on failure, revision, whether the failure was only a claimed key taken)."""
        result: ClaimingWrite = await self._guard(
            self.etcd.write_claiming(key, data, kv.mod_revision, claims.claim, claims.release)
        )
        unchanged = result.current is not None and result.current.mod_revision == kv.mod_revision
        return result.succeeded, result.current, result.revision, unchanged

    async def guaranteed_update(
        self,
        namespace: str,
        name: str,
        mutate: Callable[[T], T | None],
        expected_rv: str = "",
        expected_uid: str = "",
        cached: T | None = None,
        dry_run: bool = False,
    ) -> T:
        """Reads, applies `mutate` (which returns the new object), and compare-and-swaps; retries on
        a concurrent write unless the caller named the resourceVersion it read.

        `cached`, the watch cache's copy, saves the read (Kubernetes' cachedExistingObject): when it
        is stale the compare-and-swap fails and returns the latest; a rejection or a no-op computed
        from it is confirmed against etcd first."""
        key = self.key(namespace, name)
        want_rv = parse_resource_version(expected_rv)
        kv = self._cached_kv(key, cached, want_rv, expected_uid)
        from_cache = kv is not None
        if kv is None:
            kv, _ = await self._guard(self.etcd.get(key))
        claim_attempts = 0
        while True:
            claims = Claims()
            try:
                current = self._current(kv, name, expected_uid, want_rv)
                updated = mutate(current)
                removal = updated is not None and deletion.due_for_removal(self.resource, updated)
                if self.allocator is not None and updated is not None:
                    claims = (
                        self.allocator.release(current)
                        if removal
                        else await self._guard(
                            self.allocator.allocate(updated, current, dry_run=dry_run)
                        )
                    )
            except errors.APIError:
                if not from_cache:
                    raise
                from_cache = False
                kv, _ = await self._guard(self.etcd.get(key))
                continue
            assert kv is not None  # else _current raised NotFound
            data = b"" if updated is None or removal else self.encode(updated)
            if updated is None or (not removal and data == kv.value):  # nothing to change
                if from_cache:  # as far as the cache knows: ask etcd
                    from_cache = False
                    kv, _ = await self._guard(self.etcd.get(key))
                    continue
                return current
            if dry_run:
                if from_cache:  # what a write would have found: etcd's copy, not the cache's
                    from_cache = False
                    kv, _ = await self._guard(self.etcd.get(key))
                    continue
                return updated
            if claims:
                ok, latest, rev, claim_taken = await self._write_claiming(
                    key, None if removal else data, kv, claims
                )
                if claim_taken:  # a value it claimed was taken meanwhile: allocate again
                    claim_attempts += 1
                    if claim_attempts == MAX_CLAIM_ATTEMPTS:
                        raise errors.conflict(self.resource, name, _CLAIMS_CONTENDED)
                    from_cache = False
                    continue
            elif removal:
                # The last finalizer of an object whose deletion is due went away: remove it.
                ok, latest, rev = await self._guard(
                    self.etcd.compare_and_delete(key, kv.mod_revision)
                )
            else:
                ok, latest, rev = await self._guard(
                    self.etcd.compare_and_put(key, data, kv.mod_revision)
                )
            if ok:
                object_meta(updated).resource_version = str(rev)
                return updated
            if want_rv:
                raise errors.conflict(self.resource, name)
            kv, from_cache = latest, False

    def _cached_kv(
        self, key: bytes, cached: T | None, want_rv: int, expected_uid: str
    ) -> KeyValue | None:
        """The cached object as the stored key-value, unless it fails the caller's preconditions
        (which only etcd can settle)."""
        if cached is None:
            return None
        meta = object_meta(cached)
        rv = parse_resource_version(meta.resource_version)
        if not rv or (want_rv and rv != want_rv) or (expected_uid and meta.uid != expected_uid):
            return None
        return KeyValue(key, self.encode(cached), rv, 0)

    def _current(self, kv: KeyValue | None, name: str, expected_uid: str, want_rv: int) -> T:
        """The stored object, after checking the caller's preconditions against it."""
        if kv is None:
            raise errors.not_found(self.resource, name)
        current = self.decode(kv)
        uid = object_meta(current).uid
        if expected_uid and uid != expected_uid:
            raise errors.conflict(
                self.resource,
                name,
                f"Precondition failed: UID in precondition: {expected_uid}, "
                f"UID in object meta: {uid}",
            )
        if want_rv and kv.mod_revision != want_rv:
            raise errors.conflict(self.resource, name)
        return current

    def _merge_update(
        self, request: T, current: T, manager: Manager | None, subresource: str = ""
    ) -> T:
        """Update: the request's metadata (mutable parts) and spec over the stored object; the
        changes recorded as `manager`'s (None: the request's managed fields are final)."""
        new = type(current)()
        new.CopyFrom(request)
        _set_type(new, self.resource.api_version, self.resource.kind)
        meta, old = object_meta(new), object_meta(current)
        meta.name, meta.namespace, meta.uid = old.name, old.namespace, old.uid
        meta.creation_timestamp = old.creation_timestamp
        meta.generation = old.generation
        meta.deletion_timestamp = old.deletion_timestamp
        if old.HasField("deletion_grace_period_seconds"):
            meta.deletion_grace_period_seconds = old.deletion_grace_period_seconds
        else:
            meta.ClearField("deletion_grace_period_seconds")
        self.strategy.keep_status(new, current)  # only UpdateStatus (or the server) writes it
        # The request is defaulted as Kubernetes defaults it when decoding, before its changes
        # are recorded (a Secret's stringData is its data by then).
        self.strategy.default(new)
        if manager is not None:
            self.managed_fields.updated(new, current, manager, subresource)
        self.strategy.prepare_for_update(new, current)
        if self.allocator is not None:
            self.allocator.prepare(new, current)
        if self.strategy.generation_changed(new, current):
            meta.generation = old.generation + 1
        self._validate(new, current)
        return new

    def _updated(self, request: T, current: T, manager: Manager | None, subresource: str = "") -> T:
        """An update's result: the request's metadata and spec over `current`, validated and
        admitted."""
        new = self._merge_update(request, current, manager, subresource)
        if self.admission is not None:
            self.admission.admit_update("", new, current)
        return new

    def _status_updated(
        self, request: T, current: T, manager: Manager | None, subresource: str = "status"
    ) -> T:
        """A status update's result: the request's status over `current`, validated and
        admitted; or of another subresource written like status (the strategy's
        status_writes)."""
        new = type(current)()
        new.CopyFrom(current)
        write = self.strategy.status_writes.get(subresource)
        (write.take if write else self.strategy.take_status)(new, request)
        if manager is not None:
            self.managed_fields.updated(new, current, manager, subresource)
        else:  # an apply's: the request's managed fields are final
            entries = object_meta(new).managed_fields
            del entries[:]
            entries.extend(object_meta(request).managed_fields)
        (write.prepare if write else self.strategy.prepare_for_status_update)(new, current)
        self._validate(new, current, write.validate if write else None)
        if self.admission is not None:
            self.admission.admit_update(subresource, new, current)
        return new

    def _check_status(self, subresource: str = "status") -> None:
        if subresource != "status" and subresource not in self.strategy.status_writes:
            raise errors.bad_request(f'{self.resource.plural} have no "{subresource}" to update')
        if not self.resource.has_status:
            raise errors.bad_request(f"{self.resource.plural} have no status subresource")

    def writes_like_status(self, subresource: str) -> bool:
        """Whether a write through `subresource` is a status write: status, and the kind's
        other subresources written so (a CertificateSigningRequest's approval)."""
        return subresource == "status" or subresource in self.strategy.status_writes

    def check_subresource(self, subresource: str) -> None:
        """What a patch or an apply may write through: the object, its status (or another
        subresource written like it), its scale."""
        if self.writes_like_status(subresource):
            self._check_status(subresource)
        elif subresource and not (subresource == "scale" and _has_replicas(self.resource)):
            raise errors.bad_request(f'{self.resource.plural} have no "{subresource}" to patch')

    def updated(
        self, request: T, current: T, subresource: str = "", manager: Manager | None = SERVER
    ) -> T:
        """What a write of `request` through `subresource` ("", "status", "scale") makes of
        `current`, with the update's rules (validated and admitted); checks a name and a
        resourceVersion the request gives against `current`'s."""
        meta, old = object_meta(request), object_meta(current)
        if meta.name and meta.name != old.name:
            raise errors.bad_request(
                f"the name of the object ({meta.name}) does not match the name on the URL "
                f"({old.name})"
            )
        rv = meta.resource_version
        if rv and rv != old.resource_version:
            raise errors.conflict(self.resource, old.name)
        if self.writes_like_status(subresource):
            return self._status_updated(request, current, manager, subresource)
        return self._updated(request, current, manager, subresource)

    async def update(
        self,
        obj: T,
        cached: T | None = None,
        *,
        dry_run: bool = False,
        manager: Manager = SERVER,
    ) -> T:
        meta = object_meta(obj)
        return await self.guaranteed_update(
            self._namespace_of(obj),
            meta.name,
            lambda current: self._updated(obj, current, manager),
            expected_rv=meta.resource_version,
            cached=cached,
            dry_run=dry_run,
        )

    async def update_status(
        self,
        obj: T,
        cached: T | None = None,
        *,
        dry_run: bool = False,
        manager: Manager = SERVER,
        subresource: str = "status",
    ) -> T:
        meta = object_meta(obj)
        self._check_status(subresource)
        return await self.guaranteed_update(
            self._namespace_of(obj),
            meta.name,
            lambda current: self._status_updated(obj, current, manager, subresource),
            expected_rv=meta.resource_version,
            cached=cached,
            dry_run=dry_run,
        )

    async def patch(
        self,
        namespace: str,
        name: str,
        patched: Callable[[T], T],
        options: PatchOptions = DEFAULT_PATCH,
        *,
        subresource: str = "",
        cached: T | None = None,
    ) -> T:
        """Applies a patch: `patched` makes the object the patch asks for from the current one
        (on every retry, from the latest), which is then stored as an update of the object, or
        of its status or scale (`subresource` "status", "scale"), with the update's rules. A
        resourceVersion the patched object names is a precondition, as in an update."""
        self.check_subresource(subresource)
        manager = options.manager
        return await self.guaranteed_update(
            self._namespace_or_default(namespace),
            name,
            lambda current: self.updated(patched(current), current, subresource, manager),
            cached=cached,
            dry_run=options.dry_run,
        )

    def _namespace_or_default(self, namespace: str) -> str:
        return (namespace or "default") if self.resource.namespaced else ""

    async def delete(self, namespace: str, name: str, options: DeleteOptions = DEFAULT_DELETE) -> T:
        """Deletes the object, or marks it for deletion when a grace period or finalizers hold it;
        returns the object as it was last stored."""
        obj, _ = await self.delete_object(namespace, name, options)
        return obj

    async def delete_object(
        self, namespace: str, name: str, options: DeleteOptions = DEFAULT_DELETE
    ) -> tuple[T, bool]:
        """delete(), and whether the object is gone (False: marked for deletion, or already
        being deleted)."""
        deletion.check_request(self.resource, name, options.propagation_policy)
        key = self.key(namespace, name)
        want_rv = parse_resource_version(
            options.preconditions.resource_version, "preconditions.resourceVersion"
        )
        kv, _ = await self._guard(self.etcd.get(key))
        while True:
            current = self._current(kv, name, options.preconditions.uid, want_rv)
            assert kv is not None  # else _current raised NotFound
            if self.admission is not None:
                self.admission.admit_delete(current)
            decision = deletion.decide(
                self.resource, current, options.grace_period_seconds, options.propagation_policy
            )
            if options.dry_run:
                if decision.delete_now:
                    return current, True
                return (current if decision.marked is None else decision.marked), False
            if decision.delete_now and self.allocator is not None:
                ok, latest, rev, _ = await self._write_claiming(
                    key, None, kv, self.allocator.release(current)
                )
            elif decision.delete_now:
                ok, latest, rev = await self._guard(
                    self.etcd.compare_and_delete(key, kv.mod_revision)
                )
            elif decision.marked is None:
                return current, False  # already being deleted
            else:
                ok, latest, rev = await self._guard(
                    self.etcd.compare_and_put(key, self.encode(decision.marked), kv.mod_revision)
                )
                current = decision.marked
            if ok:
                object_meta(current).resource_version = str(rev)
                return current, decision.delete_now
            if want_rv:
                raise errors.conflict(self.resource, name)
            kv = latest


def _has_replicas(resource: Resource) -> bool:
    if resource.custom:
        return True  # its definition's scale subresource decides (ResourceAPI.scaler)
    spec = resource.message.DESCRIPTOR.fields_by_name.get("spec")
    return spec is not None and "replicas" in spec.message_type.fields_by_name


_CLAIMS_CONTENDED = (
    "the values it claims kept being taken by other writes; please apply your changes again"
)


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
