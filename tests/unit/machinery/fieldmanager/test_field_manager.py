"""A kind's field manager as kube-apiserver runs it (k8s.io/apimachinery's managedfields internals
and their tests: fieldmanager_test.go, managedfields_test.go, capmanagers_test.go,
lastappliedmanager_test.go, skipnonapplied_test.go, conflict_test.go), over a real kind's schema
read off the protos: what each write records in metadata.managedFields."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.fieldmanager import conflicts, managed
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, make_path
from podplane.apimachinery.fieldmanager.managed import ManagerKey
from podplane.apimachinery.fieldmanager.manager import BadRequest, FieldManager
from podplane.apimachinery.fieldmanager.openapi_schema import custom_resource_type
from podplane.apimachinery.fieldmanager.proto_schema import message_type
from podplane.apimachinery.fieldmanager.updater import Conflict, Conflicts

T0 = "2024-05-01T10:00:00Z"


class Clock:
    def __init__(self) -> None:
        self.seconds = 0

    def __call__(self) -> str:
        self.seconds += 1
        return f"2024-05-01T10:00:{self.seconds:02d}Z"


def deployments(clock: Clock | None = None) -> FieldManager:
    return FieldManager(
        message_type(apps_pb2.Deployment.DESCRIPTOR),
        "apps/v1",
        "Deployment",
        codec.encode(apps_pb2.Deployment()),
        {"": FieldSet.of(make_path("status"))},
        clock=clock or Clock(),
    )


def configmaps(clock: Clock | None = None) -> FieldManager:
    return FieldManager(
        message_type(core_pb2.ConfigMap.DESCRIPTOR),
        "v1",
        "ConfigMap",
        codec.encode(core_pb2.ConfigMap()),
        clock=clock or Clock(),
    )


def deployment(replicas: int = 2, image: str = "nginx", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": labels or {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the store writes it: decoded into its message and encoded again."""
    message, _ = codec.decode(apps_pb2.Deployment, obj)
    out = codec.encode(message)
    out.pop("status", None)
    return out


def entries_of(items: list[meta_pb2.ManagedFieldsEntry]) -> list[tuple[str, str, str, Any]]:
    return [(e.manager, e.operation, e.subresource, json.loads(e.fields_v1)) for e in items]


# ---------------------------------------------------------------- updates


def test_a_create_gives_its_fields_to_its_manager() -> None:
    fm = configmaps()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    entries = fm.update(None, cm, (), (), "kubectl-create")
    assert entries_of(entries) == [
        ("kubectl-create", "Update", "", {"f:data": {".": {}, "f:a": {}}})
    ]
    (entry,) = entries
    assert (entry.api_version, entry.fields_type, entry.time) == (
        "v1",
        "FieldsV1",
        "2024-05-01T10:00:01Z",
    )


def test_no_manager_is_unknown_and_identity_fields_are_no_ones() -> None:
    fm = configmaps()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"x": "y"}}}
    (entry,) = fm.update(None, cm, (), (), "")
    # Stripped (stripmeta.go): apiVersion, kind, metadata's name, namespace, uid, ...
    assert (entry.manager, json.loads(entry.fields_v1)) == (
        "unknown",
        {"f:metadata": {"f:labels": {".": {}, "f:x": {}}}},
    )


