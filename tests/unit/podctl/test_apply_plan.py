"""What apply decides: create what is missing, leave alone what the manifest already says, and merge
changes without undoing what the server filled in."""

from __future__ import annotations

import copy
import json
from typing import Any

from podctl.resource.apply_plan import LAST_APPLIED_ANNOTATION, plan_apply, with_last_applied

MANIFEST: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "jumpod", "namespace": "default", "labels": {"app": "jump"}},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "busybox:1.36",
                "command": ["sleep", "3600"],
                "ports": [{"containerPort": 80}],
            }
        ]
    },
}


def stored(manifest: dict[str, Any]) -> dict[str, Any]:
    """The object as the server keeps it after creating it from `manifest`: server metadata,
    defaults filled in, a status, and the last-applied annotation."""
    live = with_last_applied(manifest)
    live["metadata"].update(uid="u1", resourceVersion="7", creationTimestamp="2026-11-21T15:00:00Z")
    live["spec"]["restartPolicy"] = "Always"
    live["spec"]["nodeName"] = "node-1"
    container = live["spec"]["containers"][0]
    container["imagePullPolicy"] = "IfNotPresent"
    container["ports"][0]["protocol"] = "TCP"
    live["status"] = {"phase": "Running"}
    return live


def edited(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(MANIFEST)
    for path, value in changes.items():
        target = out
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value
    return out


def test_missing_object_is_created_with_the_manifest_recorded() -> None:
    plan = plan_apply(MANIFEST, None)
    assert plan.action == "created"
    recorded = plan.body["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    assert json.loads(recorded) == MANIFEST


def test_same_manifest_again_is_unchanged() -> None:
    live = stored(MANIFEST)
    plan = plan_apply(MANIFEST, live)
    assert plan.action == "unchanged"
    assert plan.body == live


def test_server_defaults_and_status_survive_a_change() -> None:
    live = stored(MANIFEST)
    desired = edited(spec__containers__0__image="busybox:1.37")
    plan = plan_apply(desired, live)
    assert plan.action == "configured"
    container = plan.body["spec"]["containers"][0]
    assert container["image"] == "busybox:1.37"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert plan.body["spec"]["nodeName"] == "node-1"
    assert plan.body["status"] == {"phase": "Running"}
    assert plan.body["metadata"]["resourceVersion"] == "7"
    assert json.loads(plan.body["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]) == desired


def test_label_dropped_from_the_manifest_is_removed_but_others_are_kept() -> None:
    first = edited(metadata__labels={"app": "jump", "tier": "tools"})
    live = stored(first)
    live["metadata"]["labels"]["added-by-someone-else"] = "yes"
    plan = plan_apply(MANIFEST, live)
    assert plan.action == "configured"
    assert plan.body["metadata"]["labels"] == {"app": "jump", "added-by-someone-else": "yes"}


def test_field_dropped_from_the_manifest_is_removed() -> None:
    first = edited(spec__activeDeadlineSeconds=60)
    plan = plan_apply(MANIFEST, stored(first))
    assert plan.action == "configured"
    assert "activeDeadlineSeconds" not in plan.body["spec"]


def test_container_added_and_removed_by_name() -> None:
    first = copy.deepcopy(MANIFEST)
    first["spec"]["containers"].append({"name": "side", "image": "busybox"})
    live = stored(first)
    plan = plan_apply(MANIFEST, live)
    assert [c["name"] for c in plan.body["spec"]["containers"]] == ["app"]
    assert plan.body["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_object_created_without_apply_is_configured_and_flagged() -> None:
    live = stored(MANIFEST)
    del live["metadata"]["annotations"]
    plan = plan_apply(MANIFEST, live)
    assert plan.action == "configured"
    assert plan.missing_last_applied
    assert LAST_APPLIED_ANNOTATION in plan.body["metadata"]["annotations"]
