"""Kubernetes' JSON, both ways (podplane.apimachinery.codec): every kind's objects decode back to
themselves once encoded; fields Go never omits are written when empty and read back without
presence where Go has none; timestamps, quantities, int-or-strings and bytes are written and
read as Kubernetes' types do; a value of the wrong type is refused with its path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.codec import FieldValidation
from tests.unit.machinery.printers import samples
from tests.unit.machinery.printers.samples import SAMPLES

_INTS = {
    FieldDescriptor.TYPE_INT32: 7,
    FieldDescriptor.TYPE_SINT32: -7,
    FieldDescriptor.TYPE_UINT32: 7,
    FieldDescriptor.TYPE_INT64: 2**40,
    FieldDescriptor.TYPE_SINT64: -(2**40),
    FieldDescriptor.TYPE_UINT64: 2**40,
}
_STRINGS = {
    "date-time": "2026-01-02T03:04:05Z",
    "micro-time": "2026-01-02T03:04:05.123456Z",
    "int-or-string": "8080",
    "quantity": "1500m",
    # Free-form JSON is held as its compact text.
    "raw-extension": '{"spec":{"replicas":3,"paused":false}}',
    "fields-v1": '{"f:metadata":{"f:labels":{"f:app":{}}}}',
    "json-schema-props": '{"type":"object","properties":{"spec":{"type":"object"}}}',
}


def _value(f: FieldDescriptor, fmt: str) -> Any:
    if f.type == FieldDescriptor.TYPE_STRING:
        return _STRINGS.get(fmt, f"{f.name}-é")
    if f.type == FieldDescriptor.TYPE_BYTES:
        return b"\x00\xffbytes"
    if f.type == FieldDescriptor.TYPE_BOOL:
        return True
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    return _INTS[f.type]


def filled(msg: Message, depth: int = 0) -> Message:
    """`msg` with every field set to a value that is not its zero (one element per list and
    map), down to a depth that ends recursive types."""
    descriptor: Any = msg.DESCRIPTOR  # the stubs type it as either of two classes
    for f in descriptor.fields:
        fmt = codec.field_schema(f).format
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value_field = f.message_type.fields_by_name["value"]
            target = getattr(msg, f.name)
            if value_field.message_type is not None:
                if depth < 6:
                    filled(target["key"], depth + 1)
            else:
                target["key"] = _value(value_field, fmt)
        elif f.is_repeated:
            if f.message_type is not None:
                if depth < 6:
                    filled(getattr(msg, f.name).add(), depth + 1)
            else:
                getattr(msg, f.name).append(_value(f, fmt))
        elif f.message_type is not None:
            if depth < 6:
                filled(getattr(msg, f.name), depth + 1)
        else:
            setattr(msg, f.name, _value(f, fmt))
    return msg


def round_trip(msg: Message) -> Message:
    """Through JSON text, as the REST door writes and reads it."""
    data = json.loads(json.dumps(codec.encode(msg)))
    decoded, unknown = codec.decode(type(msg), data)
    assert unknown == []
    return decoded


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_every_kinds_sample_decodes_to_itself(plural: str) -> None:
    _, sample = SAMPLES[plural]
    assert round_trip(sample) == sample


@pytest.mark.parametrize("resource", resources.ALL, ids=[r.kind for r in resources.ALL])
def test_every_field_of_every_kind_decodes_to_itself(resource: resources.Resource) -> None:
    obj = filled(resource.message())
    assert round_trip(obj) == obj
    empty = resource.message()
    assert round_trip(empty) == empty


def test_lists_and_bindings_decode_to_themselves() -> None:
    listed = core_pb2.PodList(items=[samples.POD])
    listed.metadata.resource_version = "42"
    assert round_trip(listed) == listed
    assert round_trip(filled(core_pb2.Binding())) == filled(core_pb2.Binding())


def pod_status_json() -> dict[str, Any]:
    status = core_pb2.PodStatus(phase="Pending")
    status.conditions.add(type="PodScheduled", status="False")
    status.container_statuses.add(name="web", image="nginx")
    return codec.encode(status)


def test_fields_go_never_omits_are_written_when_empty() -> None:
    status = pod_status_json()
    container = status["containerStatuses"][0]
    assert container["restartCount"] == 0 and container["ready"] is False
    assert container["imageID"] == "" and container["image"] == "nginx"
    condition = status["conditions"][0]
    assert condition["lastProbeTime"] is None and condition["lastTransitionTime"] is None
    # Omitted: what Go marks omitempty.
    assert "started" not in container and "message" not in condition
    container_spec = codec.encode(core_pb2.Container(name="web", image="nginx"))
    assert container_spec["resources"] == {}
    assert "ports" not in container_spec and "command" not in container_spec
    meta = codec.encode(core_pb2.Pod())["metadata"]
    assert meta == {"creationTimestamp": None}


def test_a_pointer_go_never_omits_is_null_when_unset() -> None:
    """An APIService's spec.service (`*ServiceReference` without omitempty): null for a local
    one, the reference when set; null reads back as unset."""
    spec = apiregistration_pb2.APIServiceSpec(version="v1", group_priority_minimum=18000)
    assert codec.encode(spec) == {
        "service": None,
        "version": "v1",
        "groupPriorityMinimum": 18000,
        "versionPriority": 0,
    }
    spec.service.name = "api"
    assert codec.encode(spec)["service"] == {"name": "api"}
    decoded, _ = codec.decode(apiregistration_pb2.APIServiceSpec, {"service": None})
    assert not decoded.HasField("service")


def test_empty_values_read_back_as_go_holds_them() -> None:
    status, _ = codec.decode(core_pb2.PodStatus, pod_status_json())
    assert status.container_statuses[0].restart_count == 0
    assert not status.container_statuses[0].ready
    assert status.conditions[0].last_probe_time == ""
    # `resources: {}` is Go's struct at its zero value: the same as no resources at all.
    container, _ = codec.decode(core_pb2.Container, {"name": "web", "resources": {}})
    assert not container.HasField("resources")
    assert container == core_pb2.Container(name="web")
    # `emptyDir: {}` is a pointer to an empty struct: present, and so a volume of that type.
    volume, _ = codec.decode(core_pb2.Volume, {"name": "scratch", "emptyDir": {}})
    assert volume.HasField("empty_dir")
    assert codec.encode(volume) == {"name": "scratch", "emptyDir": {}}
    # An optional scalar set to zero stays set (replicas: 0 is not "default to one").
    deployment, _ = codec.decode(apps_pb2.Deployment, {"spec": {"replicas": 0}})
    assert deployment.spec.HasField("replicas")
    assert codec.encode(deployment)["spec"]["replicas"] == 0


@pytest.mark.parametrize(
    "given,written",
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
        ("2026-01-02T03:04:05.999Z", "2026-01-02T03:04:05Z"),
        ("2026-01-02T04:04:05+01:00", "2026-01-02T03:04:05Z"),
        ("2026-01-01T22:04:05-05:00", "2026-01-02T03:04:05Z"),
    ],
)
def test_times_are_written_in_utc_to_the_second(given: str, written: str) -> None:
    meta, _ = codec.decode(core_pb2.Pod, {"metadata": {"creationTimestamp": given}})
    assert codec.encode(meta)["metadata"]["creationTimestamp"] == written


def test_micro_times_keep_the_microsecond() -> None:
    lease, _ = codec.decode(
        resources.LEASE.message,
        {
            "spec": {
                "renewTime": "2026-01-02T04:04:05.1234567+01:00",
                "acquireTime": "2026-01-02T03:04:05Z",
            }
        },
    )
    spec = codec.encode(lease)["spec"]
    assert spec["renewTime"] == "2026-01-02T03:04:05.123456Z"
    assert spec["acquireTime"] == "2026-01-02T03:04:05.000000Z"


@pytest.mark.parametrize(
    "data,path,detail",
    [
        (
            {"metadata": {"creationTimestamp": "yesterday"}},
            "metadata.creationTimestamp",
            'parsing time "yesterday"',
        ),
        (
            {"metadata": {"creationTimestamp": "2026-01-02"}},
            "metadata.creationTimestamp",
            "parsing time",
        ),
        (
            {"metadata": {"creationTimestamp": 1767323045}},
            "metadata.creationTimestamp",
            "expected string, got number",
        ),
        ({"metadata": {"name": 5}}, "metadata.name", "expected string, got number"),
        (
            {"metadata": {"labels": {"a": True}}},
            "metadata.labels[a]",
            "expected string, got boolean",
        ),
        ({"metadata": {"labels": "a=b"}}, "metadata.labels", "expected object, got string"),
        ({"spec": {"containers": {"name": "c"}}}, "spec.containers", "expected array, got object"),
        (
            {"spec": {"containers": [{"name": "c", "image": 1.27}]}},
            "spec.containers[0].image",
            "expected string, got number",
        ),
        (
            {"spec": {"containers": [{"name": "c", "env": [{"name": "PORT", "value": 8080}]}]}},
            "spec.containers[0].env[0].value",
            "expected string, got number",
        ),
        (
            {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}},
            "spec.containers[0].ports[0].containerPort",
            "expected integer, got string",
        ),
        (
            {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 2**31}]}]}},
            "spec.containers[0].ports[0].containerPort",
            "out of range",
        ),
        (
            {
                "spec": {
                    "containers": [{"name": "c", "livenessProbe": {"tcpSocket": {"port": 80.5}}}]
                }
            },
            "spec.containers[0].livenessProbe.tcpSocket.port",
            "expected integer or string",
        ),
        ({"spec": {"hostNetwork": "true"}}, "spec.hostNetwork", "expected boolean, got string"),
        (
            {"spec": {"containers": [{"name": "c", "args": ["a", None]}]}},
            "spec.containers[0].args[1]",
            "expected a value, got null",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_its_path(
    data: dict[str, Any], path: str, detail: str
) -> None:
    with pytest.raises(codec.DecodeError) as refused:
        codec.decode(core_pb2.Pod, data, FieldValidation.IGNORE)
    assert refused.value.path == path
    assert detail in refused.value.detail


def test_numbers_are_quantities_and_int_or_strings_where_go_takes_them() -> None:
    pod, _ = codec.decode(
        core_pb2.Pod,
        {
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "resources": {"limits": {"cpu": 1, "memory": 0.5}},
                        "livenessProbe": {"httpGet": {"port": 8080}},
                        "readinessProbe": {"httpGet": {"port": "http"}},
                    }
                ]
            }
        },
    )
    container = pod.spec.containers[0]
    assert dict(container.resources.limits) == {"cpu": "1", "memory": "0.5"}
    assert container.liveness_probe.http_get.port == "8080"
    encoded = codec.encode(container)
    assert encoded["livenessProbe"]["httpGet"]["port"] == 8080
    assert encoded["readinessProbe"]["httpGet"]["port"] == "http"
    assert encoded["resources"]["limits"] == {"cpu": "1", "memory": "0.5"}


def test_bytes_are_base64() -> None:
    secret, _ = codec.decode(core_pb2.Secret, {"data": {"k": "aHVudGVyMg=="}})
    assert secret.data["k"] == b"hunter2"
    assert codec.encode(secret)["data"] == {"k": "aHVudGVyMg=="}
    with pytest.raises(codec.DecodeError) as refused:
        codec.decode(core_pb2.Secret, {"data": {"k": "hunter2!"}})
    assert refused.value.path == "data[k]"
    assert refused.value.detail == "illegal base64 data at input byte 7"


@pytest.mark.parametrize("validation", list(FieldValidation))
def test_unknown_fields_by_validation_mode(validation: FieldValidation) -> None:
    data = {
        "metadata": {"name": "x", "nmae": "y"},
        "spec": {"containers": [{"name": "c", "imagePullPolicyy": "Always"}]},
        "extra": 1,
    }
    paths = ["metadata.nmae", "spec.containers[0].imagePullPolicyy", "extra"]
    if validation is FieldValidation.STRICT:
        with pytest.raises(codec.UnknownFieldError) as refused:
            codec.decode(core_pb2.Pod, data, validation)
        assert refused.value.paths == paths
        return
    pod, unknown = codec.decode(core_pb2.Pod, data, validation)
    assert unknown == paths
    assert pod.metadata.name == "x" and pod.spec.containers[0].name == "c"


def test_nulls_are_absent_values() -> None:
    pod, _ = codec.decode(
        core_pb2.Pod,
        {"metadata": {"name": "x", "labels": None, "deletionTimestamp": None}, "spec": None},
    )
    assert pod == core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="x"))