def test_an_update_takes_the_fields_it_changes_from_their_manager() -> None:
    fm = deployments()
    live = stored(deployment())
    created = fm.update(None, live, (), (), "kubectl-client-side-apply")
    edited = stored(deployment(replicas=3))
    entries = fm.update(live, edited, created, created, "kubectl-edit")
    by_manager = {e.manager: json.loads(e.fields_v1) for e in entries}
    assert by_manager["kubectl-edit"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in by_manager["kubectl-client-side-apply"]["f:spec"]
    # Sorted as Kubernetes sorts them: operation, time, manager.
    assert [e.manager for e in entries] == ["kubectl-client-side-apply", "kubectl-edit"]


def test_an_update_that_changes_nothing_changes_no_entry() -> None:
    fm = deployments()
    live = stored(deployment())
    created = fm.update(None, live, (), (), "a")
    assert fm.update(live, copy.deepcopy(live), created, created, "b") == created


def test_status_is_never_the_main_resources_and_a_subresource_is_named() -> None:
    fm = deployments()
    live = stored(deployment())
    created = fm.update(None, {**live, "status": {"replicas": 3}}, (), (), "a")
    assert "f:status" not in created[0].fields_v1
    live["status"] = {}
    with_status = {**live, "status": {"replicas": 3}}
    entries = fm.update(live, with_status, created, (), "kube-controller-manager", "status")
    assert entries_of(entries)[1] == (
        "kube-controller-manager",
        "Update",
        "status",
        {"f:status": {"f:replicas": {}}},
    )


def test_the_requests_own_valid_entries_replace_the_objects() -> None:
    fm = configmaps()
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = fm.update(None, live, (), (), "creator")
    mine = meta_pb2.ManagedFieldsEntry(
        manager="mine",
        operation="Apply",
        api_version="v1",
        fields_type="FieldsV1",
        fields_v1='{"f:data":{"f:a":{}}}',
        time=T0,
    )
    entries = fm.update(live, live, created, [mine], "x")
    assert entries_of(entries) == [("mine", "Apply", "", {"f:data": {"f:a": {}}})]


@pytest.mark.parametrize(
    "bad",
    [
        {"operation": "Bogus"},
        {"api_version": ""},
        {"fields_type": ""},
        {"fields_type": "FieldsV2"},
        {"fields_v1": '{"nocolon":{}}'},
    ],
    ids=["operation", "apiVersion", "no fieldsType", "fieldsType", "fieldsV1"],
)
def test_entries_that_do_not_decode_are_ignored_for_the_objects(bad: dict[str, str]) -> None:
    fm = configmaps()
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = fm.update(None, live, (), (), "creator")
    fields = dict(
        manager="mine",
        operation="Update",
        api_version="v1",
        fields_type="FieldsV1",
        fields_v1="{}",
    )
    fields.update(bad)
    entries = fm.update(live, live, created, [meta_pb2.ManagedFieldsEntry(**fields)], "x")
    assert entries == created


def test_one_empty_entry_clears_them_and_leaves_the_object_untracked() -> None:
    fm = configmaps()
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = fm.update(None, live, (), (), "creator")
    assert fm.update(live, live, created, [meta_pb2.ManagedFieldsEntry()], "x") == []
    changed = {**live, "data": {"a": "2"}}
    # skipnonapplied.go: an object without managed fields is not tracked by updates.
    assert fm.update(live, changed, [], [], "x") == []


def test_updaters_past_ten_are_merged_into_ancient_changes() -> None:
    fm = configmaps()
    live: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    entries = fm.update(None, live, (), (), "creator")
    entries = fm.update(None, {**live, "data": {"k0": "v"}}, (), (), "m0")
    live = {**live, "data": {"k0": "v"}}
    for i in range(1, 12):
        new = {**live, "data": {**live["data"], f"k{i}": "v"}}
        entries = fm.update(live, new, entries, entries, f"m{i}")
        live = new
    managers = [e.manager for e in entries]
    assert len(managers) == 10
    assert managers[0] == "ancient-changes"
    # m0 made the data map: it owned the map itself too.
    assert json.loads(entries[0].fields_v1) == {
        "f:data": {".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {}}
    }
    assert managers[1:] == [f"m{i}" for i in range(3, 12)]


# ---------------------------------------------------------------- applies


def test_an_apply_creates_and_owns_exactly_its_configuration() -> None:
    fm = deployments()
    result, entries = fm.apply(None, (), deployment(), "kubectl")
    assert result["spec"]["replicas"] == 2
    assert entries_of(entries) == [
        (
            "kubectl",
            "Apply",
            "",
            {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}
                            }
                        },
                    },
                },
            },
        )
    ]
    assert entries[0].api_version == "apps/v1"


def test_a_second_applier_conflicts_unless_forced() -> None:
    fm = deployments()
    live, entries = fm.apply(None, (), deployment(), "kubectl")
    live = stored(live)
    with pytest.raises(Conflicts) as refused:
        fm.apply(live, entries, deployment(replicas=5), "other")
    message, causes = conflicts.report(refused.value)
    assert message == 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'
    assert [(c.message, c.field) for c in causes] == [('conflict with "kubectl"', ".spec.replicas")]
    result, entries = fm.apply(live, entries, deployment(replicas=5), "other", force=True)
    assert result["spec"]["replicas"] == 5
    owners = {e.manager: json.loads(e.fields_v1) for e in entries}
    assert "f:replicas" not in owners["kubectl"]["f:spec"]
    assert owners["other"]["f:spec"]["f:replicas"] == {}
    # The same values, applied by both: shared, without conflict.
    assert owners["other"]["f:spec"]["f:selector"] == owners["kubectl"]["f:spec"]["f:selector"]


