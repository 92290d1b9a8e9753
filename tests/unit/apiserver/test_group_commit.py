"""Group commit (apiserver/storage/group_commit.py) against a scripted etcd Txn call: the writes of
one turn of the loop go in one call, each a nested transaction answered alone; those made while a
call is in flight go together in the next; a lone write goes as it is; a key is never written
twice in a call; a failed call fails each of its writes."""

from __future__ import annotations

import asyncio

import pytest

from apiserver.storage.group_commit import GroupCommit
from podplane.api.etcd import rpc_pb2 as pb
from tests.unit.waiting import until


def put_if_absent(key: bytes, value: bytes = b"v") -> bytes:
    return pb.TxnRequest(
        compare=[
            pb.Compare(
                key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0
            )
        ],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))],
        failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key))],
    ).SerializeToString()


class ScriptedEtcd:
    """Applies a Txn the way etcd does for these requests: each (nested) transaction's compare
    on creation, all of a call at one new revision if it writes anything."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.revision = 10
        self.calls: list[pb.TxnRequest] = []
        self.fail_with: Exception | None = None
        self.held: asyncio.Event | None = None  # when set up, each call waits for it

    def _apply(self, txn: pb.TxnRequest, revision: int) -> pb.TxnResponse:
        ok = all(c.key not in self.data for c in txn.compare)
        resp = pb.TxnResponse(succeeded=ok)
        for op in txn.success if ok else txn.failure:
            if op.HasField("request_txn"):
                resp.responses.add(response_txn=self._apply(op.request_txn, revision))
            elif op.HasField("request_put"):
                self.data[op.request_put.key] = op.request_put.value
                resp.responses.add(response_put=pb.PutResponse())
            else:
                kv = self.data.get(op.request_range.key)
                range_resp = resp.responses.add().response_range
                if kv is not None:
                    range_resp.kvs.add(key=op.request_range.key, value=kv)
        return resp

    async def txn(self, serialized: bytes) -> pb.TxnResponse:
        request = pb.TxnRequest.FromString(serialized)
        self.calls.append(request)
        await asyncio.sleep(0)
        if self.held is not None:
            await self.held.wait()
        if self.fail_with is not None:
            raise self.fail_with
        keys = [op.request_txn.compare[0].key for op in request.success if op.request_txn.compare]
        assert len(keys) == len(set(keys)), "etcd refuses a transaction writing a key twice"
        self.revision += 1
        resp = self._apply(request, self.revision)
        resp.header.revision = self.revision
        return resp


async def test_the_writes_of_one_turn_go_in_one_call_and_each_is_answered_alone() -> None:
    etcd = ScriptedEtcd()
    etcd.data[b"taken"] = b"old"
    group = GroupCommit(etcd.txn)
    keys = [b"a", b"b", b"taken", b"c"]
    results = await asyncio.gather(*(group.txn(k, put_if_absent(k)) for k in keys))
    assert len(etcd.calls) == 1 and group.calls == 1 and group.writes == 4
    (call,) = etcd.calls
    assert not call.compare and [op.request_txn.compare[0].key for op in call.success] == keys
    assert [r.succeeded for r in results] == [True, True, False, True]
    assert {r.revision for r in results} == {11}  # one transaction: one revision
    taken = results[2].responses[0].response_range.kvs[0]
    assert (taken.key, taken.value) == (b"taken", b"old")
    assert etcd.data == {b"a": b"v", b"b": b"v", b"taken": b"old", b"c": b"v"}


async def test_writes_made_while_a_call_is_in_flight_go_together_in_the_next() -> None:
    etcd = ScriptedEtcd()
    etcd.held = asyncio.Event()
    group = GroupCommit(etcd.txn)
    first = asyncio.ensure_future(group.txn(b"a", put_if_absent(b"a")))
    await until(lambda: len(etcd.calls) == 1, '"a" in flight')
    second = asyncio.ensure_future(group.txn(b"b", put_if_absent(b"b")))
    await asyncio.sleep(0.01)  # a turn of the loop, and more, apart
    third = asyncio.ensure_future(group.txn(b"c", put_if_absent(b"c")))
    await asyncio.sleep(0.01)
    assert len(etcd.calls) == 1  # the others wait for "a"
    etcd.held.set()
    results = await asyncio.gather(first, second, third)
    assert [r.succeeded for r in results] == [True, True, True]
    assert etcd.calls[0].SerializeToString() == put_if_absent(b"a")
    assert [op.request_txn.compare[0].key for op in etcd.calls[1].success] == [b"b", b"c"]
    assert len(etcd.calls) == 2 and [r.revision for r in results] == [11, 12, 12]


async def test_more_calls_in_flight_when_allowed() -> None:
    etcd = ScriptedEtcd()
    etcd.held = asyncio.Event()
    group = GroupCommit(etcd.txn, max_in_flight=2)
    writes = [asyncio.ensure_future(group.txn(b"a", put_if_absent(b"a")))]
    await until(lambda: len(etcd.calls) == 1, '"a" in flight')
    writes.append(asyncio.ensure_future(group.txn(b"b", put_if_absent(b"b"))))
    await until(lambda: len(etcd.calls) == 2, '"b" in flight beside it')
    writes.append(asyncio.ensure_future(group.txn(b"c", put_if_absent(b"c"))))
    await asyncio.sleep(0.01)
    assert len(etcd.calls) == 2  # "a" and "b" in flight, each alone; "c" waits
    etcd.held.set()
    assert all(r.succeeded for r in await asyncio.gather(*writes))
    assert len(etcd.calls) == 3


async def test_a_lone_write_is_sent_as_it_is() -> None:
    etcd = ScriptedEtcd()
    group = GroupCommit(etcd.txn)
    first = await group.txn(b"a", put_if_absent(b"a"))
    second = await group.txn(b"b", put_if_absent(b"b"))
    assert [c.SerializeToString() for c in etcd.calls] == [put_if_absent(b"a"), put_if_absent(b"b")]
    assert [(r.succeeded, r.revision) for r in (first, second)] == [(True, 11), (True, 12)]
    again = await group.txn(b"a", put_if_absent(b"a", b"other"))
    assert not again.succeeded and etcd.data[b"a"] == b"v"


async def test_a_key_written_twice_in_a_turn_goes_in_another_call() -> None:
    etcd = ScriptedEtcd()
    group = GroupCommit(etcd.txn)
    results = await asyncio.gather(
        group.txn(b"a", put_if_absent(b"a", b"first")),
        group.txn(b"b", put_if_absent(b"b")),
        group.txn(b"a", put_if_absent(b"a", b"second")),
    )
    assert len(etcd.calls) == 2
    assert [op.request_txn.compare[0].key for op in etcd.calls[0].success] == [b"a", b"b"]
    assert etcd.calls[1].SerializeToString() == put_if_absent(b"a", b"second")  # alone, as it is
    assert [r.succeeded for r in results] == [True, True, False]
    assert etcd.data[b"a"] == b"first"


@pytest.mark.parametrize(("max_writes", "max_bytes", "calls"), [(3, 1 << 20, 3), (100, 60, 4)])
async def test_batches_stay_within_etcds_limits(
    max_writes: int, max_bytes: int, calls: int
) -> None:
    etcd = ScriptedEtcd()
    group = GroupCommit(etcd.txn, max_writes=max_writes, max_bytes=max_bytes)
    keys = [f"k{i}".encode() for i in range(8)]
    results = await asyncio.gather(*(group.txn(k, put_if_absent(k)) for k in keys))
    assert all(r.succeeded for r in results) and len(etcd.calls) == calls
    for call in etcd.calls:
        assert len(call.success) <= max_writes
        assert len(call.success) == 1 or call.ByteSize() <= max_bytes + 8 * len(call.success)
    assert sorted(etcd.data) == sorted(keys)


async def test_a_failed_call_fails_each_of_its_writes() -> None:
    etcd = ScriptedEtcd()
    etcd.fail_with = RuntimeError("etcd: UNAVAILABLE")
    group = GroupCommit(etcd.txn)
    results = await asyncio.gather(
        *(group.txn(k, put_if_absent(k)) for k in (b"a", b"b")), return_exceptions=True
    )
    assert [str(r) for r in results] == ["etcd: UNAVAILABLE"] * 2
    etcd.fail_with = None
    assert (await group.txn(b"a", put_if_absent(b"a"))).succeeded


async def test_a_caller_that_gives_up_leaves_the_others_answered() -> None:
    etcd = ScriptedEtcd()
    group = GroupCommit(etcd.txn)
    gone = asyncio.ensure_future(group.txn(b"a", put_if_absent(b"a")))
    stays = asyncio.ensure_future(group.txn(b"b", put_if_absent(b"b")))
    await asyncio.sleep(0)
    gone.cancel()
    assert (await stays).succeeded
    assert gone.cancelled() and etcd.data == {b"a": b"v", b"b": b"v"}  # sent before it gave up
