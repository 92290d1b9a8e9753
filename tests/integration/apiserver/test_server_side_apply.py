"""Server-side apply and managed fields against the real apiserver over real etcd, through both
doors: the official Python client's apply patches (created, conflicts as Kubernetes' 409 with
FieldManagerConflict causes, force), the option rules (fieldManager required for an apply, force
only for one, its length and characters), the media types Kubernetes 1.31 takes, dry run, the
status and scale subresources, a request's own managedFields (valid entries replace, an empty
list clears them), the manager a user agent names, and the gRPC door's writes recorded for the
client's declared field manager."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client, user_agent
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess

APPLY = "application/apply-patch+yaml"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("ssa")) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: RestCluster) -> k8s.ApiClient:
    return cluster.api_client()


async def namespace(api: k8s.ApiClient) -> str:
    name = f"ssa-{uuid.uuid4().hex[:6]}"
    await in_thread(
        k8s.CoreV1Api(api).create_namespace, k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name))
    )
    return name


def deployment(name: str = "web", replicas: int = 2, image: str = "busybox") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def managers(obj: Any) -> list[tuple[str, str, str]]:
    """(manager, operation, subresource) of each entry, as the server sorted them."""
    return [(e.manager, e.operation, e.subresource or "") for e in obj.metadata.managed_fields]


async def apply_deployment(
    api: k8s.ApiClient, ns: str, body: dict[str, Any], manager: str, **options: Any
) -> Any:
    return await in_thread(
        k8s.AppsV1Api(api).patch_namespaced_deployment,
        body["metadata"]["name"],
        ns,
        body,
        field_manager=manager,
        _content_type=APPLY,
        **options,
    )


def path(ns: str, name: str = "web", sub: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{ns}/deployments/{name}" + (f"/{sub}" if sub else "")


async def test_the_python_client_applies_and_conflicts_as_kubernetes(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    applied = await apply_deployment(api, ns, deployment(), "py-apply")
    assert applied.spec.replicas == 2
    assert managers(applied) == [("py-apply", "Apply", "")]
    entry = applied.metadata.managed_fields[0]
    assert (entry.api_version, entry.fields_type) == ("apps/v1", "FieldsV1")
    assert entry.fields_v1["f:spec"]["f:replicas"] == {}
    with pytest.raises(ApiException) as refused:
        await apply_deployment(api, ns, deployment(replicas=5), "other")
    assert refused.value.status == 409
    status = json.loads(str(refused.value.body))
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "py-apply": .spec.replicas'
    )
    assert status["details"] == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "py-apply"',
                "field": ".spec.replicas",
            }
        ]
    }
    forced = await apply_deployment(api, ns, deployment(replicas=5), "other", force=True)
    assert forced.spec.replicas == 5
    assert sorted(managers(forced)) == [("other", "Apply", ""), ("py-apply", "Apply", "")]


async def test_an_updater_conflicts_with_an_applier_naming_its_version(
    api: k8s.ApiClient,
) -> None:
    ns = await namespace(api)
    await apply_deployment(api, ns, deployment(), "apply_test")
    await in_thread(
        k8s.AppsV1Api(api).patch_namespaced_deployment,
        "web",
        ns,
        {"spec": {"replicas": 5}},
        field_manager="kubectl-client-side-apply",
    )
    with pytest.raises(ApiException) as refused:
        await apply_deployment(api, ns, deployment(), "apply_test")
    assert json.loads(str(refused.value.body))["message"] == (
        "Apply failed with 1 conflict: conflict with "
        '"kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )


async def test_an_apply_creates_answering_201_and_refuses_a_uid(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    code, body = await in_thread(
        raw_request,
        api,
        "PATCH",
        path(ns) + "?fieldManager=raw",
        json.dumps(deployment()),
        content_type=APPLY,
    )
    assert code == 201, body
    assert body["metadata"]["managedFields"][0]["manager"] == "raw"
    # YAML, as kubectl's apply-patch+yaml says (kubectl sends JSON, which YAML reads too).
    as_yaml = yaml.safe_dump(deployment(replicas=3))
    code, body = await in_thread(
        raw_request, api, "PATCH", path(ns) + "?fieldManager=raw", as_yaml, content_type=APPLY
    )
    assert (code, body["spec"]["replicas"]) == (200, 3)
    with_uid = deployment("other")
    with_uid["metadata"]["uid"] = "88e00824-7f0e-11e8-94a1-c8d3ffb15800"
    code, body = await in_thread(
        raw_request,
        api,
        "PATCH",
        path(ns, "other") + "?fieldManager=raw",
        json.dumps(with_uid),
        content_type=APPLY,
    )
    assert (code, body["reason"]) == (409, "Conflict")
    assert "uid mismatch: the provided object specified uid" in body["message"]


@pytest.mark.parametrize(
    "query,content_type,body,code,message",
    [
        (
            "",
            APPLY,
            deployment(),
            422,
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
            "is required for apply patch",
        ),
        (
            "?fieldManager=x&force=true",
            "application/merge-patch+json",
            {"spec": {"replicas": 1}},
            422,
            'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
            "may not be specified for non-apply patch",
        ),
        (
            "?fieldManager=" + "x" * 129,
            APPLY,
            deployment(),
            422,
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: '
            "must have at most 128 bytes",
        ),
        (
            "?fieldManager=a%07b",
            "application/merge-patch+json",
            {"spec": {"replicas": 1}},
            422,
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\ab": '
            "invalid character U+0007 (at position 1)",
        ),
        ("?fieldManager=x", "application/apply-patch+json", deployment(), 415, None),
        ("?fieldManager=x", "application/apply-patch+cbor", deployment(), 415, None),
        (
            "?fieldManager=x",
            APPLY,
            {**deployment(), "apiVersion": "apps/v1beta1"},
            400,
            "invalid object type: apps/v1beta1, Kind=Deployment",
        ),
        (
            "?fieldManager=x",
            APPLY,
            {**deployment(), "spec": {"replicas": "two"}},
            400,
            "failed to create typed patch object (/web; apps/v1, Kind=Deployment): "
            ".spec.replicas: expected numeric (int or float), got string",
        ),
        (
            "?fieldManager=x",
            APPLY,
            {**deployment(), "spec": {"bogus": 1}},
            400,
            "failed to create typed patch object (/web; apps/v1, Kind=Deployment): "
            ".spec.bogus: field not declared in schema",
        ),
    ],
    ids=[
        "apply without manager",
        "force without apply",
        "long manager",
        "unprintable manager",
        "apply json",
        "apply cbor",
        "other version",
        "wrong type",
        "unknown field",
    ],
)
async def test_bad_apply_requests_are_refused_as_kubernetes_refuses_them(
    api: k8s.ApiClient,
    query: str,
    content_type: str,
    body: dict[str, Any],
    code: int,
    message: str | None,
) -> None:
    ns = await namespace(api)
    await apply_deployment(api, ns, deployment(), "owner")
    # The client writes a JSON type's body itself; an apply's is sent as given.
    sent = body if content_type.endswith("json") else json.dumps(body)
    got, status = await in_thread(
        raw_request, api, "PATCH", path(ns) + query, sent, content_type=content_type
    )
    assert got == code, status
    if message is not None:
        assert status["message"] == message
    if code == 415:
        assert status["reason"] == "UnsupportedMediaType"
        assert "application/apply-patch+yaml" in status["message"]


async def test_a_dry_run_apply_stores_nothing(api: k8s.ApiClient) -> None:
    ns = await namespace(api)
    await apply_deployment(api, ns, deployment(), "owner")
    dry = await apply_deployment(api, ns, deployment(replicas=9), "owner", dry_run="All")
    assert dry.spec.replicas == 9
    assert (
        await in_thread(k8s.AppsV1Api(api).read_namespaced_deployment, "web", ns)
    ).spec.replicas == 2
    created = await apply_deployment(api, ns, deployment("new"), "owner", dry_run="All")
    assert created.metadata.name == "new"
    with pytest.raises(ApiException) as gone:
        await in_thread(k8s.AppsV1Api(api).read_namespaced_deployment, "new", ns)
    assert gone.value.status == 404


async def test_status_and_scale_writes_are_recorded_for_their_subresource(
    api: k8s.ApiClient,
) -> None:
    ns = await namespace(api)
    await apply_deployment(api, ns, deployment(), "owner")
    status = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "status": {"observedGeneration": 1, "replicas": 2},
    }
    code, body = await in_thread(
        raw_request,
        api,
        "PATCH",
        path(ns, sub="status") + "?fieldManager=status-applier",
        json.dumps(status),
        content_type=APPLY,
    )
    assert code == 200, body
    entries = {
        (e["manager"], e.get("subresource", "")): e for e in body["metadata"]["managedFields"]
    }
    assert entries["status-applier", "status"]["fieldsV1"] == {
        "f:status": {"f:observedGeneration": {}, "f:replicas": {}}
    }
    await in_thread(
        k8s.AppsV1Api(api).patch_namespaced_deployment_scale,
        "web",
        ns,
        {"spec": {"replicas": 4}},
        field_manager="scaler",
    )
    obj = await in_thread(k8s.AppsV1Api(api).read_namespaced_deployment, "web", ns)
    assert obj.spec.replicas == 4
    assert ("scaler", "Update", "scale") in managers(obj)
    scale_entry = next(e for e in obj.metadata.managed_fields if e.manager == "scaler")
    assert scale_entry.fields_v1 == {"f:spec": {"f:replicas": {}}}
    # The applier lost replicas to the scaler.
    owner = next(e for e in obj.metadata.managed_fields if e.manager == "owner")
    assert "f:replicas" not in owner.fields_v1["f:spec"]


async def test_a_scale_applied_to_the_scale_subresource_owns_the_replicas(
    api: k8s.ApiClient,
) -> None:
    """An autoscaling/v1 Scale applied to a Deployment's scale (what an autoscaler may send):
    its applier owns the Deployment's spec.replicas, subresource scale; it conflicts with the
    Deployment's applier until it forces. A configuration that is not a Scale is a 400,
    negative replicas the Scale's 422."""
    ns = await namespace(api)
    await apply_deployment(api, ns, deployment(), "owner")

    async def apply_scale(body: dict[str, Any], **options: Any) -> Any:
        return await in_thread(
            k8s.AppsV1Api(api).patch_namespaced_deployment_scale,
            "web",
            ns,
            body,
            field_manager="autoscaler",
            _content_type=APPLY,
            **options,
        )

    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}}
    with pytest.raises(ApiException) as refused:
        await apply_scale({**scale, "spec": {"replicas": 5}})
    assert refused.value.status == 409
    assert json.loads(str(refused.value.body))["message"] == (
        'Apply failed with 1 conflict: conflict with "owner": .spec.replicas'
    )
    answered = await apply_scale({**scale, "spec": {"replicas": 5}}, force=True)
    assert (answered.kind, answered.spec.replicas) == ("Scale", 5)
    obj = await in_thread(k8s.AppsV1Api(api).read_namespaced_deployment, "web", ns)
    assert obj.spec.replicas == 5
    entry = next(e for e in obj.metadata.managed_fields if e.manager == "autoscaler")
    assert (entry.operation, entry.subresource, entry.api_version, entry.fields_v1) == (
        "Apply",
        "scale",
        "apps/v1",
        {"f:spec": {"f:replicas": {}}},
    )
    owner = next(e for e in obj.metadata.managed_fields if e.manager == "owner")
    assert "f:replicas" not in owner.fields_v1["f:spec"]

    for body, code, message in (
        (
            {**scale, "kind": "Deployment", "spec": {"replicas": 1}},
            400,
            "invalid object type: autoscaling/v1, Kind=Deployment",
        ),
        (
            {**scale, "spec": {"replicas": -1}},
            422,
            'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be '
            "greater than or equal to 0",
        ),
    ):
        got, status = await in_thread(
            raw_request,
            api,
            "PATCH",
            path(ns, sub="scale") + "?fieldManager=autoscaler",
            json.dumps(body),
            content_type=APPLY,
        )
        assert (got, status["message"]) == (code, message)
    obj = await in_thread(k8s.AppsV1Api(api).read_namespaced_deployment, "web", ns)
    assert obj.spec.replicas == 5


