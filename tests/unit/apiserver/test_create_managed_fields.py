"""What a create records in metadata.managedFields when its request gives none (its own path,
apiserver/registry/generic/managed_fields.py and fieldmanager/creation.py): byte for byte what the
general path records (the whole object's JSON through FieldManager.update, as every other write
goes), entry by entry (manager, operation, apiVersion, time, FieldsV1 text), for objects of
several kinds created one after another, later ones sharing a spec with earlier ones (whose
part of the text is then remembered, not walked again)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from google.protobuf.message import Message

from apiserver.defaulting import pod as pod_defaulting
from apiserver.objects import object_meta
from apiserver.registry.generic.create_keys import CreateKeys
from apiserver.registry.generic.managed_fields import Manager
from bench.scheduler.workloads import bench_pod
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, manifest, resources
from podplane.apimachinery.fieldmanager.creation import CreateRecorder
from tests.unit.apiserver.created_fields import (
    KUBECTL,
    NAMED,
    NOBODY,
    assert_alike,
    fresh,
    obj,
)

# ---------------------------------------------------------------- pods

TEMPLATE_SPEC: dict[str, Any] = {
    "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c", "true"]}],
    "containers": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "ports": [
                {"containerPort": 80, "name": "http"},
                {"containerPort": 443, "protocol": "TCP"},
                {"containerPort": 53, "protocol": "UDP"},
            ],
            "env": [
                {"name": "MODE", "value": "prod"},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "EMPTY", "value": ""},
            ],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1"}},
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/web"},
                {"name": "cache", "mountPath": "/cache", "readOnly": True},
            ],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
            "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        },
        {"name": "sidecar", "image": "envoy", "args": ["--config", "/etc/envoy.yaml"]},
        {"name": "logger", "image": "fluent-bit", "ports": [{"containerPort": 2020}]},
    ],
    "volumes": [
        {
            "name": "config",
            "configMap": {"name": "web-config", "items": [{"key": "a", "path": "a"}]},
        },
        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "token", "secret": {"secretName": "web-token", "defaultMode": 256}},
    ],
    "nodeSelector": {"disk": "ssd", "zone": "a"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web"}],
    "affinity": {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    },
                }
            ]
        }
    },
    "terminationGracePeriodSeconds": 5,
}


def pod(name: str, spec: dict[str, Any], **metadata: Any) -> core_pb2.Pod:
    meta = {"name": name, "namespace": "default", **metadata}
    out = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}, core_pb2.Pod
    )
    pod_defaulting.pod(out)  # as the store defaults an object before it records the create
    return out


def owned_by(name: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": name,
            "uid": f"uid-{name}",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def pods() -> list[tuple[Message, Manager]]:
    other = copy.deepcopy(TEMPLATE_SPEC)
    # The same name twice: the item is recorded whole, once.
    other["containers"].append({"name": "web", "image": "nginx:1.28"})
    other["containers"][0]["ports"].append({"containerPort": 80, "name": "again"})
    with_status = pod("with-status", {"containers": [{"name": "c", "image": "x"}]})
    with_status.status.phase = "Running"
    with_status.status.conditions.add(type="Ready", status="True")
    return [
        (pod("web-1", TEMPLATE_SPEC, labels={"app": "web", "tier": "a"}), NAMED),
        # The same spec under other metadata: its text is remembered.
        (
            pod(
                "web-2",
                TEMPLATE_SPEC,
                generateName="web-",
                labels={"app": "web", "pod-template-hash": "5d8f"},
                annotations={"kubernetes.io/config.seen": "x", "note": "<&>"},
                ownerReferences=owned_by("web-5d8f"),
                finalizers=["example.com/keep"],
            ),
            NAMED,
        ),
        (pod("web-3", TEMPLATE_SPEC), KUBECTL),
        (pod("other", other, labels={"app": "other"}), KUBECTL),
        (with_status, NOBODY),
        (pod("web-4", TEMPLATE_SPEC, ownerReferences=owned_by("web-5d8f")), NOBODY),
        (pod("minimal", {"containers": [{"name": "c", "image": "x"}]}), KUBECTL),
        # web-1's metadata but its name (remembered), then one label's value changed, then
        # one more label.
        (pod("web-5", TEMPLATE_SPEC, labels={"app": "web", "tier": "a"}), NAMED),
        (pod("web-6", TEMPLATE_SPEC, labels={"app": "web", "tier": "b"}), NAMED),
        (pod("web-7", TEMPLATE_SPEC, labels={"app": "web", "tier": "a", "x": "y"}), NAMED),
    ]


def test_pods_record_what_the_general_path_records() -> None:
    assert_alike(lambda: fresh(resources.POD), pods())


def test_the_scheduler_load_tests_pods_record_what_the_general_path_records() -> None:
    """Its mixed workload: pods alike but for their node selector, affinity, tolerations or
    spreading, ten of each kind."""
    objects = []
    for i in range(30):
        made = bench_pod(f"pod-{i}", "bench", i, "mixed", "run-1")
        pod_defaulting.pod(made)
        objects.append((made, KUBECTL))
    assert_alike(lambda: fresh(resources.POD), objects)


# ---------------------------------------------------------------- other kinds


def event(name: str, **extra: Any) -> Message:
    return obj(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {
                "kind": "Pod",
                "apiVersion": "v1",
                "namespace": "default",
                "name": name.split(".")[0],
                "uid": f"uid-{name}",
                "resourceVersion": "42",
            },
            "reason": "Scheduled",
            "message": f"Successfully assigned default/{name} to node-1",
            "type": "Normal",
            "source": {"component": "default-scheduler", "host": "sched-0"},
            "firstTimestamp": "2024-05-01T10:00:00Z",
            "lastTimestamp": "2024-05-01T10:00:00Z",
            "count": 1,
            "reportingComponent": "default-scheduler",
            "reportingInstance": "sched-0",
            "action": "Binding",
            **extra,
        }
    )


def crd(name: str, schema: str) -> Message:
    """A CustomResourceDefinition whose version's schema is `schema`, JSON text as the gRPC
    door may take it (not checked to be JSON until it is encoded)."""
    out = obj(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        }
    )
    out.spec.versions[0].schema.open_apiv3_schema = schema  # type: ignore[attr-defined]
    return out


def test_events_record_what_the_general_path_records() -> None:
    """The scheduler's Scheduled events (one source, an involvedObject each), and events with
    a series, a related object, an empty source."""
    objects = [
        (event("web-1.17a"), NAMED),
        (event("web-2.17b"), NAMED),
        (
            event(
                "web-3.17c",
                series={"count": 3, "lastObservedTime": "2024-05-01T10:00:01.000000Z"},
                related={"kind": "Node", "name": "node-1"},
                eventTime="2024-05-01T10:00:00.000000Z",
            ),
            KUBECTL,
        ),
        (event("web-4.17d", source={}), NOBODY),
        (event("web-5.17e"), NAMED),
        # What the empty Event has (involvedObject {}, reportingComponent ""), given empty
        # after those given set: not owned, though owned whole when set.
        (event("web-6.17f", involvedObject={}, reportingComponent="", type=""), NAMED),
        (event("web-7.180", count=0, message=""), NAMED),
    ]
    assert_alike(lambda: fresh(resources.EVENT), objects)


# The event a scheduler sends (client-go's tools/events, as kube-scheduler's): no source, no
# first and last timestamps or count (the core Event still writes its source as {}).
_SCHEDULERS = {
    "source": None,
    "firstTimestamp": None,
    "lastTimestamp": None,
    "count": None,
    "eventTime": "2024-05-01T10:00:00.123456Z",
}


@pytest.mark.parametrize("shape", [{}, _SCHEDULERS], ids=["core", "events.k8s.io"])
def test_a_part_is_remembered_by_what_managers_own_of_it(
    monkeypatch: pytest.MonkeyPatch, shape: dict[str, Any]
) -> None:
    """The metadata by what is left of it without the name, uid and the rest no manager owns,
    the fields owned whole by the field alone, a message not set by nothing: after a first
    event, events that differ only there (a scheduler's Scheduled events) are recorded without
    walking any part again, and their entries are the general path's."""
    walked: list[list[str]] = []
    texts = CreateRecorder._texts

    def counting(self: CreateRecorder, part: dict[str, Any]) -> dict[str, str]:
        walked.append(sorted(part))
        return texts(self, part)

    monkeypatch.setattr(CreateRecorder, "_texts", counting)
    # Nor is any part of them encoded: the first event's text is remembered whole.
    encoded: list[Message] = []
    top = CreateKeys.top

    def encoding(self: CreateKeys, obj: Message) -> dict[str, Any]:
        encoded.append(obj)
        return top(self, obj)

    monkeypatch.setattr(CreateKeys, "top", encoding)
    made = [event("web-1.17a", **shape)] + [
        event(f"other-{i}.18{i}", message=f"assigned to node-{i}", **shape) for i in range(3)
    ]
    # Not set in the scheduler's, yet written: the JSON the general path walks has it.
    assert made[0].HasField("source") == (not shape) and "source" in codec.encode(made[0])
    fields = fresh(resources.EVENT)
    for e in copy.deepcopy(made):
        fields.created(e, NAMED)
    assert len(walked) == 1 and len(encoded) == 1
    assert "metadata" in walked[0] and "involvedObject" in walked[0]
    assert_alike(lambda: fresh(resources.EVENT), [(e, NAMED) for e in made])


def test_a_field_holding_text_that_is_not_json_records_nothing() -> None:
    """As the general path: a ControllerRevision's data or a definition's schema the gRPC door
    took as text (JSON only once encoded). A good spec after a bad one is recorded (and its
    text remembered: twice), a bad one after it still records nothing."""
    revision = obj({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {}})
    revision.data = "{not json"  # type: ignore[attr-defined]
    assert_alike(lambda: fresh(resources.CONTROLLER_REVISION), [(revision, NAMED)], False)
    definitions = [
        (crd("widgets.example.com", "{not json"), KUBECTL),
        (crd("widgets.example.com", '{"type":"object"}'), KUBECTL),
        (crd("gadgets.example.com", '{"type":"object"}'), KUBECTL),
        (crd("widgets.example.com", "{not json"), KUBECTL),
    ]
    assert_alike(lambda: fresh(resources.CUSTOM_RESOURCE_DEFINITION), definitions)


def test_an_object_that_sets_only_what_no_one_owns_records_nothing() -> None:
    config_map = obj({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert_alike(lambda: fresh(resources.CONFIG_MAP), [(config_map, NAMED)], False)


def test_a_request_with_managed_fields_keeps_the_general_path() -> None:
    requested = pod("web-1", TEMPLATE_SPEC)
    object_meta(requested).managed_fields.add(
        manager="someone",
        operation="Update",
        api_version="v1",
        time="2024-01-01T00:00:00Z",
        fields_type="FieldsV1",
        fields_v1='{"f:spec":{"f:nodeSelector":{}}}',
    )
    assert_alike(lambda: fresh(resources.POD), [(requested, NAMED)])