def test_an_applier_conflicts_with_an_updater_that_changed_its_field() -> None:
    fm = deployments()
    live, entries = fm.apply(None, (), deployment(), "apply_test")
    live = stored(live)
    patched = {**live, "spec": {**live["spec"], "replicas": 5}}
    entries = fm.update(live, patched, entries, entries, "kubectl-client-side-apply")
    with pytest.raises(Conflicts) as refused:
        fm.apply(patched, entries, deployment(), "apply_test")
    assert conflicts.report(refused.value)[0] == (
        "Apply failed with 1 conflict: conflict with "
        '"kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )


def test_fields_an_applier_stops_applying_are_removed() -> None:
    fm = deployments()
    live, entries = fm.apply(None, (), deployment(extra="x", app="web"), "kubectl")
    result, _ = fm.apply(stored(live), entries, deployment(app="web"), "kubectl")
    assert result["metadata"]["labels"] == {"app": "web"}


def test_fields_another_manager_owns_stay_when_an_applier_stops_applying_them() -> None:
    fm = deployments()
    live, entries = fm.apply(None, (), deployment(extra="x", app="web"), "one")
    live = stored(live)
    _, entries = fm.apply(live, entries, deployment(extra="x", app="web"), "two")
    result, _ = fm.apply(live, entries, deployment(app="web"), "one")
    assert result["metadata"]["labels"] == {"app": "web", "extra": "x"}


def test_an_apply_to_an_object_without_managed_fields_first_records_them() -> None:
    fm = deployments()
    live = stored(deployment())
    with pytest.raises(Conflicts) as refused:
        fm.apply(live, [], deployment(replicas=4), "kubectl-new")
    assert {c.manager for c in refused.value.conflicts} == {
        ManagerKey("before-first-apply", "Update", "apps/v1")
    }


def test_an_apply_that_changes_nothing_returns_the_object() -> None:
    fm = deployments()
    live, entries = fm.apply(None, (), deployment(), "kubectl")
    live = stored(live)
    result, again = fm.apply(live, entries, deployment(), "kubectl")
    assert result == live
    assert entries_of(again) == entries_of(entries)
    assert again[0].time == entries[0].time


@pytest.mark.parametrize(
    "config,message",
    [
        (
            {"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "web"}},
            "invalid object type: apps/v1beta1, Kind=Deployment",
        ),
        ({"metadata": {"name": "web"}}, "invalid object type: /, Kind="),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "managedFields": []},
            },
            "metadata.managedFields must be nil",
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "ns"},
                "spec": {"replicas": "three", "paused": True, "foo": 1},
            },
            "failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): "
            "errors:\n  .spec.replicas: expected numeric (int or float), got string\n"
            "  .spec.foo: field not declared in schema",
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}},
            },
            "failed to create typed patch object (/web; apps/v1, Kind=Deployment): "
            ".spec.template.spec.containers: element 0: associative list with keys has an "
            'element that omits key field "name" (and doesn\'t have default value)',
        ),
    ],
    ids=["version", "no type", "managedFields", "typed", "keys"],
)
def test_an_apply_that_is_not_one_of_this_kind_is_a_bad_request(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        deployments().apply(None, (), config, "kubectl")
    assert str(refused.value) == message


def test_kubectl_takes_over_its_client_side_applied_fields() -> None:
    fm = deployments()
    manifest = deployment()
    annotation = json.dumps(manifest)
    live = stored(
        {
            **manifest,
            "metadata": {
                **manifest["metadata"],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": annotation},
            },
        }
    )
    entries = fm.update(None, live, (), (), "kubectl-client-side-apply")
    # Another manager would conflict on every field kubectl set client-side...
    with pytest.raises(Conflicts):
        fm.apply(live, entries, deployment(replicas=3), "someone")
    # ... kubectl itself takes them, and keeps the annotation up to date.
    result, after = fm.apply(live, entries, deployment(replicas=3), "kubectl")
    assert result["spec"]["replicas"] == 3
    last = result["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert last.endswith("\n") and json.loads(last) == deployment(replicas=3)
    owners = {(e.manager, e.operation): json.loads(e.fields_v1) for e in after}
    assert "f:replicas" in owners["kubectl", "Apply"]["f:spec"]
    assert "f:replicas" not in owners["kubectl-client-side-apply", "Update"]["f:spec"]


def test_kubectl_still_conflicts_on_fields_changed_since_its_last_client_side_apply() -> None:
    fm = deployments()
    manifest = deployment()
    annotation = json.dumps(manifest)
    live = stored(
        {
            **manifest,
            "metadata": {
                **manifest["metadata"],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": annotation},
            },
        }
    )
    entries = fm.update(None, live, (), (), "kubectl-client-side-apply")
    scaled = {**live, "spec": {**live["spec"], "replicas": 7}}
    entries = fm.update(live, scaled, entries, entries, "kubectl-scale")
    with pytest.raises(Conflicts) as refused:
        fm.apply(scaled, entries, deployment(replicas=3), "kubectl")
    assert refused.value.conflicts == [
        Conflict(ManagerKey("kubectl-scale", "Update", "apps/v1"), make_path("spec", "replicas"))
    ]


# ---------------------------------------------------------------- the entries themselves


def test_entries_are_sorted_and_identified_as_kubernetes_does() -> None:
    state = managed.Managed(
        {
            ManagerKey("b", "Update", "v1"): _set("a"),
            ManagerKey("a", "Update", "v1", "status"): _set("b"),
            ManagerKey("z", "Apply"): _set("c", applied=True),
            ManagerKey("a", "Update", "v1"): _set("d"),
        },
        {
            ManagerKey("b", "Update", "v1"): "2024-01-01T00:00:00Z",
            ManagerKey("a", "Update", "v1", "status"): "2024-01-01T00:00:00Z",
            ManagerKey("z", "Apply"): "2024-02-01T00:00:00Z",
            ManagerKey("a", "Update", "v1"): "2024-03-01T00:00:00Z",
        },
    )
    entries = managed.encode(state)
    assert [(e.operation, e.manager, e.subresource) for e in entries] == [
        ("Apply", "z", ""),
        ("Update", "a", "status"),
        ("Update", "b", ""),
        ("Update", "a", ""),
    ]
    assert managed.decode(entries).fields.keys() == state.fields.keys()
    assert (
        ManagerKey("kubectl", "Apply").identifier() == '{"manager":"kubectl","operation":"Apply"}'
    )
    assert ManagerKey("foo", "Update", "v1", "scale").printed() == (
        '"foo" with subresource "scale" using v1'
    )


def _set(field: str, applied: bool = False) -> Any:
    from podplane.apimachinery.fieldmanager.updater import VersionedSet

    return VersionedSet(FieldSet.of(make_path(field)), "v1", applied)


def test_conflicts_with_several_managers_are_grouped_by_manager() -> None:
    found = Conflicts(
        [
            Conflict(ManagerKey("foo", "Update", "v1"), make_path("spec", "replicas")),
            Conflict(ManagerKey("bar", "Apply"), make_path("metadata", "labels", "app")),
        ]
    )
    message, causes = conflicts.report(found)
    assert message == (
        'Apply failed with 2 conflicts: conflicts with "bar":\n- .metadata.labels.app\n'
        'conflicts with "foo" using v1:\n- .spec.replicas'
    )
    assert [(c.message, c.field) for c in causes] == [
        ('conflict with "bar"', ".metadata.labels.app"),
        ('conflict with "foo" using v1', ".spec.replicas"),
    ]


# ---------------------------------------------------------------- a custom resource's versions

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {"size": {"type": "string"}, "color": {"type": "string"}},
        },
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
    },
}


