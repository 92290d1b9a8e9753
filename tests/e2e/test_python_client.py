"""The official Python client (`kubernetes` 37.0.2) against the compose cluster's REST API, from
build/kubeconfig as any program loads it: create, read, replace and delete; a pod that runs, read
back as the client's typed models (which refuse an object missing a field Go never omits); lists
by label and field selectors, in pages; a watch of ADDED, MODIFIED and DELETED; the three patch
types, strategic merge telling itself apart from merge on a list of containers; refusals as
ApiException with Kubernetes' codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from tests.e2e.kubectl import KUBECONFIG, VIEWER_KUBECONFIG

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


# The client's answers are read here as the untyped SDK data they are to a test (every field of
# its models is Optional): the API objects are typed Any.


def api_client(kubeconfig: Path) -> Any:
    """An ApiClient configured from a kubeconfig, as any program loads one."""
    return config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]


def watch_stream(list_call: Any, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The client's watch of a list call: its events, until the server ends the watch."""
    stream: Any = watch.Watch()  # type: ignore[no-untyped-call]
    events: Iterator[dict[str, Any]] = stream.stream(list_call, *args, **kwargs)
    return events


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    with api_client(KUBECONFIG) as admin:
        yield admin


@pytest.fixture(scope="module")
def core(api: Any) -> Any:
    return client.CoreV1Api(api)


@pytest.fixture(scope="module")
def apps(api: Any) -> Any:
    return client.AppsV1Api(api)


