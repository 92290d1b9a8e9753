"""Answers written in Kubernetes' protobuf: each of Kubernetes' scalar-like types by its wire
form (times as seconds, a MicroTime's nanos, IntOrString, Quantity, bytes, FieldsV1 and
RawExtension as JSON text), Go pointers' zeros kept, the envelope, watch frames and Status; and
what kubectl itself sent, read and written again, is the same message."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver import errors
from apiserver.endpoints.rest import protobuf_encode
from apiserver.endpoints.rest.negotiation import Accepted, Form, accepted
from apiserver.endpoints.rest.protobuf_bodies import MAGIC, decode
from apiserver.endpoints.rest.protobuf_kinds import SCALE, KindRef
from podplane.api.k8swire.apps.v1 import apps_pb2
from podplane.api.k8swire.coordination.v1 import coordination_pb2
from podplane.api.k8swire.core.v1 import core_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.policy.v1 import policy_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource

# The body kubectl 1.36 sent for `kubectl create pdb web --selector=app=web --min-available=2`
# (test_protobuf_bodies reads it).
KUBECTL_CREATE_PDB = bytes.fromhex(
    "6b387300 0a200a09 706f6c69 63792f76 31121350 6f644469 73727570 74696f6e"
    "42756467 65741239 0a130a03 77656212 001a0022 002a0032 00380042 0012160a"
    "06080010 021a0012 0c0a0a0a 03617070 12037765 621a0a08 00180020 00280030"
    "001a0022 00"
)


def _unwrap(raw: bytes) -> runtime_pb2.Unknown:
    assert raw.startswith(MAGIC)
    return runtime_pb2.Unknown.FromString(raw[len(MAGIC) :])


def test_the_envelope_names_the_type_around_the_message() -> None:
    raw = protobuf_encode.encode_object("v1", "Namespace", {"metadata": {"name": "x"}})
    envelope = _unwrap(raw)
    assert (envelope.typeMeta.apiVersion, envelope.typeMeta.kind) == ("v1", "Namespace")
    assert (envelope.contentEncoding, envelope.contentType) == ("", "")
    assert core_pb2.Namespace.FromString(envelope.raw).metadata.name == "x"


def test_times_are_seconds_and_a_micro_time_keeps_its_microseconds() -> None:
    body = {
        "metadata": {"name": "l", "creationTimestamp": "2023-11-14T22:13:20Z"},
        "spec": {
            "holderIdentity": "a",
            "leaseDurationSeconds": 0,
            "renewTime": "2023-11-14T22:13:20.123456Z",
        },
    }
    raw = protobuf_encode.encode_object("coordination.k8s.io/v1", "Lease", body)
    lease = coordination_pb2.Lease.FromString(_unwrap(raw).raw)
    assert (lease.metadata.creationTimestamp.seconds, lease.metadata.creationTimestamp.nanos) == (
        1700000000,
        0,
    )
    assert (lease.spec.renewTime.seconds, lease.spec.renewTime.nanos) == (1700000000, 123456000)
    # A Go pointer's zero is a value, and is sent.
    assert lease.spec.HasField("leaseDurationSeconds")
    assert decode(raw)["spec"]["renewTime"] == "2023-11-14T22:13:20.123456Z"


def test_int_or_string_quantity_bytes_and_json_text() -> None:
    service = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"targetPort": "http"}]}}
    got = core_pb2.Service.FromString(
        _unwrap(protobuf_encode.encode_object("v1", "Service", service)).raw
    )
    assert [
        (p.targetPort.type, p.targetPort.intVal, p.targetPort.strVal) for p in got.spec.ports
    ] == [
        (0, 8080, ""),
        (1, 0, "http"),
    ]
    secret = {
        "metadata": {
            "name": "s",
            "managedFields": [{"manager": "m", "fieldsType": "FieldsV1", "fieldsV1": {"f:a": {}}}],
        },
        "data": {"k": "AP8="},
    }
    got_secret = core_pb2.Secret.FromString(
        _unwrap(protobuf_encode.encode_object("v1", "Secret", secret)).raw
    )
    assert got_secret.data["k"] == b"\x00\xff"
    assert got_secret.metadata.managedFields[0].fieldsV1.Raw == b'{"f:a":{}}'
    pod = {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "100m"}}}]}}
    got_pod = core_pb2.Pod.FromString(_unwrap(protobuf_encode.encode_object("v1", "Pod", pod)).raw)
    assert got_pod.spec.containers[0].resources.limits["cpu"].string == "100m"
    revision = {"metadata": {"name": "r"}, "data": {"spec": {"a": [1]}}, "revision": 2}
    got_revision = apps_pb2.ControllerRevision.FromString(
        _unwrap(protobuf_encode.encode_object("apps/v1", "ControllerRevision", revision)).raw
    )
    assert got_revision.data.raw == b'{"spec":{"a":[1]}}'


def test_inline_structs_are_written_as_their_message() -> None:
    pod = {
        "spec": {
            "volumes": [{"name": "v", "configMap": {"name": "cm"}}],
            "containers": [{"name": "c", "livenessProbe": {"exec": {"command": ["true"]}}}],
        }
    }
    got = core_pb2.Pod.FromString(_unwrap(protobuf_encode.encode_object("v1", "Pod", pod)).raw)
    assert got.spec.volumes[0].volumeSource.configMap.localObjectReference.name == "cm"
    assert list(got.spec.containers[0].livenessProbe.handler.exec.command) == ["true"]


def test_kubectls_own_body_is_written_again_as_the_same_message() -> None:
    """The PodDisruptionBudget kubectl 1.36 sent, read and written again: Go's message and
    ours parse to the same fields (Go also sends its non-pointer zeros, which read as absent)."""
    sent = policy_pb2.PodDisruptionBudget.FromString(_unwrap(KUBECTL_CREATE_PDB).raw)
    data = decode(KUBECTL_CREATE_PDB)
    written = protobuf_encode.encode_object("policy/v1", "PodDisruptionBudget", data)
    # Go's zero creationTimestamp is an empty message; null in JSON, and not sent here: both
    # read as the zero time.
    sent.metadata.ClearField("creationTimestamp")
    assert policy_pb2.PodDisruptionBudget.FromString(_unwrap(written).raw) == sent


def test_a_watch_event_is_a_length_delimited_watch_event_frame() -> None:
    obj = protobuf_encode.encode_object("v1", "ConfigMap", {"metadata": {"name": "a"}})
    frame = protobuf_encode.watch_frame("ADDED", obj)
    size = int.from_bytes(frame[:4], "big")
    assert size == len(frame) - 4
    event = meta_pb2.WatchEvent.FromString(frame[4:])
    assert event.type == "ADDED"
    assert event.object.raw == obj
    assert decode(event.object.raw)["metadata"] == {"name": "a"}


def test_a_status_is_v1_status() -> None:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "pods", "causes": [{"field": "a", "reason": "b"}]},
        "code": 404,
    }
    envelope = _unwrap(protobuf_encode.status(body))
    assert (envelope.typeMeta.apiVersion, envelope.typeMeta.kind) == ("v1", "Status")
    status = meta_pb2.Status.FromString(envelope.raw)
    assert (status.status, status.reason, status.code, status.details.name) == (
        "Failure",
        "NotFound",
        404,
        "x",
    )
    assert status.details.causes[0].field == "a"


PROTOBUF = "application/vnd.kubernetes.protobuf"
CUSTOM = resources.custom_resource("example.com", "v1", "Gadget", "gadgets", namespaced=True)


@pytest.mark.parametrize(
    "accept,kind,form",
    [
        (f"{PROTOBUF},application/json", resources.POD, Accepted(Form.OBJECT, protobuf=True)),
        (f"{PROTOBUF}, */*", resources.DEPLOYMENT, Accepted(Form.OBJECT, protobuf=True)),
        (PROTOBUF, resources.SELF_SUBJECT_ACCESS_REVIEW, Accepted(Form.OBJECT, protobuf=True)),
        (PROTOBUF, SCALE, Accepted(Form.OBJECT, protobuf=True)),
        (f"application/json,{PROTOBUF}", resources.POD, Accepted(Form.OBJECT)),
        # A custom resource is JSON only, as in Kubernetes.
        (f"{PROTOBUF},application/json", CUSTOM, Accepted(Form.OBJECT)),
        # Tables and metadata are not written in protobuf: the next choice.
        (
            f"{PROTOBUF};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            resources.POD,
            Accepted(Form.METADATA, "v1"),
        ),
    ],
)
def test_protobuf_is_negotiated_for_built_in_kinds(
    accept: str, kind: Resource[Any, Any, Any] | KindRef, form: Accepted
) -> None:
    assert accepted(accept, kind) == form


def test_protobuf_alone_for_a_custom_resource_is_a_406() -> None:
    with pytest.raises(errors.APIError) as refused:
        accepted(PROTOBUF, CUSTOM)
    assert refused.value.reason == "NotAcceptable"


def test_delete_options_read_in_any_group_version() -> None:
    """client-go sends a typed client's DeleteOptions in its own group version's envelope."""
    options = meta_pb2.DeleteOptions(propagationPolicy="Foreground", gracePeriodSeconds=0)
    raw = protobuf_encode.envelope("apps/v1", "DeleteOptions", options.SerializeToString())
    assert decode(raw) == {
        "apiVersion": "apps/v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
    }
