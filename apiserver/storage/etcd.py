"""A small asyncio client for etcd's v3 gRPC API: range, transactions, watch, compaction.

Revisions are etcd's: every write bumps the store revision; each key carries the revision it was
last modified at (mod_revision), which the apiserver exposes as resourceVersion. Every call is timed
into etcd_request_duration_seconds{operation, type}, type being the plural of
/registry/<plural>/."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from apiserver.storage import txn_wire
from apiserver.storage.etcd_watch_stream import EtcdStreamEnded, Watch, WatchStreams
from apiserver.storage.group_commit import GroupCommit
from apiserver.storage.metrics import ETCD_DB_SIZE, etcd_request
from podplane.api.etcd import rpc_pb2 as pb
from podplane.api.etcd import rpc_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
R = TypeVar("R")


# etcd's "request is too large", and gRPC's "received message larger than max" (the space quota
# is RESOURCE_EXHAUSTED too, and is not the request's fault).
_TOO_LARGE = re.compile(r"request is too large|message larger than max")


class CompactedError(Exception):
    """The revision asked for has been compacted away."""

    def __init__(self, requested: int, compact_revision: int) -> None:
        super().__init__(
            f"required revision {requested} has been compacted (compact revision "
            f"{compact_revision})"
        )
        self.requested = requested
        self.compact_revision = compact_revision


class FutureRevisionError(Exception):
    """The revision asked for is past etcd's current one."""

    def __init__(self, requested: int) -> None:
        super().__init__(f"required revision {requested} is a future revision")
        self.requested = requested


class EtcdUnavailable(Exception):
    pass


class EtcdRequestTooLarge(Exception):
    """etcd refused a request past its size limit (its --max-request-bytes, 1.5 MiB, and 2 MiB for
    any gRPC message): a read whose key alone is that large, since stored objects are kept
    smaller."""


@dataclass(frozen=True)
class KeyValue:
    key: bytes
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True)
class WatchEvent:
    # "PUT" or "DELETE"
    type: str
    kv: KeyValue
    prev: KeyValue | None
    revision: int


@dataclass(frozen=True)
class ClaimingWrite:
    """The outcome of EtcdClient.write_claiming."""

    succeeded: bool
    revision: int
    # On failure: the object's key as stored (None: absent), and which claimed keys exist.
    current: KeyValue | None = None
    taken: frozenset[bytes] = frozenset()


def prefix_end(prefix: bytes) -> bytes:
    """The range_end that makes [prefix, end) cover every key starting with prefix."""
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


def _kv(kv: pb.KeyValue) -> KeyValue:
    return KeyValue(kv.key, kv.value, kv.mod_revision, kv.create_revision)


def _target(endpoint: str) -> str:
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme) :]
    return endpoint


