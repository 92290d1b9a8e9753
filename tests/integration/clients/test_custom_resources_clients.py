"""Custom resources through the clients operators are written with, against the real apiserver
and etcd: the official Python client (ApiextensionsV1Api's typed CustomResourceDefinitions and
CustomObjectsApi: create, get, list, patch, the status subresource, watch, delete), kr8s, the
real grpcurl on the gRPC door's CustomObjects service, and podplane's own client: an object
written through one is read identically through the others."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import kr8s.asyncio
import pytest
import pytest_asyncio
from kr8s.asyncio.objects import new_class
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from tests import tools
from tests.integration.custom_resources import (
    cluster_crd,
    crontab_crd,
    established,
    install,
    unique_group,
)
from tests.integration.rest_cluster import RestCluster, in_thread, new_watch, rest_cluster
from tests.support import EtcdProcess


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("crd-clients")) as c:
        yield c


@pytest.fixture(scope="module")
def api(cluster: RestCluster) -> k8s.ApiClient:
    return cluster.api_client()


def crontab(group: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "CronTab",
        "metadata": {"name": name},
        "spec": {"cronSpec": "* * * * */5", "image": "img", **spec},
    }


async def test_official_client_typed_definitions_and_custom_objects(
    cluster: RestCluster, api: k8s.ApiClient
) -> None:
    group = unique_group("py")
    extensions = k8s.ApiextensionsV1Api(api)
    created = await in_thread(extensions.create_custom_resource_definition, crontab_crd(group))
    assert isinstance(created, k8s.V1CustomResourceDefinition)
    await established(cluster.grpc, f"crontabs.{group}")
    typed = await in_thread(extensions.read_custom_resource_definition, f"crontabs.{group}")
    assert typed.status.accepted_names.kind == "CronTab"
    assert {c.type for c in typed.status.conditions} >= {"NamesAccepted", "Established"}
    assert typed.spec.versions[0].schema.open_apiv3_schema.properties["spec"].required == [
        "cronSpec"
    ]
    assert typed.spec.versions[0].subresources.scale.spec_replicas_path == ".spec.replicas"

    objects = k8s.CustomObjectsApi(api)
    args = (group, "v1", "default", "crontabs")
    made = await in_thread(objects.create_namespaced_custom_object, *args, crontab(group, "py"))
    assert made["spec"]["replicas"] == 1
    assert made["metadata"]["uid"]
    got = await in_thread(objects.get_namespaced_custom_object, *args, "py")
    assert got == made
    listed = await in_thread(objects.list_namespaced_custom_object, *args)
    assert listed["kind"] == "CronTabList"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["py"]
    patched = await in_thread(
        objects.patch_namespaced_custom_object, *args, "py", {"spec": {"image": "new"}}
    )
    assert patched["spec"]["image"] == "new"
    assert patched["metadata"]["generation"] == 2
    status = await in_thread(
        objects.patch_namespaced_custom_object_status,
        *args,
        "py",
        {"status": {"replicas": 1, "lastScheduleTime": "2026-01-01T00:00:00Z"}},
    )
    assert status["status"]["replicas"] == 1
    assert status["metadata"]["generation"] == 2
    read_status = await in_thread(objects.get_namespaced_custom_object_status, *args, "py")
    assert read_status["status"] == {"replicas": 1, "lastScheduleTime": "2026-01-01T00:00:00Z"}

    with pytest.raises(ApiException) as invalid:
        await in_thread(
            objects.create_namespaced_custom_object, *args, crontab(group, "bad", replicas=-1)
        )
    assert invalid.value.status == 422
    body = json.loads(str(invalid.value.body))
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.replicas"
    assert body["details"]["kind"] == "CronTab"
    assert body["details"]["group"] == group

    deleted = await in_thread(objects.delete_namespaced_custom_object, *args, "py")
    assert deleted["status"] == "Success"
    with pytest.raises(ApiException) as missing:
        await in_thread(objects.get_namespaced_custom_object, *args, "py")
    assert missing.value.status == 404
    assert json.loads(str(missing.value.body))["message"] == f'crontabs.{group} "py" not found'


async def test_official_client_watches_custom_objects(
    cluster: RestCluster, api: k8s.ApiClient
) -> None:
    group = unique_group("pw")
    await install(cluster.grpc, crontab_crd(group))
    objects = k8s.CustomObjectsApi(api)
    args = (group, "v1", "default", "crontabs")
    seen: list[tuple[str, str]] = []

    def follow() -> None:
        watch = new_watch()
        for event in watch.stream(objects.list_namespaced_custom_object, *args, timeout_seconds=10):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                watch.stop()

    follower = asyncio.create_task(in_thread(follow))
    await cluster.watching(f"crontabs.{group}", "default")
    await in_thread(objects.create_namespaced_custom_object, *args, crontab(group, "w"))
    await in_thread(objects.patch_namespaced_custom_object, *args, "w", {"spec": {"image": "2"}})
    await in_thread(objects.delete_namespaced_custom_object, *args, "w")
    async with asyncio.timeout(15):
        await follower
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


async def test_kr8s(cluster: RestCluster) -> None:
    group = unique_group("kr")
    await install(cluster.grpc, crontab_crd(group))
    client = await kr8s.asyncio.api(kubeconfig=str(cluster.kubeconfig), context="admin")
    CronTab = new_class(kind="CronTab", version=f"{group}/v1", namespaced=True, scalable=True)
    made = await CronTab(crontab(group, "kr"), api=client)
    await made.create()
    assert made.raw["spec"]["replicas"] == 1
    await made.patch({"spec": {"image": "patched"}})
    await made.refresh()
    assert made.raw["spec"]["image"] == "patched"
    found = [o async for o in client.get(f"crontabs.{group}", namespace="default")]
    assert [o.name for o in found if not isinstance(o, dict)] == ["kr"]
    await made.scale(5)
    await made.refresh()
    assert made.raw["spec"]["replicas"] == 5
    await made.delete()
    assert not await made.exists()


def grpcurl(cluster: RestCluster, *args: str, stdin: str | None = None) -> Any:
    pki = cluster.pki
    ran = subprocess.run(
        [
            tools.tool("grpcurl"),
            "-cacert",
            str(pki / "ca.crt"),
            "-cert",
            str(pki / "admin.crt"),
            "-key",
            str(pki / "admin.key"),
            *args,
        ],
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
    )
    return ran


async def test_grpcurl_on_the_custom_objects_service(cluster: RestCluster) -> None:
    group = unique_group("gc")
    await install(cluster.grpc, crontab_crd(group))
    target = f"127.0.0.1:{cluster.server.port}"
    listed = await asyncio.to_thread(grpcurl, cluster, target, "list")
    assert "podplane.apiextensions.v1.CustomObjects" in listed.stdout.split()
    assert "podplane.apiextensions.v1.CustomResourceDefinitions" in listed.stdout.split()
    request: dict[str, Any] = {
        "group": group,
        "version": "v1",
        "plural": "crontabs",
        "object": {
            "apiVersion": f"{group}/v1",
            "kind": "CronTab",
            "metadata": {"name": "grpc", "namespace": "default"},
            "content": json.dumps({"spec": {"cronSpec": "* * * * *", "unknown": 1}}),
        },
    }
    ran = await asyncio.to_thread(
        grpcurl,
        cluster,
        "-d",
        "@",
        target,
        "podplane.apiextensions.v1.CustomObjects/Create",
        stdin=json.dumps(request),
    )
    assert ran.returncode == 0, ran.stderr
    created = json.loads(ran.stdout)
    assert json.loads(created["content"]) == {"spec": {"cronSpec": "* * * * *", "replicas": 1}}
    request["object"]["metadata"]["name"] = "strict"
    request["fieldValidation"] = "Strict"
    ran = await asyncio.to_thread(
        grpcurl,
        cluster,
        "-d",
        "@",
        target,
        "podplane.apiextensions.v1.CustomObjects/Create",
        stdin=json.dumps(request),
    )
    assert ran.returncode != 0
    assert "InvalidArgument" in ran.stderr
    assert 'strict decoding error: unknown field "spec.unknown"' in ran.stderr
    bad = {**request, "object": {**request["object"], "content": json.dumps({"spec": {}})}}
    bad["object"]["metadata"] = {"name": "bad", "namespace": "default"}
    ran = await asyncio.to_thread(
        grpcurl,
        cluster,
        "-d",
        "@",
        target,
        "podplane.apiextensions.v1.CustomObjects/Create",
        stdin=json.dumps(bad),
    )
    assert "spec.cronSpec: Required value" in ran.stderr
    # What gRPC wrote, the REST door reads.
    rest = json.loads(
        await cluster.kubectl_ok(
            "get", "--raw", f"/apis/{group}/v1/namespaces/default/crontabs/grpc"
        )
    )
    assert rest["spec"] == {"cronSpec": "* * * * *", "replicas": 1}
    get = {
        "group": group,
        "version": "v1",
        "plural": "crontabs",
        "namespace": "default",
        "name": "grpc",
    }
    ran = await asyncio.to_thread(
        grpcurl,
        cluster,
        "-d",
        json.dumps(get),
        target,
        "podplane.apiextensions.v1.CustomObjects/Get",
    )
    assert json.loads(json.loads(ran.stdout)["content"])["spec"]["replicas"] == 1


async def test_podplane_client_and_a_cluster_scoped_kind(cluster: RestCluster) -> None:
    group = unique_group("pc")
    await install(cluster.grpc, cluster_crd(group))
    regions = cluster.grpc.custom_objects(group, "v1", "regions")
    region = CustomObject(
        api_version=f"{group}/v1",
        kind="Region",
        metadata=meta_pb2.ObjectMeta(name="eu", labels={"tier": "gold"}),
        content=json.dumps({"spec": {"zones": ["a"]}}),
    )
    created = await regions.create(region)
    assert created.metadata.namespace == ""
    assert created.metadata.generation == 1
    # The write's manager is the call's user agent's (no field-manager metadata), as at the REST
    # door; its fields are spelled by the version's schema.
    (entry,) = codec.encode(created)["metadata"]["managedFields"]
    assert entry["manager"] == "grpc-python-asyncio"
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:tier": {}}},
        "f:spec": {".": {}, "f:zones": {}},
    }
    events = regions.watch(resource_version=created.metadata.resource_version)
    updated = CustomObject()
    updated.CopyFrom(created)
    updated.content = json.dumps({"spec": {"zones": ["a", "b"]}})
    stored = await regions.update(updated)
    assert json.loads(stored.content) == {"spec": {"zones": ["a", "b"]}}
    assert stored.metadata.generation == 2
    async with asyncio.timeout(10):
        event = await anext(events)
    assert event.type == "MODIFIED"
    assert event.object.metadata.resource_version == stored.metadata.resource_version
    events.cancel()
    listed = await regions.list(label_selector="tier=gold")
    assert [o.metadata.name for o in listed.items] == ["eu"]
    assert (await regions.get("eu")).content == stored.content
    await regions.delete("eu")
    assert (await regions.list()).items == []
