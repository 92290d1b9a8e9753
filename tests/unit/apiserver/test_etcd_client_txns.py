"""The etcd client's single-key writes as they reach etcd's Txn call (a scripted one): each is the
transaction the client always sent, serialized once; writes of one turn of the loop go as one
batch that decodes to the same transactions nested; a compare that fails answers with the key as
it is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from apiserver.storage.etcd import EtcdClient, EtcdUnavailable, KeyValue
from podplane.api.etcd import rpc_pb2 as pb

KEY = b"/registry/pods/default/web-0"


def create_txn(key: bytes, value: bytes) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[
            pb.Compare(
                key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0
            )
        ],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))],
    )


def swap_txn(key: bytes, op: pb.RequestOp, mod_revision: int) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[
            pb.Compare(
                key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=mod_revision
            )
        ],
        success=[op],
        failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key))],
    )


class ScriptedTxn:
    """Stands for the channel's Txn method: records what it is sent, answers with `answer`."""

    def __init__(self, answer: Callable[[pb.TxnRequest], pb.TxnResponse]) -> None:
        self.sent: list[bytes] = []
        self.answer = answer

    async def __call__(self, request: bytes, **_: object) -> pb.TxnResponse:
        assert isinstance(request, bytes), "sent serialized, as it is"
        self.sent.append(request)
        await asyncio.sleep(0)
        return self.answer(pb.TxnRequest.FromString(request))


def answered(succeeded: bool, revision: int = 7, current: KeyValue | None = None) -> pb.TxnResponse:
    resp = pb.TxnResponse(succeeded=succeeded)
    resp.header.revision = revision
    if not succeeded:
        kvs = resp.responses.add().response_range.kvs
        if current is not None:
            kvs.add(key=current.key, value=current.value, mod_revision=current.mod_revision)
    return resp


@pytest.fixture
async def client() -> AsyncIterator[EtcdClient]:
    c = EtcdClient(["127.0.0.1:1"])  # nothing listens there: its Txn is scripted
    yield c
    await c.close()


async def test_a_lone_write_is_the_transaction_the_client_always_sent(client: EtcdClient) -> None:
    txn = ScriptedTxn(lambda _: answered(True, 11))
    client._serialized_txn = txn
    assert await client.create(KEY, b"pod") == 11
    assert await client.compare_and_put(KEY, b"pod2", 11) == (True, None, 11)
    assert await client.compare_and_delete(KEY, 11) == (True, None, 11)
    put = pb.RequestOp(request_put=pb.PutRequest(key=KEY, value=b"pod2"))
    delete = pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=KEY))
    assert txn.sent == [
        create_txn(KEY, b"pod").SerializeToString(),
        swap_txn(KEY, put, 11).SerializeToString(),
        swap_txn(KEY, delete, 11).SerializeToString(),
    ]


async def test_writes_of_one_turn_go_as_one_batch_of_nested_transactions(
    client: EtcdClient,
) -> None:
    def answer(request: pb.TxnRequest) -> pb.TxnResponse:
        resp = answered(True, 12)
        for _ in request.success:
            resp.responses.add().response_txn.succeeded = True
        return resp

    txn = ScriptedTxn(answer)
    client._serialized_txn = txn
    keys = [f"/registry/events/ns/e{i}".encode() for i in range(5)]
    revisions = await asyncio.gather(*(client.create(k, b"x" * 300) for k in keys))
    assert revisions == [12] * 5
    (sent,) = txn.sent
    assert pb.TxnRequest.FromString(sent) == pb.TxnRequest(
        success=[pb.RequestOp(request_txn=create_txn(k, b"x" * 300)) for k in keys]
    )


async def test_a_failed_compare_answers_with_the_key_as_it_is(client: EtcdClient) -> None:
    current = KeyValue(KEY, b"newer", 15, 0)
    client._serialized_txn = ScriptedTxn(lambda _: answered(False, 15, current))
    ok, latest, revision = await client.compare_and_put(KEY, b"mine", 11)
    assert (ok, latest, revision) == (False, KeyValue(KEY, b"newer", 15, 0), 15)
    ok, latest, _ = await client.compare_and_delete(KEY, 11)
    assert (ok, latest) == (False, KeyValue(KEY, b"newer", 15, 0))
    client._serialized_txn = ScriptedTxn(lambda _: answered(False, 16))
    assert await client.compare_and_put(KEY, b"mine", 11) == (False, None, 16)  # gone meanwhile
    assert await client.create(KEY, b"mine") is None


async def test_a_write_through_the_channel_to_no_etcd_is_unavailable(
    client: EtcdClient,
) -> None:
    """The real Txn method, which sends the serialized transaction as it is."""
    client.timeout = 0.2
    with pytest.raises(EtcdUnavailable):
        await client.create(KEY, b"pod")
