"""`kubectl create priorityclass` sends a scheduling.k8s.io/v1 PriorityClass in Kubernetes'
protobuf: read with Kubernetes' field numbers (written out by hand here, from k8s.io/api
scheduling/v1 generated.proto) into the JSON the same class would be, strictly."""

from __future__ import annotations

from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.codec import FieldValidation


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int32s are sent as ten-byte varints
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _envelope(raw: bytes) -> bytes:
    envelope = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(apiVersion="scheduling.k8s.io/v1", kind="PriorityClass"),
        raw=raw,
        contentType="application/vnd.kubernetes.protobuf",
    )
    return MAGIC + envelope.SerializeToString()


def test_kubectl_create_priorityclass_reads_as_its_json() -> None:
    # What kubectl create priorityclass high --value=1000 --description=high
    # --preemption-policy=Never builds: metadata (1) with name (1) and an empty
    # creationTimestamp (8), value (2), globalDefault (3, false), description (4),
    # preemptionPolicy (5).
    metadata = _field(1, b"high") + _field(8, b"")
    raw = (
        _field(1, metadata)
        + _field(2, 1000)
        + _field(3, 0)
        + _field(4, b"high")
        + _field(5, b"Never")
    )
    data = decode(_envelope(raw))
    assert data == {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "high", "creationTimestamp": None},
        "value": 1000,
        "description": "high",
        "preemptionPolicy": "Never",
    }
    _, warnings = bodies.decode_object(resources.PRIORITY_CLASS, data, [], FieldValidation.STRICT)
    assert warnings == []


def test_a_negative_value_and_a_global_default() -> None:
    raw = _field(1, _field(1, b"batch")) + _field(2, -5) + _field(3, 1)
    data = decode(_envelope(raw))
    assert (data["value"], data["globalDefault"]) == (-5, True)
    assert "preemptionPolicy" not in data  # a nil pointer: defaulted by the server
