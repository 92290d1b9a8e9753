"""The transactions apiserver/storage/txn_wire.py writes as bytes are, byte for byte, what protobuf
serializes for the messages the etcd client used to build; a batch of them decodes to the batch
message group commit used to build, each write nested as it was."""

from __future__ import annotations

import pytest

from apiserver.storage import txn_wire
from podplane.api.etcd import rpc_pb2 as pb

KEYS = [b"/registry/pods/default/web-0", b"k", b"\xff\x00/binary", b"/" + b"n" * 300, b""]
VALUES = [b"", b"v", b"\x00" * 127, b"x" * 128, b"y" * 900, b"z" * 20_000]
REVISIONS = [0, 1, 127, 128, 16_383, 16_384, 2**31, 2**63 - 1, -1]


def _put(key: bytes, value: bytes) -> pb.RequestOp:
    return pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))


def _unchanged(key: bytes, mod_revision: int) -> pb.Compare:
    return pb.Compare(
        key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=mod_revision
    )


def old_create(key: bytes, value: bytes) -> pb.TxnRequest:
    absent = pb.Compare(
        key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0
    )
    return pb.TxnRequest(compare=[absent], success=[_put(key, value)])


def old_compare_and_put(key: bytes, value: bytes, mod_revision: int) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[_unchanged(key, mod_revision)],
        success=[_put(key, value)],
        failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key))],
    )


def old_compare_and_delete(key: bytes, mod_revision: int) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[_unchanged(key, mod_revision)],
        success=[pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key))],
        failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key))],
    )


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", VALUES)
def test_a_create_is_protobufs_own_encoding(key: bytes, value: bytes) -> None:
    assert txn_wire.create(key, value) == old_create(key, value).SerializeToString()


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("revision", REVISIONS)
def test_a_compare_and_swap_is_protobufs_own_encoding(key: bytes, revision: int) -> None:
    for value in VALUES:
        assert (
            txn_wire.compare_and_put(key, value, revision)
            == old_compare_and_put(key, value, revision).SerializeToString()
        )
    assert (
        txn_wire.compare_and_delete(key, revision)
        == old_compare_and_delete(key, revision).SerializeToString()
    )


def test_a_batch_decodes_to_the_nested_transactions() -> None:
    writes = [
        old_create(b"/registry/pods/ns/a", b"x" * 900),
        old_compare_and_put(b"/registry/pods/ns/b", b"y" * 200, 12345),
        old_compare_and_delete(b"/registry/pods/ns/c", 7),
        old_create(b"/registry/events/ns/e", b""),
    ]
    batch = txn_wire.nested(w.SerializeToString() for w in writes)
    expected = pb.TxnRequest(success=[pb.RequestOp(request_txn=w) for w in writes])
    assert pb.TxnRequest.FromString(batch) == expected
    assert batch == expected.SerializeToString()


@pytest.mark.parametrize(
    "n", [0, 1, 127, 128, 300, 16_383, 16_384, 2**21 - 1, 2**21, 2**35, 2**64 - 1, -1, -(2**63)]
)
def test_varints_are_protobufs(n: int) -> None:
    # A oneof member is written even when zero: its tag (one byte), then the varint.
    encoded = pb.Compare(mod_revision=n if n < 2**63 else n - 2**64).SerializeToString()
    assert txn_wire.varint(n) == encoded[1:]