async def test_a_requests_own_managed_fields_replace_or_clear_the_objects(
    api: k8s.ApiClient,
) -> None:
    ns = await namespace(api)
    core = k8s.CoreV1Api(api)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    code, _ = await in_thread(
        raw_request,
        api,
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/c?fieldManager=apply_test",
        json.dumps(body),
        content_type=APPLY,
    )
    assert code == 201
    # A JSON patch replacing them (what kubectl's move to server-side apply sends).
    mine = [
        {
            "manager": "migrated",
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}},
        }
    ]
    code, patched = await in_thread(
        raw_request,
        api,
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/c",
        [{"op": "replace", "path": "/metadata/managedFields", "value": mine}],
        content_type="application/json-patch+json",
    )
    assert code == 200, patched
    assert [(e["manager"], e["operation"]) for e in patched["metadata"]["managedFields"]] == [
        ("migrated", "Apply")
    ]
    # One empty entry (TestClearManagedFields) clears them; so does an empty list on an update.
    await in_thread(
        raw_request,
        api,
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/c",
        {"metadata": {"managedFields": [{}]}},
        content_type="application/merge-patch+json",
    )
    cleared = await in_thread(core.read_namespaced_config_map, "c", ns)
    assert not cleared.metadata.managed_fields
    # Untracked now: an update records nothing until an apply.
    await in_thread(core.patch_namespaced_config_map, "c", ns, {"data": {"a": "2"}})
    assert not (await in_thread(core.read_namespaced_config_map, "c", ns)).metadata.managed_fields
    # An entry that does not decode (no fieldsType) is ignored, not refused (TestErrorsDontFail).
    bad = {**body, "metadata": {"name": "d", "managedFields": [{**mine[0], "fieldsType": ""}]}}
    code, made = await in_thread(
        raw_request,
        api,
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps?fieldManager=creator",
        bad,
    )
    assert code == 201, made
    assert [e["manager"] for e in made["metadata"]["managedFields"]] == ["creator"]
    code, replaced = await in_thread(
        raw_request,
        api,
        "PUT",
        f"/api/v1/namespaces/{ns}/configmaps/d",
        {**body, "metadata": {"name": "d", "managedFields": []}},
    )
    assert code == 200 and "managedFields" not in replaced["metadata"]
    # A manager name an entry may not have is refused with the field's path (when the entry
    # still owns something after the create: a field the create does not set).
    too_long = {**mine[0], "manager": "m" * 129, "fieldsV1": {"f:binaryData": {"f:z": {}}}}
    code, status = await in_thread(
        raw_request,
        api,
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps",
        {**body, "metadata": {"name": "e", "managedFields": [too_long]}},
    )
    assert (code, status["reason"]) == (422, "Invalid")
    assert (
        "metadata.managedFields[0].manager: Too long: must have at most 128 bytes"
        in (status["message"])
    )


