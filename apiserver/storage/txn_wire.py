"""The single-key transactions the apiserver sends etcd (create, compare-and-put,
compare-and-delete), and group commit's batch of them, written directly in protobuf's wire format:
the bytes `pb.TxnRequest(...).SerializeToString()` gives, without building the messages.

Every pod costs several such writes; building the nested Compare, PutRequest, RequestOp and
TxnRequest messages and then copying each into the batch cost more than the few concatenations
below. A batch is bytes too: a repeated message field is each element's tag, length and bytes, so
a write's serialized transaction is nested as it is (tests/unit/apiserver/test_txn_wire.py holds
these to protobuf's own encoding)."""

from __future__ import annotations

from collections.abc import Iterable

# Tags (field number << 3 | wire type) of the fields written here: 0 varint, 2 length-delimited.
_TXN_COMPARE = b"\x0a"  # TxnRequest.compare = 1
_TXN_SUCCESS = b"\x12"  # TxnRequest.success = 2
_TXN_FAILURE = b"\x1a"  # TxnRequest.failure = 3
_OP_RANGE = b"\x0a"  # RequestOp.request_range = 1
_OP_PUT = b"\x12"  # RequestOp.request_put = 2
_OP_DELETE_RANGE = b"\x1a"  # RequestOp.request_delete_range = 3
_OP_TXN = b"\x22"  # RequestOp.request_txn = 4
_KEY = b"\x0a"  # PutRequest, RangeRequest, DeleteRangeRequest .key = 1
_PUT_VALUE = b"\x12"  # PutRequest.value = 2
_COMPARE_KEY = b"\x1a"  # Compare.key = 3
# Compare.target = 2 (CREATE, MOD; result EQUAL is 0, proto3's default, and not written), then
# the tag of the oneof member compared: create_revision = 5, mod_revision = 6.
_CREATED_TARGET = b"\x10\x01"
_CREATE_REVISION = b"\x28"
_MOD_TARGET = b"\x10\x02"
_MOD_REVISION = b"\x30"

_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def varint(n: int) -> bytes:
    """n as a protobuf varint (a negative int64 as its two's complement, ten bytes)."""
    if 0 <= n < 0x80:
        return _ONE_BYTE[n]
    # Lengths of stored objects and etcd revisions: two or three bytes, without the loop.
    if 0 < n < 0x4000:
        return bytes((n & 0x7F | 0x80, n >> 7))
    if 0 < n < 0x20_0000:
        return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14))
    n &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _message(tag: bytes, payload: bytes) -> bytes:
    """A message field (present even when empty)."""
    return tag + varint(len(payload)) + payload


def _sized(data: bytes) -> bytes:
    """A bytes field's length and bytes, after its tag; b"" when empty (proto3 omits it)."""
    return varint(len(data)) + data if data else b""


def _field(tag: bytes, sized: bytes) -> bytes:
    """A bytes field from its _sized() length and bytes: a write's key is sized once for each
    field that holds it, the Compare's key (field 3) and its requests' (field 1)."""
    return tag + sized if sized else b""


def _put(sized_key: bytes, value: bytes) -> bytes:
    return _message(_OP_PUT, _field(_KEY, sized_key) + _field(_PUT_VALUE, _sized(value)))


def _read(sized_key: bytes) -> bytes:
    return _message(_OP_RANGE, _field(_KEY, sized_key))


def _unchanged(sized_key: bytes, mod_revision: int) -> bytes:
    return _MOD_TARGET + _field(_COMPARE_KEY, sized_key) + _MOD_REVISION + varint(mod_revision)


def create(key: bytes, value: bytes) -> bytes:
    """Puts `key` if it is absent (its create_revision 0)."""
    sized_key = _sized(key)
    absent = _CREATED_TARGET + _field(_COMPARE_KEY, sized_key) + _CREATE_REVISION + _ONE_BYTE[0]
    return _message(_TXN_COMPARE, absent) + _message(_TXN_SUCCESS, _put(sized_key, value))


def compare_and_put(key: bytes, value: bytes, mod_revision: int) -> bytes:
    """Puts `key` if it is still at `mod_revision`; else reads it."""
    sized_key = _sized(key)
    return (
        _message(_TXN_COMPARE, _unchanged(sized_key, mod_revision))
        + _message(_TXN_SUCCESS, _put(sized_key, value))
        + _message(_TXN_FAILURE, _read(sized_key))
    )


def compare_and_delete(key: bytes, mod_revision: int) -> bytes:
    """Deletes `key` if it is still at `mod_revision`; else reads it."""
    sized_key = _sized(key)
    return (
        _message(_TXN_COMPARE, _unchanged(sized_key, mod_revision))
        + _message(_TXN_SUCCESS, _message(_OP_DELETE_RANGE, _field(_KEY, sized_key)))
        + _message(_TXN_FAILURE, _read(sized_key))
    )


def nested(transactions: Iterable[bytes]) -> bytes:
    """One transaction that runs each of `transactions` (serialized TxnRequests) as a nested
    one, in order: TxnRequest(success=[RequestOp(request_txn=t) for t in transactions])."""
    return b"".join(_message(_TXN_SUCCESS, _message(_OP_TXN, t)) for t in transactions)
