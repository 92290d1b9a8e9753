"""Strategic merge patch over real API objects, with the merge keys and strategies read off the
protos' (meta.v1.k8s) options: the patches kubectl apply, edit, label and rollout send, applied
to a Pod's and a Deployment's JSON, and the result decoded back into the message."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from google.protobuf import json_format

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.patch.schema import NO_META, proto_schema
from podplane.apimachinery.patch.strategic import strategic_merge_patch
from podplane.apimachinery.patch.strategic_diff import create_three_way_merge_patch

POD = proto_schema(core_pb2.Pod.DESCRIPTOR)
DEPLOYMENT = proto_schema(apps_pb2.Deployment.DESCRIPTOR)


def live_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "front"},
            "finalizers": ["example.com/a", "example.com/b"],
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u1"},
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "web:1",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                },
                {"name": "sidecar", "image": "proxy:1"},
            ],
            "volumes": [{"name": "data", "emptyDir": {"medium": "Memory"}}],
            "tolerations": [{"key": "a", "operator": "Exists"}],
            "nodeName": "node-1",
        },
        "status": {"phase": "Running"},
    }


def patched_pod(patch: dict[str, Any]) -> dict[str, Any]:
    result = strategic_merge_patch(live_pod(), patch, POD)
    json_format.ParseDict(result, core_pb2.Pod())  # the server decodes what it stores
    return result


def test_apply_changes_one_containers_image_and_adds_an_env_var() -> None:
    # What kubectl apply sends when the configuration bumps app's image and adds C.
    pod = patched_pod(
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                "containers": [
                    {
                        "name": "app",
                        "image": "web:2",
                        "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
                        "env": [{"name": "C", "value": "3"}],
                    }
                ],
            },
        }
    )
    app, sidecar = pod["spec"]["containers"]
    assert app["image"] == "web:2"
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
        {"name": "C", "value": "3"},
    ]
    assert app["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert pod["spec"]["nodeName"] == "node-1"
    assert pod["status"] == {"phase": "Running"}


def test_containers_merge_by_name_new_one_added_removed_one_deleted() -> None:
    pod = patched_pod(
        {
            "spec": {
                "containers": [
                    {"name": "sidecar", "$patch": "delete"},
                    {"name": "debug", "image": "busybox"},
                ]
            }
        }
    )
    # Without $setElementOrder the patch's new elements come first, as in Kubernetes.
    assert [c["name"] for c in pod["spec"]["containers"]] == ["debug", "app"]


def test_env_var_changed_and_deleted_by_name() -> None:
    pod = patched_pod(
        {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "env": [
                            {"name": "A", "$patch": "delete"},
                            {"name": "B", "value": "two"},
                        ],
                    }
                ]
            }
        }
    )
    assert pod["spec"]["containers"][0]["env"] == [{"name": "B", "value": "two"}]


def test_labels_and_resource_limits_are_maps() -> None:
    pod = patched_pod(
        {
            "metadata": {"labels": {"tier": None, "track": "canary"}},
            "spec": {"containers": [{"name": "app", "resources": {"limits": {"cpu": "2"}}}]},
        }
    )
    assert pod["metadata"]["labels"] == {"app": "web", "track": "canary"}
    assert pod["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}


def test_finalizers_merge_as_a_set() -> None:
    pod = patched_pod({"metadata": {"finalizers": ["example.com/b", "example.com/c"]}})
    assert pod["metadata"]["finalizers"] == ["example.com/a", "example.com/b", "example.com/c"]


def test_finalizer_removed_with_delete_from_primitive_list() -> None:
    pod = patched_pod({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}})
    assert pod["metadata"]["finalizers"] == ["example.com/b"]


def test_owner_references_merge_by_uid() -> None:
    pod = patched_pod(
        {
            "metadata": {
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "u2"},
                    {"uid": "u1", "controller": True},
                ]
            }
        }
    )
    assert [(r["uid"], r.get("controller")) for r in pod["metadata"]["ownerReferences"]] == [
        ("u2", None),
        ("u1", True),
    ]


def test_tolerations_have_no_strategy_and_are_replaced() -> None:
    pod = patched_pod({"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}})
    assert pod["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_volume_source_switched_with_retain_keys() -> None:
    # Volumes are "merge,retainKeys": a volume changing its source drops the old one.
    pod = patched_pod(
        {
            "spec": {
                "volumes": [
                    {
                        "name": "data",
                        "$retainKeys": ["configMap", "name"],
                        "configMap": {"name": "cm"},
                    },
                ]
            }
        }
    )
    assert pod["spec"]["volumes"] == [{"name": "data", "configMap": {"name": "cm"}}]


def live_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "web:1"}]},
            },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
        },
    }


def test_deployment_strategy_switched_to_recreate_drops_rolling_update() -> None:
    last_applied: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app"}]}}},
    }
    configuration = copy.deepcopy(last_applied)
    configuration["spec"]["strategy"] = {"type": "Recreate"}
    # overwrite=True is kubectl apply's default: the server's defaults do not conflict.
    patch = create_three_way_merge_patch(
        last_applied, configuration, live_deployment(), DEPLOYMENT, overwrite=True
    )
    # DeploymentSpec.strategy is "retainKeys": the patch lists what to keep.
    assert patch == {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    deployment = strategic_merge_patch(live_deployment(), patch, DEPLOYMENT)
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    json_format.ParseDict(deployment, apps_pb2.Deployment())


def test_deployment_strategy_without_retain_keys_merges() -> None:
    deployment = strategic_merge_patch(
        live_deployment(), {"spec": {"strategy": {"type": "Recreate"}}}, DEPLOYMENT
    )
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {
        "maxUnavailable": "25%",
        "maxSurge": "25%",
    }


def test_apply_three_way_keeps_fields_set_by_others() -> None:
    last_applied = {
        "metadata": {"labels": {"app": "web", "old": "x"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}]}
                    ]
                }
            }
        },
    }
    configuration = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:2", "env": [{"name": "A", "value": "1"}]}
                    ]
                }
            }
        },
    }
    live = live_deployment()
    live["metadata"]["labels"] = {"app": "web", "old": "x", "team": "a"}
    live["spec"]["replicas"] = 5  # scaled by an autoscaler
    live["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
    ]
    patch = create_three_way_merge_patch(last_applied, configuration, live, DEPLOYMENT)
    result = strategic_merge_patch(live, patch, DEPLOYMENT)
    container = result["spec"]["template"]["spec"]["containers"][0]
    assert result["metadata"]["labels"] == {"app": "web", "team": "a"}
    assert result["spec"]["replicas"] == 5
    assert container == {
        "name": "app",
        "image": "web:2",
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    }


@pytest.mark.parametrize(
    ("path", "strategy", "merge_key", "retain_keys"),
    [
        (("spec", "containers"), "merge", "name", False),
        (("spec", "containers", "env"), "merge", "name", False),
        (("spec", "volumes"), "merge", "name", True),
        (("metadata", "finalizers"), "merge", "", False),
        (("metadata", "ownerReferences"), "merge", "uid", False),
        (("status", "podIPs"), "merge", "ip", False),
        (("spec", "tolerations"), "", "", False),
        (("metadata", "labels", "app"), "", "", False),
    ],
)
def test_pod_schema_reads_the_field_options(
    path: tuple[str, ...], strategy: str, merge_key: str, retain_keys: bool
) -> None:
    schema = POD
    for key in path[:-1]:
        schema = schema.lookup(key).schema
    meta = schema.lookup(path[-1])
    assert (meta.strategy, meta.merge_key, meta.retain_keys) == (strategy, merge_key, retain_keys)


def test_unknown_fields_have_no_metadata() -> None:
    assert POD.lookup("noSuchField") is NO_META
    assert POD.lookup("spec").schema.lookup("containers").schema.lookup("nope") is NO_META


def test_schemas_are_built_once_per_message() -> None:
    assert proto_schema(core_pb2.Pod.DESCRIPTOR) is POD
    assert (
        DEPLOYMENT.lookup("spec").schema.lookup("template").schema.lookup("spec").schema
        is POD.lookup("spec").schema
    )