def widgets(version: str) -> FieldManager:
    """The field manager of one served version of a definition serving v1 and v2 (conversion
    None: the same objects, another apiVersion)."""
    return FieldManager(
        custom_resource_type(WIDGET_SCHEMA),
        f"example.com/{version}",
        "Widget",
        {"apiVersion": f"example.com/{version}", "kind": "Widget"},
        {"": FieldSet.of(make_path("status"))},
        served=frozenset({"example.com/v1", "example.com/v2"}),
        clock=Clock(),
    )


def widget(version: str, **spec: str) -> dict[str, Any]:
    return {
        "apiVersion": f"example.com/{version}",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


def test_the_managers_of_a_custom_resources_other_served_versions_are_kept() -> None:
    v1, v2 = widgets("v1"), widgets("v2")
    live, entries = v1.apply(None, (), widget("v1", size="big"), "one")
    # Through v2, the v1 applier's field is still its own: a conflict, as Kubernetes reports it.
    with pytest.raises(Conflicts) as refused:
        v2.apply(live, entries, widget("v2", size="small"), "two")
    assert conflicts.report(refused.value)[0] == (
        'Apply failed with 1 conflict: conflict with "one": .spec.size'
    )
    result, entries = v2.apply(live, entries, widget("v2", color="red"), "two")
    assert result["spec"] == {"size": "big", "color": "red"}
    assert [(e.manager, e.api_version, json.loads(e.fields_v1)) for e in entries] == [
        ("one", "example.com/v1", {"f:spec": {"f:size": {}}}),
        ("two", "example.com/v2", {"f:spec": {"f:color": {}}}),
    ]
    # An update through v2 takes the field it changes from v1's manager, and keeps the rest.
    edited = {**result, "spec": {"size": "huge", "color": "red"}}
    entries = v2.update(result, edited, entries, entries, "kubectl-edit")
    assert [(e.manager, e.api_version) for e in entries] == [
        ("two", "example.com/v2"),
        ("kubectl-edit", "example.com/v2"),
    ]


def test_the_managers_of_a_version_no_longer_served_are_dropped() -> None:
    _, entries = widgets("v1").apply(None, (), widget("v1", size="big"), "one")
    only_v2 = FieldManager(
        custom_resource_type(WIDGET_SCHEMA),
        "example.com/v2",
        "Widget",
        {"apiVersion": "example.com/v2", "kind": "Widget"},
        clock=Clock(),
    )
    live = widget("v2", size="big")
    entries = only_v2.update(live, widget("v2", size="big", color="red"), entries, (), "edit")
    assert [e.manager for e in entries] == ["edit"]