def configmap(name: str, data: dict[str, str], **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or None), data=data
    )


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the metav1.Status body of a call the server refuses."""
    with pytest.raises(ApiException) as err:
        call(*args, **kwargs)
    return err.value.status, json.loads(err.value.body or "{}")


def test_create_read_replace_delete(core: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    created = core.create_namespaced_config_map(ns, configmap("crud", {"mode": "slow"}))
    assert created.metadata.uid and created.metadata.resource_version
    assert isinstance(created.metadata.creation_timestamp, datetime)
    read = core.read_namespaced_config_map("crud", ns)
    assert read.data == {"mode": "slow"} and read.metadata.uid == created.metadata.uid
    read.data["mode"] = "fast"
    replaced = core.replace_namespaced_config_map("crud", ns, read)
    assert replaced.data == {"mode": "fast"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    # This client types a delete's answer as a plain object: the Status, as a dict.
    status = core.delete_namespaced_config_map("crud", ns)
    assert (status["kind"], status["status"], status["details"]["name"]) == (
        "Status",
        "Success",
        "crud",
    )
    code, body = refused(core.read_namespaced_config_map, "crud", ns)
    assert (code, body["reason"], body["message"]) == (
        404,
        "NotFound",
        'configmaps "crud" not found',
    )


def test_a_pod_runs_and_reads_back_as_typed_models(core: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="typed", labels={"app": "typed"}),
        spec=client.V1PodSpec(
            termination_grace_period_seconds=1,
            containers=[
                client.V1Container(
                    name="main",
                    image="busybox",
                    command=["sh", "-c", "echo hello from the client; exec sleep 3600"],
                )
            ],
        ),
    )
    created = core.create_namespaced_pod(ns, pod)
    assert created.status.phase == "Pending"
    # Watch the one pod until it runs, from the version it was created at.
    running = None
    for event in watch_stream(
        core.list_namespaced_pod,
        ns,
        field_selector="metadata.name=typed",
        resource_version=created.metadata.resource_version,
        timeout_seconds=90,
    ):
        obj = event["object"]
        if obj.status.phase == "Running" and all(s.ready for s in obj.status.container_statuses):
            running = obj
            break
    assert running is not None, "the pod did not run"
    (status,) = running.status.container_statuses
    assert (status.name, status.image, status.restart_count, status.ready) == (
        "main",
        "busybox",
        0,
        True,
    )
    assert status.state.running is not None and isinstance(
        status.state.running.started_at, datetime
    )
    assert running.status.pod_ip.startswith("10.244.") and running.spec.node_name.startswith(
        "node-"
    )
    conditions = {c.type: c.status for c in running.status.conditions}
    assert conditions["Ready"] == "True" and conditions["PodScheduled"] == "True"
    assert core.read_namespaced_pod_log("typed", ns) == "hello from the client\n"
    everywhere = core.list_pod_for_all_namespaces(label_selector="app=typed")
    assert [(p.metadata.namespace, p.metadata.name) for p in everywhere.items] == [(ns, "typed")]


def test_lists_by_selectors_and_in_pages(core: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    for i in range(5):
        core.create_namespaced_config_map(
            ns, configmap(f"item-{i}", {"i": str(i)}, set="list", index=str(i))
        )

    def names(**selectors: Any) -> list[str]:
        listed = core.list_namespaced_config_map(ns, **selectors)
        return [c.metadata.name for c in listed.items]

    assert names(label_selector="set=list,index in (1,3)") == ["item-1", "item-3"]
    assert names(label_selector="set=list,index notin (0,1,2)") == ["item-3", "item-4"]
    assert names(label_selector="set=list,index!=4,index") == [f"item-{i}" for i in range(4)]
    assert names(field_selector="metadata.name=item-2") == ["item-2"]
    assert names(label_selector="set=list", field_selector="metadata.name!=item-0") == [
        f"item-{i}" for i in range(1, 5)
    ]
    pages, token = [], None
    while True:
        page = core.list_namespaced_config_map(
            ns, label_selector="set=list", limit=2, _continue=token
        )
        pages.append([c.metadata.name for c in page.items])
        token = page.metadata._continue
        if not token:
            break
    assert pages == [["item-0", "item-1"], ["item-2", "item-3"], ["item-4"]]
    code, body = refused(core.list_namespaced_config_map, ns, label_selector="index in (1")
    assert (code, body["reason"]) == (400, "BadRequest")


def test_a_watch_sees_each_change_in_order(core: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    start = core.list_namespaced_config_map(ns, label_selector="set=watch").metadata
    core.create_namespaced_config_map(ns, configmap("watched", {"v": "1"}, set="watch"))
    core.patch_namespaced_config_map("watched", ns, {"data": {"v": "2"}}, _content_type=MERGE)
    core.delete_namespaced_config_map("watched", ns)
    seen = []
    for event in watch_stream(
        core.list_namespaced_config_map,
        ns,
        label_selector="set=watch",
        resource_version=start.resource_version,
        timeout_seconds=30,
    ):
        seen.append((event["type"], event["object"].metadata.name, event["object"].data))
        if len(seen) == 3:
            break
    assert seen == [
        ("ADDED", "watched", {"v": "1"}),
        ("MODIFIED", "watched", {"v": "2"}),
        ("DELETED", "watched", {"v": "2"}),
    ]


def test_patches_of_each_type(core: Any, apps: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    core.create_namespaced_config_map(ns, configmap("patched", {"a": "1", "b": "1"}))
    merged = core.patch_namespaced_config_map(
        "patched", ns, {"data": {"a": None, "c": "1"}}, _content_type=MERGE
    )
    assert merged.data == {"b": "1", "c": "1"}
    json_patched = core.patch_namespaced_config_map(
        "patched",
        ns,
        [{"op": "replace", "path": "/data/b", "value": "2"}, {"op": "remove", "path": "/data/c"}],
        _content_type=JSON_PATCH,
    )
    assert json_patched.data == {"b": "2"}
    code, body = refused(
        core.patch_namespaced_config_map,
        "patched",
        ns,
        [{"op": "test", "path": "/data/b", "value": "9"}],
        _content_type=JSON_PATCH,
    )
    assert (code, body["reason"]) == (422, "Invalid"), body

    # A deployment of no replicas (nothing runs) with two containers: a strategic merge patch
    # merges the containers list by name; a merge patch replaces the list.
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": "patched"}),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(name="a", image="busybox"),
                client.V1Container(name="b", image="busybox"),
            ]
        ),
    )
    apps.create_namespaced_deployment(
        ns,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="patched"),
            spec=client.V1DeploymentSpec(
                replicas=0,
                selector=client.V1LabelSelector(match_labels={"app": "patched"}),
                template=template,
            ),
        ),
    )
    one = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "nginx"}]}}}}
    strategic = apps.patch_namespaced_deployment("patched", ns, one, _content_type=STRATEGIC)
    containers = strategic.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("a", "busybox"), ("b", "nginx")]
    merge = apps.patch_namespaced_deployment("patched", ns, one, _content_type=MERGE)
    assert [(c.name, c.image) for c in merge.spec.template.spec.containers] == [("b", "nginx")]
    scale = apps.patch_namespaced_deployment_scale(
        "patched", ns, {"spec": {"replicas": 0}}, _content_type=MERGE
    )
    assert (scale.kind, scale.spec.replicas) == ("Scale", 0)


def test_refusals_carry_kubernetes_codes(core: Any, kubectl_namespace: str) -> None:
    ns = kubectl_namespace
    first = core.create_namespaced_config_map(ns, configmap("refusals", {"v": "1"}))
    code, body = refused(core.create_namespaced_config_map, ns, configmap("refusals", {}))
    assert (code, body["reason"]) == (409, "AlreadyExists")
    core.patch_namespaced_config_map("refusals", ns, {"data": {"v": "2"}}, _content_type=MERGE)
    code, body = refused(core.replace_namespaced_config_map, "refusals", ns, first)
    assert (code, body["reason"]) == (409, "Conflict")
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "refusals": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    bad = client.V1Pod(
        metadata=client.V1ObjectMeta(name="no-image"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c")]),
    )
    code, body = refused(core.create_namespaced_pod, ns, bad)
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[0].image",
        }
    ]
    with api_client(VIEWER_KUBECONFIG) as viewer:
        as_viewer = client.CoreV1Api(viewer)
        assert as_viewer.read_namespaced_config_map("refusals", ns).data == {"v": "2"}
        code, body = refused(as_viewer.delete_namespaced_config_map, "refusals", ns)
    assert (code, body["reason"]) == (403, "Forbidden")
