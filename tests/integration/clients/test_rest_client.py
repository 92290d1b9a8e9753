"""The official Kubernetes Python client (`kubernetes`, generated from the OpenAPI documents)
against the REST door of the real apiserver over real etcd, with TLS and the admin's client
certificate from a kubeconfig: typed CRUD, selectors and pages, watches that resume and that
recover from 410 Gone by listing again, every patch type, errors as ApiException with
Kubernetes' codes, and the request metrics those calls leave."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.integration.rest_cluster import (
    RestCluster,
    in_thread,
    new_watch,
    raw_request,
    rest_cluster,
)
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("rest-client")) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: RestCluster) -> k8s.ApiClient:
    return cluster.api_client()


async def namespace(api: k8s.ApiClient) -> str:
    name = f"py-{uuid.uuid4().hex[:6]}"
    await in_thread(
        k8s.CoreV1Api(api).create_namespace, k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name))
    )
    return name


def pod(name: str, image: str = "busybox", **labels: str) -> k8s.V1Pod:
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels or None),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image=image)]),
    )


def deployment(name: str, replicas: int) -> k8s.V1Deployment:
    labels = {"app": name}
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="nginx")]),
            ),
        ),
    )


async def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> ApiException:
    with pytest.raises(ApiException) as info:
        await in_thread(call, *args, **kwargs)
    return info.value


async def _true(value: bool) -> bool:
    return value


def status_body(e: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(e.body or "")
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == e.status
    return body


async def test_crud_of_pods_deployments_and_configmaps(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)

    created = await in_thread(core.create_namespaced_pod, ns, pod("web", app="web"))
    assert created.metadata.namespace == ns and created.metadata.uid
    assert created.status.phase == "Pending" and created.spec.restart_policy == "Always"
    read = await in_thread(core.read_namespaced_pod, "web", ns)
    assert read.metadata.resource_version == created.metadata.resource_version
    read.metadata.labels["tier"] = "front"
    replaced = await in_thread(core.replace_namespaced_pod, "web", ns, read)
    assert replaced.metadata.labels == {"app": "web", "tier": "front"}
    assert int(replaced.metadata.resource_version) > int(read.metadata.resource_version)
    deleted = await in_thread(core.delete_namespaced_pod, "web", ns)
    # Kubernetes answers a pod's delete with the pod (its registry's ReturnDeletedObject).
    assert type(deleted).__name__ == "V1Pod" and deleted.metadata.name == "web"

    made = await in_thread(apps.create_namespaced_deployment, ns, deployment("api", 2))
    assert made.spec.replicas == 2 and made.spec.strategy.type == "RollingUpdate"
    scale = await in_thread(apps.read_namespaced_deployment_scale, "api", ns)
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=api")
    await in_thread(apps.patch_namespaced_deployment_scale, "api", ns, {"spec": {"replicas": 4}})
    assert (await in_thread(apps.read_namespaced_deployment, "api", ns)).spec.replicas == 4
    # The generated method declares no model for this answer: the Status as a dict.
    gone = await in_thread(apps.delete_namespaced_deployment, "api", ns)
    assert (gone["kind"], gone["status"]) == ("Status", "Success")
    assert (gone["details"]["name"], gone["details"]["kind"]) == ("api", "deployments")

    config = k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name="settings"),
        data={"mode": "fast"},
        binary_data={"blob": "AAEC"},
    )
    await in_thread(core.create_namespaced_config_map, ns, config)
    stored = await in_thread(core.read_namespaced_config_map, "settings", ns)
    assert stored.data == {"mode": "fast"} and stored.binary_data == {"blob": "AAEC"}
    # Asked for YAML first, the object as YAML; a watch has no YAML form.
    code, text = await in_thread(
        raw_request,
        api,
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps/settings",
        accept="application/yaml, application/json",
        text=True,
    )
    as_yaml = yaml.safe_load(text)
    assert code == 200 and (as_yaml["kind"], as_yaml["data"]) == ("ConfigMap", {"mode": "fast"})
    # A watch cannot be YAML: 406, its Status written as YAML, the form asked for (Kubernetes
    # negotiates an error's form as any answer's).
    code, text = await in_thread(
        raw_request,
        api,
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?watch=1",
        accept="application/yaml",
        text=True,
    )
    status = yaml.safe_load(text)
    assert (code, status["kind"], status["reason"]) == (406, "Status", "NotAcceptable")
    await in_thread(core.delete_namespaced_config_map, "settings", ns)
    missing = await refused(core.read_namespaced_config_map, "settings", ns)
    assert missing.status == 404


async def test_status_fields_go_never_omits_decode_in_the_client(
    cluster: RestCluster, api: k8s.ApiClient
) -> None:
    """A container status with restartCount 0, ready false, no image ID and a condition with
    no lastProbeTime, written through gRPC: the generated client requires those fields, and
    reads the pod."""
    ns = await namespace(api)
    await in_thread(k8s.CoreV1Api(api).create_namespaced_pod, ns, pod("fresh"))
    stored = await cluster.grpc.pods.get("fresh", ns)
    stored.status.conditions.add(type="PodScheduled", status="False", reason="Unschedulable")
    stored.status.container_statuses.add(name="c", image="busybox")
    stored.status.container_statuses[0].state.waiting.reason = "ContainerCreating"
    await cluster.grpc.pods.update_status(stored)
    read = await in_thread(k8s.CoreV1Api(api).read_namespaced_pod_status, "fresh", ns)
    status = read.status.container_statuses[0]
    assert (status.restart_count, status.ready, status.image, status.image_id) == (
        0,
        False,
        "busybox",
        "",
    )
    assert status.state.waiting.reason == "ContainerCreating"
    condition = read.status.conditions[0]
    assert (condition.type, condition.last_probe_time, condition.last_transition_time) == (
        "PodScheduled",
        None,
        None,
    )
    _, raw = await in_thread(raw_request, api, "GET", f"/api/v1/namespaces/{ns}/pods/fresh")
    wire = raw["status"]
    assert wire["containerStatuses"][0]["restartCount"] == 0
    assert wire["containerStatuses"][0]["ready"] is False
    assert wire["conditions"][0]["lastProbeTime"] is None
    assert wire["containerStatuses"][0]["imageID"] == ""


async def test_list_by_label_and_field_selector_and_in_pages(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    for i in range(5):
        await in_thread(
            core.create_namespaced_config_map,
            ns,
            k8s.V1ConfigMap(
                metadata=k8s.V1ObjectMeta(
                    name=f"cm-{i}", labels={"parity": "even" if i % 2 == 0 else "odd"}
                )
            ),
        )
    odd = await in_thread(core.list_namespaced_config_map, ns, label_selector="parity=odd")
    assert [c.metadata.name for c in odd.items] == ["cm-1", "cm-3"]
    named = await in_thread(
        core.list_config_map_for_all_namespaces,
        field_selector=f"metadata.name=cm-2,metadata.namespace={ns}",
    )
    assert [(c.metadata.namespace, c.metadata.name) for c in named.items] == [(ns, "cm-2")]
    bad = await refused(core.list_namespaced_config_map, ns, field_selector="data.x=1")
    assert bad.status == 400 and status_body(bad)["reason"] == "BadRequest"

    pages, token, versions, remaining = [], None, set(), []
    while True:
        page = await in_thread(core.list_namespaced_config_map, ns, limit=2, _continue=token)
        pages.append([c.metadata.name for c in page.items])
        versions.add(page.metadata.resource_version)
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert pages == [["cm-0", "cm-1"], ["cm-2", "cm-3"], ["cm-4"]]
    assert len(versions) == 1  # every page is of the same consistent list
    assert remaining == [3, 1, None]
    # With a selector the server cannot count what is left without reading it: no count.
    selected = await in_thread(
        core.list_namespaced_config_map, ns, limit=1, label_selector="parity=even"
    )
    assert [c.metadata.name for c in selected.items] == ["cm-0"]
    assert selected.metadata._continue and selected.metadata.remaining_item_count is None


async def test_watch_sees_added_modified_deleted_and_resumes(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    start = (await in_thread(core.list_namespaced_config_map, ns)).metadata.resource_version
    watch = new_watch()
    events: list[tuple[str, str, str]] = []

    def follow(resource_version: str, count: int) -> None:
        for event in watch.stream(
            core.list_namespaced_config_map,
            ns,
            resource_version=resource_version,
            timeout_seconds=30,
        ):
            obj = event["object"]
            events.append((event["type"], obj.metadata.name, obj.metadata.resource_version))
            if len(events) >= count:
                watch.stop()

    following = asyncio.create_task(in_thread(follow, start, 3))
    await in_thread(
        core.create_namespaced_config_map,
        ns,
        k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="watched")),
    )
    await in_thread(core.patch_namespaced_config_map, "watched", ns, {"data": {"k": "v"}})
    await in_thread(core.delete_namespaced_config_map, "watched", ns)
    await following
    assert [(t, n) for t, n, _ in events] == [
        ("ADDED", "watched"),
        ("MODIFIED", "watched"),
        ("DELETED", "watched"),
    ]
    # From the ADDED event's version on: what came after it, and nothing before.
    added_version = events[0][2]
    events.clear()
    await in_thread(follow, added_version, 2)
    assert [(t, n) for t, n, _ in events] == [("MODIFIED", "watched"), ("DELETED", "watched")]

    # One object's watch (the /watch/ path with its name): its events only.
    for name in ("one", "other"):
        await in_thread(
            core.create_namespaced_config_map,
            ns,
            k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name)),
        )
    code, text = await in_thread(
        raw_request,
        api,
        "GET",
        f"/api/v1/watch/namespaces/{ns}/configmaps/one?resourceVersion={start}&timeoutSeconds=1",
        text=True,
    )
    assert code == 200
    assert [
        (e["type"], e["object"]["metadata"]["name"]) for e in map(json.loads, text.splitlines())
    ] == [("ADDED", "one")]


async def test_patch_of_each_type(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    await in_thread(core.create_namespaced_pod, ns, pod("web", app="web"))
    # A dict is sent as a strategic merge patch: containers merge by name.
    strategic = await in_thread(
        core.patch_namespaced_pod,
        "web",
        ns,
        {"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}},
    )
    assert [(c.name, c.image) for c in strategic.spec.containers] == [("c", "busybox:1.37")]
    merged = await in_thread(
        core.patch_namespaced_pod,
        "web",
        ns,
        {"metadata": {"labels": {"app": None, "merged": "yes"}}},
        _content_type="application/merge-patch+json",
    )
    assert merged.metadata.labels == {"merged": "yes"}
    # A list is sent as a JSON patch.
    patched = await in_thread(
        core.patch_namespaced_pod,
        "web",
        ns,
        [
            {"op": "test", "path": "/metadata/labels/merged", "value": "yes"},
            {"op": "add", "path": "/metadata/annotations", "value": {"note": "json"}},
        ],
    )
    assert patched.metadata.annotations == {"note": "json"}
    failed = await refused(
        core.patch_namespaced_pod,
        "web",
        ns,
        [{"op": "test", "path": "/metadata/labels/merged", "value": "no"}],
    )
    assert failed.status == 422
    # A merge patch replaces a list whole: a container without an image is invalid.
    invalid = await refused(
        core.patch_namespaced_pod,
        "web",
        ns,
        {"spec": {"containers": [{"name": "c"}]}},
        _content_type="application/merge-patch+json",
    )
    assert invalid.status == 422
    body = status_body(invalid)
    assert body["reason"] == "Invalid" and body["details"]["kind"] == "Pod"
    status = await in_thread(
        core.patch_namespaced_pod_status, "web", ns, {"status": {"message": "patched status"}}
    )
    assert status.status.message == "patched status"


async def test_errors_are_api_exceptions_with_kubernetes_codes(
    cluster: RestCluster, api: k8s.ApiClient
) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    await in_thread(core.create_namespaced_pod, ns, pod("web"))

    not_found = await refused(core.read_namespaced_pod, "nope", ns)
    assert not_found.status == 404
    assert status_body(not_found)["message"] == 'pods "nope" not found'
    exists = await refused(core.create_namespaced_pod, ns, pod("web"))
    assert exists.status == 409 and status_body(exists)["reason"] == "AlreadyExists"
    invalid = await refused(core.create_namespaced_pod, ns, pod("bad", image=""))
    body = status_body(invalid)
    assert invalid.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.containers[0].image",
        }
    ]
    stale = await in_thread(core.read_namespaced_pod, "web", ns)
    await in_thread(core.patch_namespaced_pod, "web", ns, {"metadata": {"labels": {"a": "b"}}})
    conflict = await refused(core.replace_namespaced_pod, "web", ns, stale)
    assert conflict.status == 409 and status_body(conflict)["reason"] == "Conflict"
    no_namespace = await refused(core.create_namespaced_pod, "nowhere", pod("web"))
    assert no_namespace.status == 404
    assert status_body(no_namespace)["message"] == 'namespaces "nowhere" not found'
    # The client's models refuse an unknown field before sending; sent as is, Strict refuses it.
    code, strict = await in_thread(
        raw_request,
        api,
        "POST",
        f"/api/v1/namespaces/{ns}/pods?fieldValidation=Strict",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "typo"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "imagePullPolicyy": "x"}]},
        },
    )
    assert (code, strict["reason"], strict["message"]) == (
        400,
        "BadRequest",
        'Pod in version "v1" cannot be handled as a Pod: strict decoding '
        'error: unknown field "spec.containers[0].imagePullPolicyy"',
    )

    # Paths Kubernetes serves nothing at.
    for method, path, code, reason in [
        ("GET", "/api/v1/pods/web", 404, "NotFound"),
        ("GET", f"/api/v1/namespaces/{ns}/nodes", 404, "NotFound"),
        ("GET", f"/api/v1/namespaces/{ns}/pods/web/status/more", 404, "NotFound"),
        ("GET", f"/api/v1/namespaces/{ns}/widgets", 404, "NotFound"),
        ("POST", "/api/v1/pods", 405, "MethodNotAllowed"),
        ("DELETE", "/api/v1/pods", 405, "MethodNotAllowed"),
    ]:
        answer = await in_thread(raw_request, api, method, path, {} if method == "POST" else None)
        assert answer[0] == code and answer[1]["reason"] == reason, (method, path, answer)

    viewer = k8s.CoreV1Api(cluster.api_client("viewer"))
    assert [p.metadata.name for p in (await in_thread(viewer.list_namespaced_pod, ns)).items] == [
        "web"
    ]
    forbidden = await refused(viewer.delete_namespaced_pod, "web", ns)
    assert forbidden.status == 403 and status_body(forbidden)["reason"] == "Forbidden"


async def test_request_metrics_count_http_codes(cluster: RestCluster, api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)

    async def counts() -> dict[tuple[str, str, str], float]:
        code, text = await in_thread(raw_request, api, "GET", "/metrics")
        assert code == 200
        found: dict[tuple[str, str, str], float] = {}
        for m in re.finditer(
            r'^apiserver_request_total\{code="(\d+)",resource="secrets",'
            r'subresource="",verb="(\w+)"\} ([0-9.e+]+)$',
            text,
            re.MULTILINE,
        ):
            found[(m[2], m[1], "secrets")] = float(m[3])
        return found

    before = await counts()
    await in_thread(
        core.create_namespaced_secret,
        ns,
        k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s"), string_data={"password": "hunter2"}),
    )
    await in_thread(core.list_namespaced_secret, ns)
    await in_thread(core.read_namespaced_secret, "s", ns)
    await refused(core.read_namespaced_secret, "absent", ns)
    await refused(
        core.create_namespaced_secret, ns, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s"))
    )

    def first_event() -> str:
        watch = new_watch()
        for event in watch.stream(core.list_namespaced_secret, ns, timeout_seconds=30):
            watch.stop()  # the client goes: the server's handler is cancelled
            return str(event["type"])
        return ""

    assert await in_thread(first_event) == "ADDED"
    await in_thread(core.delete_namespaced_secret, "s", ns)
    await eventually(
        lambda: _true(not cluster.server.cachers["secrets"].watchers()), what="the watch to end"
    )
    after = await counts()

    def grew(verb: str, code: str) -> float:
        return after.get((verb, code, "secrets"), 0) - before.get((verb, code, "secrets"), 0)

    assert [
        grew("POST", "201"),
        grew("LIST", "200"),
        grew("GET", "200"),
        grew("GET", "404"),
        grew("POST", "409"),
        grew("DELETE", "200"),
        grew("WATCH", "200"),
    ] == [1] * 7
    assert not any(code == "500" for _, code, _ in after)


async def test_too_old_resource_version_is_410_then_the_client_relists(
    cluster: RestCluster, api: k8s.ApiClient
) -> None:
    """Run last: restarts the apiserver. A version the new watch cache does not hold and etcd
    has compacted is 410 Gone; listing gives a version to watch from again."""
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    old = (await in_thread(core.list_namespaced_config_map, ns)).metadata.resource_version
    for i in range(3):
        await in_thread(
            core.create_namespaced_config_map,
            ns,
            k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=f"before-{i}")),
        )
    current = (await in_thread(core.list_namespaced_config_map, ns)).metadata.resource_version
    await cluster.server.etcd.compact(int(current))
    await cluster.restart()

    def watch_from(version: str) -> list[tuple[str, str]]:
        seen = []
        watch = new_watch()
        for event in watch.stream(
            core.list_namespaced_config_map, ns, resource_version=version, timeout_seconds=30
        ):
            seen.append((event["type"], event["object"].metadata.name))
            watch.stop()
        return seen

    gone = await refused(watch_from, old)
    assert gone.status == 410 and gone.reason.startswith("Expired: too old resource version")
    relisted = await in_thread(core.list_namespaced_config_map, ns)
    assert [c.metadata.name for c in relisted.items] == ["before-0", "before-1", "before-2"]
    following = asyncio.create_task(in_thread(watch_from, relisted.metadata.resource_version))
    await in_thread(
        core.create_namespaced_config_map,
        ns,
        k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="after")),
    )
    assert await following == [("ADDED", "after")]
