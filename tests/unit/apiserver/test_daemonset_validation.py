"""DaemonSet and ControllerRevision rules: each bad field yields an error naming its path with
Kubernetes' wording, the defaults are apps/v1's (RollingUpdate, maxUnavailable 1, maxSurge 0,
ten revisions kept, the pod template's), the template generation annotation starts at 1 and
rises with each template change only, and a revision's data never changes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apiserver.defaulting import daemonset as defaulting
from apiserver.defaulting import daemonset_prepare
from apiserver.validation import controller_revision, daemonset
from apiserver.validation.fields import FieldError
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import codec, manifest

GENERATION = "deprecated.daemonset.template.generation"


def ds_doc() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]},
            },
        },
    }


def created(doc: dict[str, Any]) -> apps_pb2.DaemonSet:
    """The DaemonSet as the store validates it on create: defaulted, then prepared."""
    ds = manifest.from_dict(doc, apps_pb2.DaemonSet)
    defaulting.daemon_set(ds)
    daemonset_prepare.prepare_for_create(ds)
    return ds


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


Edit = Callable[[dict[str, Any]], None]


def edit(path: str, value: Any) -> Edit:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for p in parents:
            target = target.setdefault(p, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = copy.deepcopy(value)

    return change


def test_a_daemon_set_as_users_write_it_is_valid() -> None:
    assert daemonset.daemon_set(created(ds_doc())) == []


def test_defaults() -> None:
    ds = created(ds_doc())
    spec = codec.encode(ds)["spec"]
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert spec["revisionHistoryLimit"] == 10
    template = spec["template"]["spec"]
    assert template["restartPolicy"] == "Always"
    assert template["dnsPolicy"] == "ClusterFirst"
    assert template["containers"][0]["imagePullPolicy"] == "Always"
    assert ds.metadata.annotations[GENERATION] == "1"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"type": "OnDelete"}, {"type": "OnDelete"}),
        (
            {"rollingUpdate": {"maxSurge": "25%"}},
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
        ),
        (
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}},
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3, "maxSurge": 0}},
        ),
    ],
    ids=["on-delete-has-no-rolling-update", "surge-kept", "unavailable-kept"],
)
def test_update_strategy_defaults(strategy: dict[str, Any], expected: dict[str, Any]) -> None:
    doc = ds_doc()
    doc["spec"]["updateStrategy"] = strategy
    assert codec.encode(created(doc))["spec"]["updateStrategy"] == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            edit("spec.selector", None),
            'spec.template.metadata.labels: Invalid value: {"app":"agent"}: `selector` does not '
            "match template `labels`",
        ),
        (
            edit("spec.selector", {}),
            "spec.selector: Invalid value: {}: empty selector is invalid for daemonset",
        ),
        (
            edit("spec.selector.matchLabels", {"app": "other"}),
            'spec.template.metadata.labels: Invalid value: {"app":"agent"}: `selector` does not '
            "match template `labels`",
        ),
        (
            edit("spec.selector.matchExpressions", [{"key": "app", "operator": "Near"}]),
            'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid '
            "selector operator",
        ),
        (
            edit("spec.template.spec.restartPolicy", "OnFailure"),
            'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: '
            '"Always"',
        ),
        (
            edit("spec.template.spec.activeDeadlineSeconds", 10),
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
            "DaemonSet is not Supported",
        ),
        (
            edit("spec.template.spec.containers", [{"name": "main"}]),
            "spec.template.spec.containers[0].image: Required value",
        ),
        (edit("spec.template", None), "spec.template.spec.containers: Required value"),
        (
            edit("spec.minReadySeconds", -1),
            "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            edit("spec.revisionHistoryLimit", -1),
            "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            edit("spec.updateStrategy", {"type": "Recreate"}),
            'spec.updateStrategy: Unsupported value: {"type":"Recreate"}: supported values: '
            '"RollingUpdate", "OnDelete"',
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": 0}),
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
            "maxSurge is 0",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": "0%", "maxSurge": "0%"}),
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
            "maxSurge is 0",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxSurge": 1}),
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when "
            "maxUnavailable is non-zero",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": "150%"}),
            'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not '
            "be greater than 100%",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": 0, "maxSurge": "101%"}),
            'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "101%": must not be '
            "greater than 100%",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": -2}),
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -2: must be "
            "greater than or equal to 0",
        ),
        (
            edit("spec.updateStrategy.rollingUpdate", {"maxUnavailable": "lots"}),
            'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "lots": a valid '
            "percent string must be a numeric string followed by an ending '%'",
        ),
        (
            edit("metadata.annotations", {GENERATION: "two"}),
            f'metadata.annotations[{GENERATION}]: Invalid value: "two": strconv.ParseInt: '
            'parsing "two": invalid syntax',
        ),
        (edit("metadata.name", "Agent"), 'metadata.name: Invalid value: "Agent"'),
    ],
)
def test_invalid_daemon_set_names_the_field(change: Edit, expected: str) -> None:
    doc = ds_doc()
    change(doc)
    errs = strings(daemonset.daemon_set(created(doc)))
    assert any(e.startswith(expected) for e in errs), errs


def test_surge_alone_is_valid() -> None:
    doc = ds_doc()
    doc["spec"]["updateStrategy"] = {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "10%"}}
    assert daemonset.daemon_set(created(doc)) == []


def test_on_delete_ignores_rolling_update_values() -> None:
    doc = ds_doc()
    doc["spec"]["updateStrategy"] = {"type": "OnDelete", "rollingUpdate": {"maxSurge": "999%"}}
    assert daemonset.daemon_set(created(doc)) == []


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            "numberReady",
            "status.numberReady: Invalid value: -1: must be greater than or equal to 0",
        ),
        ("collisionCount", "status.collisionCount: Invalid value: -1"),
        ("observedGeneration", "status.observedGeneration: Invalid value: -1"),
        ("numberUnavailable", "status.numberUnavailable: Invalid value: -1"),
    ],
)
def test_status_counts_are_not_negative(field: str, expected: str) -> None:
    ds = created(ds_doc())
    ds.status.CopyFrom(manifest.from_dict({"status": {field: -1}}, apps_pb2.DaemonSet).status)
    errs = strings(daemonset.daemon_set(ds))
    assert any(e.startswith(expected) for e in errs), errs


def test_the_selector_is_immutable_and_collisions_only_grow() -> None:
    old = created(ds_doc())
    old.status.collision_count = 2
    new = apps_pb2.DaemonSet()
    new.CopyFrom(old)
    new.spec.selector.match_labels["tier"] = "node"
    new.spec.template.metadata.labels["tier"] = "node"
    new.status.collision_count = 1
    errs = strings(daemonset.daemon_set_update(new, old))
    assert any(
        e.startswith("spec.selector: Invalid value: ") and e.endswith("field is immutable")
        for e in errs
    ), errs
    assert "status.collisionCount: Invalid value: 1: cannot be decremented" in errs
    new.ClearField("status")
    assert any(
        "status.collisionCount: Invalid value: 0: cannot be decremented" in e
        for e in strings(daemonset.daemon_set_update(new, old))
    )


# ---------------------------------------------------------------- the template generation


def updated(old: apps_pb2.DaemonSet, change: Callable[[apps_pb2.DaemonSet], None]) -> str:
    new = apps_pb2.DaemonSet()
    new.CopyFrom(old)
    change(new)
    defaulting.daemon_set(new)
    daemonset_prepare.prepare_for_update(new, old)
    return new.metadata.annotations[GENERATION]


def test_the_template_generation_starts_at_one_and_follows_the_template() -> None:
    doc = ds_doc()
    doc["metadata"]["annotations"] = {GENERATION: "-4"}
    old = created(doc)
    assert old.metadata.annotations[GENERATION] == "1"
    doc["metadata"]["annotations"] = {GENERATION: "7"}
    assert created(doc).metadata.annotations[GENERATION] == "7"  # as Kubernetes keeps it

    def new_image(ds: apps_pb2.DaemonSet) -> None:
        ds.spec.template.spec.containers[0].image = "busybox:2"

    def min_ready(ds: apps_pb2.DaemonSet) -> None:
        ds.spec.min_ready_seconds = 5

    def dropped(ds: apps_pb2.DaemonSet) -> None:
        del ds.metadata.annotations[GENERATION]

    def forged(ds: apps_pb2.DaemonSet) -> None:
        ds.metadata.annotations[GENERATION] = "40"

    assert updated(old, new_image) == "2"
    assert updated(old, min_ready) == "1"  # a spec change outside the template
    assert updated(old, dropped) == "1"  # the server's to keep
    assert updated(old, forged) == "1"


# ---------------------------------------------------------------- controller revisions


def revision(data: str = '{"spec":{"template":{"$patch":"replace"}}}', number: int = 1) -> Any:
    r = apps_pb2.ControllerRevision(data=data, revision=number)
    r.metadata.name, r.metadata.namespace = "agent-5d4f6", "default"
    return r


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (revision(), []),
        (revision(data=""), ["data: Required value: data is mandatory"]),
        (revision(data='"a JSON string"'), []),
        (revision(data="not JSON"), ['data: Invalid value: "not JSON": must be a JSON document']),
        (revision(number=-1), ["revision: Invalid value: -1: must be greater than or equal to 0"]),
    ],
)
def test_controller_revision_rules(obj: Any, expected: list[str]) -> None:
    assert strings(controller_revision.controller_revision(obj)) == expected


def test_a_revision_data_is_immutable_but_its_number_may_rise() -> None:
    old = revision()
    assert controller_revision.controller_revision_update(revision(number=5), old) == []
    # The same JSON, spaced differently, is the same data.
    same = revision(data='{"spec": {"template": {"$patch": "replace"}}}')
    assert controller_revision.controller_revision_update(same, old) == []
    changed = revision(data='{"spec":{}}')
    assert strings(controller_revision.controller_revision_update(changed, old)) == [
        'data: Invalid value: {"spec":{}}: field is immutable'
    ]