async def test_the_user_agent_names_the_manager_of_a_write_without_one(
    api: k8s.ApiClient,
) -> None:
    ns = await namespace(api)
    api.user_agent = "my-tool/1.2.3 (linux/amd64)"
    try:
        await in_thread(
            k8s.CoreV1Api(api).create_namespaced_config_map,
            ns,
            k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="c"), data={"a": "1"}),
        )
    finally:
        api.user_agent = "OpenAPI-Generator/python"
    obj = await in_thread(k8s.CoreV1Api(api).read_namespaced_config_map, "c", ns)
    assert managers(obj) == [("my-tool", "Update", "")]
    assert obj.metadata.managed_fields[0].fields_v1 == {"f:data": {".": {}, "f:a": {}}}


async def test_the_grpc_doors_writes_are_the_declared_managers(cluster: RestCluster) -> None:
    ns = f"ssa-{uuid.uuid4().hex[:6]}"
    credentials = cert_credentials(cluster.pki, "admin")
    target = f"127.0.0.1:{cluster.server.port}"
    async with Client(
        target, timeout=10, credentials=credentials, agent=user_agent("kubelet")
    ) as c:
        await c.namespaces.create(core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=ns)))
        pod = core_pb2.Pod(
            metadata=meta_pb2.ObjectMeta(name="p", namespace=ns),
            spec=core_pb2.PodSpec(containers=[core_pb2.Container(name="c", image="busybox")]),
        )
        created = await c.pods.create(pod)
        assert [(e.manager, e.operation) for e in created.metadata.managed_fields] == [
            ("kubelet", "Update")
        ]
        created.status.phase = "Running"
        updated = await c.pods.update_status(created)
        entries = {(e.manager, e.subresource): e for e in updated.metadata.managed_fields}
        assert json.loads(entries["kubelet", "status"].fields_v1) == {"f:status": {"f:phase": {}}}
    # The declared field manager wins over the user agent.
    stub = cluster.grpc.pods._stub
    labelled = core_pb2.Pod()
    labelled.CopyFrom(updated)
    labelled.metadata.labels["tier"] = "web"
    got = await stub.Update(labelled, metadata=(("field-manager", "labeller"),))
    entries = {(e.manager, e.subresource): e for e in got.metadata.managed_fields}
    assert json.loads(entries["labeller", ""].fields_v1) == {
        "f:metadata": {"f:labels": {".": {}, "f:tier": {}}}
    }
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Update(labelled, metadata=(("field-manager", "x" * 129),))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == (
        'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: '
        "must have at most 128 bytes"
    )