class EtcdClient:
    """One channel to etcd."""

    def __init__(
        self,
        endpoints: list[str],
        timeout: float = 10.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        # What it was made with: a probe of one member makes a client of its own alike.
        self.endpoints, self.credentials = list(endpoints), credentials
        # grpc's round-robin over a static list gives failover across members.
        targets = [_target(e) for e in endpoints]
        target = targets[0] if len(targets) == 1 else "ipv4:" + ",".join(targets)
        self._endpoint = ",".join(targets)
        options = [
            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.lb_policy_name", "round_robin"),
        ]
        if credentials is not None and len(targets) > 1:
            # One channel over every member: each member's certificate names the first
            # member's address among the cluster's (podplane.componentbase.pki), and TLS checks
            # that one name whichever member answers.
            options.append(("grpc.ssl_target_name_override", targets[0].rpartition(":")[0]))
        # TLS with the apiserver's etcd client certificate (--etcd-cafile/certfile/keyfile).
        self.channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=options)
        )
        # Watches share one stream, read on a thread, over a synchronous channel
        # (etcd_watch_stream).
        self._watch_channel = (
            grpc.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.insecure_channel(target, options=options)
        )
        self._kv = pb_grpc.KVStub(self.channel)
        self._watches = WatchStreams(pb_grpc.WatchStub(self._watch_channel))
        self._maintenance = pb_grpc.MaintenanceStub(self.channel)
        self._lease = pb_grpc.LeaseStub(self.channel)
        self.timeout = timeout
        # Single-key writes: the creates and compare-and-swaps of a turn of the loop, one call.
        # Their transactions are serialized by txn_wire, and sent as they are.
        self._serialized_txn = self.channel.unary_unary(
            "/etcdserverpb.KV/Txn",
            request_serializer=None,
            response_deserializer=pb.TxnResponse.FromString,
        )
        self.group_commit = GroupCommit(lambda request: self._unary(self._serialized_txn, request))

    async def close(self) -> None:
        await self.channel.close()
        self._watch_channel.close()

    async def _unary(self, method: Callable[..., Awaitable[R]], request: Message | bytes) -> R:
        """A stub's `method` called with `request` (the stubs are untyped: the caller names the
        answer's type); bytes for a method that sends them as they are."""
        try:
            return await method(request, timeout=self.timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as e:
            if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise EtcdUnavailable(f"etcd: {e.code().name}: {e.details()}") from e
            if e.code() == grpc.StatusCode.OUT_OF_RANGE and "compacted" in (e.details() or ""):
                raise CompactedError(getattr(request, "revision", 0), 0) from e
            if e.code() == grpc.StatusCode.OUT_OF_RANGE and "future" in (e.details() or ""):
                raise FutureRevisionError(getattr(request, "revision", 0)) from e
            if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and _TOO_LARGE.search(
                e.details() or ""
            ):
                raise EtcdRequestTooLarge(f"etcd: {e.details()}") from e
            raise

    async def status(self) -> pb.StatusResponse:
        resp: pb.StatusResponse = await self._unary(self._maintenance.Status, pb.StatusRequest())
        ETCD_DB_SIZE.labels(self._endpoint).set(resp.dbSize)
        return resp

    async def get(self, key: bytes) -> tuple[KeyValue | None, int]:
        """The key's value (or None) and the store revision of the read."""
        with etcd_request("get", key):
            resp: pb.RangeResponse = await self._unary(self._kv.Range, pb.RangeRequest(key=key))
        return (_kv(resp.kvs[0]) if resp.kvs else None), resp.header.revision

    async def range(
        self, start: bytes, end: bytes, *, limit: int = 0, revision: int = 0
    ) -> tuple[list[KeyValue], bool, int]:
        """Keys in [start, end) at `revision` (0 = latest): (kvs, more, read revision)."""
        kvs, more, read_rev, _ = await self.range_counted(
            start, end, limit=limit, revision=revision
        )
        return kvs, more, read_rev

    async def range_counted(
        self,
        start: bytes,
        end: bytes,
        *,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
    ) -> tuple[list[KeyValue], bool, int, int]:
        """range(), and how many keys [start, end) holds in all (etcd counts them anyway); with
        `keys_only`, the values are left out (empty)."""
        with etcd_request("list", start):
            resp: pb.RangeResponse = await self._unary(
                self._kv.Range,
                pb.RangeRequest(
                    key=start, range_end=end, limit=limit, revision=revision, keys_only=keys_only
                ),
            )
        return [_kv(kv) for kv in resp.kvs], resp.more, resp.header.revision, resp.count

    async def keys(self, prefix: bytes) -> tuple[list[bytes], int]:
        """Every key under `prefix`, without values, and the revision they were read at."""
        kvs, _, revision, _ = await self.range_counted(prefix, prefix_end(prefix), keys_only=True)
        return [kv.key for kv in kvs], revision

    async def create(self, key: bytes, value: bytes) -> int | None:
        """Puts the key only if absent; its mod_revision, or None if it already exists."""
        with etcd_request("create", key):
            result = await self.group_commit.txn(key, txn_wire.create(key, value))
        return result.revision if result.succeeded else None

    async def compare_and_put(
        self, key: bytes, value: bytes, mod_revision: int
    ) -> tuple[bool, KeyValue | None, int]:
        """Puts only if the key is still at mod_revision. On failure returns the current value."""
        with etcd_request("update", key):
            result = await self.group_commit.txn(
                key, txn_wire.compare_and_put(key, value, mod_revision)
            )
        if result.succeeded:
            return True, None, result.revision
        kvs = result.responses[0].response_range.kvs
        return False, (_kv(kvs[0]) if kvs else None), result.revision

    async def compare_and_delete(
        self, key: bytes, mod_revision: int
    ) -> tuple[bool, KeyValue | None, int]:
        """Deletes only if the key is still at mod_revision. On failure returns the current
        value."""
        with etcd_request("delete", key):
            result = await self.group_commit.txn(
                key, txn_wire.compare_and_delete(key, mod_revision)
            )
        if result.succeeded:
            return True, None, result.revision
        kvs = result.responses[0].response_range.kvs
        return False, (_kv(kvs[0]) if kvs else None), result.revision

    async def write_claiming(
        self,
        key: bytes,
        value: bytes | None,
        mod_revision: int,
        claim: Mapping[bytes, bytes],
        release: Sequence[bytes],
    ) -> ClaimingWrite:
        """One transaction: puts `key` (deletes it when `value` is None) if it is still at
        `mod_revision` (0: absent), creates every `claim` key, each of which must be absent, and
        deletes every `release` key. Nothing is written unless all of it is."""
        compare = [
            pb.Compare(
                key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0
            )
            if mod_revision == 0
            else pb.Compare(
                key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=mod_revision
            )
        ]
        compare += [
            pb.Compare(key=k, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0)
            for k in claim
        ]
        own = (
            pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))
            if value is not None
            else pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key))
        )
        success = [own]
        success += [
            pb.RequestOp(request_put=pb.PutRequest(key=k, value=v)) for k, v in claim.items()
        ]
        success += [
            pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=k)) for k in release
        ]
        failure = [pb.RequestOp(request_range=pb.RangeRequest(key=key))]
        failure += [
            pb.RequestOp(request_range=pb.RangeRequest(key=k, keys_only=True)) for k in claim
        ]
        operation = "delete" if value is None else ("create" if mod_revision == 0 else "update")
        with etcd_request(operation, key):
            resp: pb.TxnResponse = await self._unary(
                self._kv.Txn, pb.TxnRequest(compare=compare, success=success, failure=failure)
            )
        if resp.succeeded:
            return ClaimingWrite(True, resp.header.revision)
        ranges = [r.response_range for r in resp.responses]
        current = _kv(ranges[0].kvs[0]) if ranges[0].kvs else None
        taken = frozenset(r.kvs[0].key for r in ranges[1:] if r.kvs)
        return ClaimingWrite(False, resp.header.revision, current, taken)

    async def write_if_unchanged(
        self, key: bytes, value: bytes | None, unchanged: Mapping[bytes, int]
    ) -> bool:
        """Puts `key` (deletes it when `value` is None) if every key of `unchanged` is still at
        its mod_revision (0: absent); whether it was written."""
        compare = [
            pb.Compare(key=k, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=rev)
            for k, rev in unchanged.items()
        ]
        op = (
            pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))
            if value is not None
            else pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key))
        )
        with etcd_request("delete" if value is None else "update", key):
            resp: pb.TxnResponse = await self._unary(
                self._kv.Txn, pb.TxnRequest(compare=compare, success=[op])
            )
        return bool(resp.succeeded)

    async def grant_lease(self, ttl: int) -> int:
        """A new etcd lease of `ttl` seconds: keys put with it vanish when it expires."""
        with etcd_request("lease", b""):
            resp: pb.LeaseGrantResponse = await self._unary(
                self._lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl)
            )
        return int(resp.ID)

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        """Puts the key unconditionally (with `lease`, until it expires); the revision."""
        with etcd_request("update", key):
            resp: pb.TxnResponse = await self._unary(
                self._kv.Txn,
                pb.TxnRequest(
                    success=[
                        pb.RequestOp(request_put=pb.PutRequest(key=key, value=value, lease=lease))
                    ]
                ),
            )
        return int(resp.header.revision)

    async def delete(self, key: bytes) -> None:
        with etcd_request("delete", key):
            await self._unary(
                self._kv.Txn,
                pb.TxnRequest(
                    success=[pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key))]
                ),
            )

    async def compact(self, revision: int) -> None:
        with etcd_request("compact", b""):
            await self._unary(self._kv.Compact, pb.CompactionRequest(revision=revision))

    async def watch(
        self,
        start: bytes,
        end: bytes,
        start_revision: int,
        progress_notify: bool = False,
        prev_kv: bool = True,
    ) -> AsyncIterator[list[WatchEvent] | int]:
        """Events in [start, end) from start_revision on, in revision order, with previous values
        unless `prev_kv` is False (etcd then reads no old revision for each event, and sends half
        the bytes; a caller that keeps the objects itself has them).

        Yields lists of events, and for an empty progress notification the store revision (int).
        Raises CompactedError when start_revision is compacted, EtcdUnavailable when etcd is
        lost."""
        call: Watch | None = None
        try:
            # The "watch" operation is the time until etcd answers the create request.
            with etcd_request("watch", start):
                call = self._watches.open(
                    pb.WatchCreateRequest(
                        key=start,
                        range_end=end,
                        start_revision=start_revision,
                        prev_kv=prev_kv,
                        progress_notify=progress_notify,
                    )
                )
                resp = await call.read()
            while True:
                if resp.compact_revision:
                    raise CompactedError(start_revision, resp.compact_revision)
                if resp.canceled:
                    raise EtcdUnavailable(f"etcd canceled the watch: {resp.cancel_reason}")
                if resp.events:
                    yield [
                        WatchEvent(
                            "PUT" if ev.type == pb.Event.PUT else "DELETE",
                            _kv(ev.kv),
                            _kv(ev.prev_kv) if ev.HasField("prev_kv") else None,
                            ev.kv.mod_revision,
                        )
                        for ev in resp.events
                    ]
                elif not resp.created:  # a progress notification
                    yield int(resp.header.revision)
                resp = await call.read()
        except EtcdStreamEnded as e:
            raise EtcdUnavailable(str(e)) from e
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and _TOO_LARGE.search(
                e.details() or ""
            ):
                raise EtcdRequestTooLarge(f"etcd watch: {e.details()}") from e
            raise EtcdUnavailable(f"etcd watch: {e.code().name}: {e.details()}") from e
        finally:
            if call is not None:
                call.cancel()


async def wait_until_ready(client: EtcdClient, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with asyncio.timeout(5):
                await client.status()
            return
        except (TimeoutError, EtcdUnavailable, grpc.aio.AioRpcError) as e:
            if time.monotonic() > deadline:
                raise EtcdUnavailable(f"etcd not reachable after {timeout:.0f}s: {e}") from e
            log.info("waiting for etcd: %s", e)
            await asyncio.sleep(1)
