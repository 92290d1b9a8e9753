"""CustomResourceDefinitions through both doors of the real apiserver over real etcd: a definition
refused with kube-apiserver's field errors; names another definition of the group holds are not
accepted ("KindConflict") until it goes; custom objects are JSON in etcd under
/registry/<group>/<plural>/, in the storage version, which status.storedVersions records; RBAC
decides on the custom plural in its group; a restarted apiserver serves the custom resources it
finds in etcd; the gRPC door refuses what the REST door refuses, with the same words."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.apiextensions import definitions
from tests.integration.custom_resources import (
    crd_message,
    crontab_crd,
    established,
    install,
    two_version_crd,
    unique_group,
)
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("crd-lifecycle")) as c:
        yield c


def crontab(group: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "CronTab",
        "metadata": {"name": name},
        "spec": {"cronSpec": "* * * * *", **spec},
    }


async def kubectl_create(cluster: RestCluster, data: dict[str, Any]) -> Any:
    return await cluster.kubectl("create", "-f", "-", stdin=yaml.safe_dump(data))


async def test_an_invalid_definition_is_refused_with_the_field_paths(cluster: RestCluster) -> None:
    group = unique_group("bad")
    crd = crontab_crd(group)
    crd["metadata"]["name"] = "crontabs.other.example.com"
    crd["spec"]["versions"].append(dict(crd["spec"]["versions"][0], name="v2"))
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "X", "type": "text", "jsonPath": "spec.x"}
    ]
    crd["spec"]["conversion"] = {"strategy": "Webhook"}
    ran = await kubectl_create(cluster, crd)
    assert ran.code == 1
    message = ran.err
    assert 'The CustomResourceDefinition "crontabs.other.example.com" is invalid' in message
    assert (
        'metadata.name: Invalid value: "crontabs.other.example.com": must be '
        'spec.names.plural+"."+spec.group'
    ) in message
    assert "must have exactly one version marked as storage version" in message
    assert (
        'spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "text": must be one '
        "of boolean,date,integer,number,string"
    ) in message
    assert (
        'spec.versions[0].additionalPrinterColumns[0].JSONPath: Invalid value: "spec.x": must '
        "be a simple json path starting with ."
    ) in message
    assert (
        "spec.conversion.webhookClientConfig: Required value: required when strategy is set to "
        "Webhook"
    ) in message
    # One version: its schema is validated as spec.validation's, as Kubernetes names it.
    structural = crontab_crd(group)
    structural["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"
    ]["image"] = {"description": "no type"}
    ran = await kubectl_create(cluster, structural)
    assert (
        "spec.validation.openAPIV3Schema.properties[spec].properties[image].type: Required "
        "value: must not be empty for specified object fields"
    ) in ran.err
    # The gRPC door: the same refusal.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.customresourcedefinitions.create(crd_message(structural))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "properties[image].type: Required value" in (refused.value.details() or "")


async def test_names_held_by_another_definition_are_not_accepted(cluster: RestCluster) -> None:
    group = unique_group("nm")
    first = two_version_crd(group)
    await install(cluster.grpc, first)
    second = two_version_crd(group)
    second["metadata"]["name"] = f"gadgets.{group}"
    second["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Widget"}
    await cluster.grpc.customresourcedefinitions.create(crd_message(second))

    async def conflict() -> Any:
        crd = await cluster.grpc.customresourcedefinitions.get(f"gadgets.{group}")
        found = definitions.condition(crd, definitions.NAMES_ACCEPTED)
        return crd if found is not None and found.status == "False" else None

    crd = await eventually(conflict, timeout=10, what="NamesAccepted False")
    accepted = definitions.condition(crd, definitions.NAMES_ACCEPTED)
    assert accepted is not None
    # Kind and list kind are both taken: the last conflict found is the one reported.
    assert (accepted.reason, accepted.message) == (
        "ListKindConflict",
        '"WidgetList" is already in use',
    )
    established_condition = definitions.condition(crd, definitions.ESTABLISHED)
    assert established_condition is not None
    assert (established_condition.status, established_condition.reason) == ("False", "NotAccepted")
    assert crd.status.accepted_names.plural == "gadgets"
    assert crd.status.accepted_names.kind == ""
    discovered = json.loads(await cluster.kubectl_ok("get", "--raw", f"/apis/{group}/v1"))
    assert [r["name"] for r in discovered["resources"]] == ["widgets"]

    await cluster.grpc.customresourcedefinitions.delete(f"widgets.{group}")
    accepted_later = await established(cluster.grpc, f"gadgets.{group}")
    assert accepted_later.status.accepted_names.kind == "Widget"


async def test_objects_are_json_in_etcd_in_the_storage_version(cluster: RestCluster) -> None:
    group = unique_group("st")
    await install(cluster.grpc, two_version_crd(group))
    beta = {
        "apiVersion": f"{group}/v1beta1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {"size": "s"},
    }
    await cluster.kubectl_ok("create", "-f", "-", stdin=yaml.safe_dump(beta))
    raw = cluster.etcd.etcdctl_bytes(
        "get", f"/registry/{group}/widgets/default/w", "--print-value-only"
    )
    stored = json.loads(raw)
    assert stored["apiVersion"] == f"{group}/v1"  # the storage version, whatever was written
    assert stored["kind"] == "Widget"
    assert stored["spec"] == {"size": "s"}
    assert "resourceVersion" not in stored["metadata"]

    # A new storage version: recorded with the old one, new writes stored in it.
    crd = two_version_crd(group)
    crd["spec"]["versions"][0]["storage"], crd["spec"]["versions"][1]["storage"] = True, False
    await cluster.kubectl_ok("apply", "-f", "-", stdin=yaml.safe_dump(crd))
    got = await cluster.grpc.customresourcedefinitions.get(f"widgets.{group}")
    assert list(got.status.stored_versions) == ["v1", "v1beta1"]

    async def stored_in_beta() -> bool:
        await cluster.kubectl_ok(
            "label",
            f"widgets.v1.{group}",
            "w",
            "--overwrite",
            f"round={asyncio.get_running_loop().time()}",
        )
        raw = cluster.etcd.etcdctl_bytes(
            "get", f"/registry/{group}/widgets/default/w", "--print-value-only"
        )
        return bool(json.loads(raw)["apiVersion"] == f"{group}/v1beta1")

    await eventually(stored_in_beta, timeout=10, what="stored as v1beta1")


async def test_rbac_decides_on_the_custom_plural_in_its_group(cluster: RestCluster) -> None:
    group = unique_group("rb")
    await install(cluster.grpc, crontab_crd(group))
    await cluster.kubectl_ok("create", "-f", "-", stdin=yaml.safe_dump(crontab(group, "x")))
    ran = await cluster.kubectl("get", f"crontabs.{group}", context="viewer")
    assert ran.code == 1
    assert (
        f'crontabs.{group} is forbidden: User "viewer" cannot list resource "crontabs" in API '
        f'group "{group}" in the namespace "default"'
    ) in ran.err
    role = f"crontab-reader-{group.split('.')[0]}"
    await cluster.kubectl_ok(
        "create", "clusterrole", role, "--verb=get,list,watch", f"--resource=crontabs.{group}"
    )
    await cluster.kubectl_ok(
        "create", "rolebinding", role, f"--clusterrole={role}", "--group=viewers", "-n", "default"
    )

    async def allowed() -> bool:
        ran = await cluster.kubectl("get", f"crontabs.{group}", "-o", "name", context="viewer")
        return ran.code == 0 and ran.out == f"crontab.{group}/x\n"

    await eventually(allowed, timeout=10, what="the viewer reading crontabs")
    ran = await cluster.kubectl("delete", f"crontab.{group}", "x", context="viewer")
    assert "cannot delete resource" in ran.err


async def test_the_grpc_door_refuses_what_the_rest_door_refuses(cluster: RestCluster) -> None:
    group = unique_group("par")
    await install(cluster.grpc, crontab_crd(group))
    ran = await kubectl_create(cluster, crontab(group, "rest", replicas=11))
    crontabs = cluster.grpc.custom_objects(group, "v1", "crontabs")
    obj = CustomObject(
        api_version=f"{group}/v1",
        kind="CronTab",
        metadata=meta_pb2.ObjectMeta(name="rest", namespace="default"),
        content=json.dumps({"spec": {"cronSpec": "* * * * *", "replicas": 11}}),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await crontabs.create(obj)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.value.details() or ""
    assert details.startswith(f'CronTab.{group} "rest" is invalid: ')
    # kubectl prints the kind without its group; the field errors are the same.
    assert details.partition(" is invalid: ")[2] == ran.err.strip().partition(" is invalid: ")[2]
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await cluster.grpc.custom_objects(group, "v9", "crontabs").get("x", "default")
    assert other.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_restarted_apiserver_serves_the_custom_resources_in_etcd(
    cluster: RestCluster,
) -> None:
    group = unique_group("rs")
    await install(cluster.grpc, crontab_crd(group))
    await cluster.kubectl_ok("create", "-f", "-", stdin=yaml.safe_dump(crontab(group, "kept")))
    await cluster.restart()
    got = json.loads(await cluster.kubectl_ok("get", f"crontabs.{group}", "kept", "-o", "json"))
    assert got["spec"] == {"cronSpec": "* * * * *", "replicas": 1}
    table = (await cluster.kubectl_ok("get", f"crontabs.{group}")).splitlines()
    assert table[0].split()[:3] == ["NAME", "SPEC", "REPLICAS"]
    await cluster.kubectl_ok("create", "-f", "-", stdin=yaml.safe_dump(crontab(group, "after")))
    listed = await cluster.grpc.custom_objects(group, "v1", "crontabs").list("default")
    assert sorted(o.metadata.name for o in listed.items) == ["after", "kept"]


async def test_custom_objects_have_managed_fields_by_their_schema(cluster: RestCluster) -> None:
    """Each write's manager owns the fields it set, spelled by the version's schema (a
    status write's entry names its subresource); server-side apply of a custom object is
    refused with a 415 that says so."""
    group = unique_group("mf")
    await install(cluster.grpc, crontab_crd(group))
    await kubectl_create(cluster, crontab(group, "owned", replicas=1))
    await cluster.kubectl_ok(
        "patch",
        f"crontabs.{group}",
        "owned",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"replicas": 1}}',
    )
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"crontabs.{group}", "owned", "-o", "json", "--show-managed-fields"
        )
    )
    entries = {e["manager"]: e for e in got["metadata"]["managedFields"]}
    assert set(entries) == {"kubectl-create", "kubectl-patch"}
    assert entries["kubectl-create"]["fieldsV1"] == {
        "f:spec": {".": {}, "f:cronSpec": {}, "f:replicas": {}}
    }
    status = entries["kubectl-patch"]
    assert status["subresource"] == "status"
    assert status["fieldsV1"] == {"f:status": {".": {}, "f:replicas": {}}}

    # An applier changing a field kubectl-create set conflicts with it, until it forces.
    changed = yaml.safe_dump(crontab(group, "owned", replicas=3))
    refused = await cluster.kubectl("apply", "--server-side", "-f", "-", stdin=changed)
    assert refused.code != 0
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using '
        f"{group}/v1: .spec.replicas"
    ) in refused.err
    await cluster.kubectl_ok(
        "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=changed
    )
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"crontabs.{group}", "owned", "-o", "json", "--show-managed-fields"
        )
    )
    assert got["spec"]["replicas"] == 3
    entries = {e["manager"]: e for e in got["metadata"]["managedFields"]}
    assert entries["kubectl"]["operation"] == "Apply"
    assert entries["kubectl"]["fieldsV1"] == {"f:spec": {"f:cronSpec": {}, "f:replicas": {}}}
    assert entries["kubectl-create"]["fieldsV1"] == {"f:spec": {".": {}, "f:cronSpec": {}}}


async def test_server_side_apply_of_a_custom_object_follows_its_schema(
    cluster: RestCluster,
) -> None:
    """kubectl apply --server-side creates and updates a custom object: the applier owns what
    it applied (not the schema's defaults), a second manager conflicts, the status subresource
    takes applies of its own, and a configuration the schema refuses is refused as Kubernetes
    refuses it (a field the schema does not declare, a value out of its bounds, a CEL rule)."""
    group = unique_group("ssa")
    await install(cluster.grpc, crontab_crd(group))

    async def apply(*flags: str, **spec: Any) -> Any:
        return await cluster.kubectl(
            "apply",
            "--server-side",
            *flags,
            "-f",
            "-",
            stdin=yaml.safe_dump(crontab(group, "applied", **spec)),
        )

    created = await apply(image="busybox")
    assert (created.code, created.out) == (0, f"crontab.{group}/applied serverside-applied\n")
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"crontabs.{group}", "applied", "-o", "json", "--show-managed-fields"
        )
    )
    assert got["spec"] == {"cronSpec": "* * * * *", "image": "busybox", "replicas": 1}
    [entry] = got["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == (
        "kubectl",
        "Apply",
        f"{group}/v1",
    )
    assert entry["fieldsV1"] == {"f:spec": {"f:cronSpec": {}, "f:image": {}}}

    other = await apply("--field-manager=other", image="nginx")
    assert other.code != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.image' in other.err

    unknown = await apply(image="busybox", bogus=1)
    assert unknown.code != 0
    assert (
        "Error from server (BadRequest): failed to create typed patch object (default/applied; "
        f"{group}/v1, Kind=CronTab): .spec.bogus: field not declared in schema"
    ) in unknown.err
    too_many = await apply(image="busybox", replicas=11)
    assert too_many.code != 0
    assert (
        'The CronTab "applied" is invalid: spec.replicas: Invalid value: 11: spec.replicas in '
        "body should be less than or equal to 10"
    ) in too_many.err
    forbidden = await apply(image="forbidden")
    assert forbidden.code != 0
    assert 'spec: Invalid value: "object": that image is not allowed' in forbidden.err

    status = yaml.safe_dump({**crontab(group, "applied"), "spec": None, "status": {"replicas": 2}})
    await cluster.kubectl_ok(
        "apply",
        "--server-side",
        "--subresource=status",
        "--field-manager=status-writer",
        "-f",
        "-",
        stdin=status,
    )
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"crontabs.{group}", "applied", "-o", "json", "--show-managed-fields"
        )
    )
    assert got["status"] == {"replicas": 2}
    assert got["spec"]["image"] == "busybox"
    owners = {
        e["manager"]: (e.get("subresource", ""), e["fieldsV1"])
        for e in got["metadata"]["managedFields"]
    }
    assert owners["status-writer"] == ("status", {"f:status": {"f:replicas": {}}})


async def test_a_scale_applied_to_a_custom_objects_scale_owns_its_replicas_path(
    cluster: RestCluster,
) -> None:
    """The definition's specReplicasPath is what a Scale applied to the scale subresource
    owns (the official client's CustomObjectsApi sends it)."""
    group = unique_group("sc")
    await install(cluster.grpc, crontab_crd(group))
    await kubectl_create(cluster, crontab(group, "scaled"))
    api = k8s.CustomObjectsApi(cluster.api_client())
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "scaled"},
        "spec": {"replicas": 4},
    }
    answered = await in_thread(
        api.patch_namespaced_custom_object_scale,
        group,
        "v1",
        "default",
        "crontabs",
        "scaled",
        scale,
        field_manager="autoscaler",
        force=True,
        _content_type="application/apply-patch+yaml",
    )
    assert answered["spec"] == {"replicas": 4}
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"crontabs.{group}", "scaled", "-o", "json", "--show-managed-fields"
        )
    )
    assert got["spec"]["replicas"] == 4
    owners = {
        (e["manager"], e["operation"], e.get("subresource", "")): e["fieldsV1"]
        for e in got["metadata"]["managedFields"]
    }
    assert owners["autoscaler", "Apply", "scale"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["kubectl-create", "Update", ""]["f:spec"]


async def test_the_managers_of_each_served_version_are_kept(cluster: RestCluster) -> None:
    """A definition serving two versions (conversion None): an applier through one version
    conflicts with the other's, and a write through one keeps the other's managers."""
    group = unique_group("mv")
    await install(cluster.grpc, two_version_crd(group))

    def widget(version: str, size: str) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": f"{group}/{version}",
                "kind": "Widget",
                "metadata": {"name": "w"},
                "spec": {"size": size},
            }
        )

    await cluster.kubectl_ok(
        "apply", "--server-side", "--field-manager=one", "-f", "-", stdin=widget("v1", "big")
    )
    refused = await cluster.kubectl(
        "apply", "--server-side", "--field-manager=two", "-f", "-", stdin=widget("v1beta1", "small")
    )
    assert refused.code != 0
    assert 'conflict with "one": .spec.size' in refused.err
    await cluster.kubectl_ok("label", f"widgets.v1beta1.{group}", "w", "tier=gold")
    got = json.loads(
        await cluster.kubectl_ok(
            "get", f"widgets.v1.{group}", "w", "-o", "json", "--show-managed-fields"
        )
    )
    assert [(e["manager"], e["apiVersion"]) for e in got["metadata"]["managedFields"]] == [
        ("one", f"{group}/v1"),
        ("kubectl-label", f"{group}/v1beta1"),
    ]
