"""Custom resources with the real kubectl against the real apiserver and etcd, as Kubernetes'
documentation walks through them: apply a CustomResourceDefinition, then objects of its kind;
`kubectl get` prints the version's printer columns, `kubectl get all` its "all" category,
`kubectl explain` its schema's descriptions; an unknown field is refused with --validate=strict
and an invalid value with the schema's field path (422); the scale and status subresources,
merge and JSON patches (strategic merge is refused as Kubernetes refuses it), label and field
selectors, a cluster-scoped kind, a kind with a deprecated version, and the deletion of a
definition, which deletes its objects first."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml

from tests.integration.custom_resources import (
    cluster_crd,
    crontab_crd,
    established,
    two_version_crd,
    unique_group,
)
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("crd-kubectl")) as c:
        yield c


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


async def apply(cluster: RestCluster, data: dict[str, Any], *args: str) -> str:
    return await cluster.kubectl_ok("apply", *args, "-f", "-", stdin=yaml.safe_dump(data))


async def crontabs(cluster: RestCluster) -> str:
    """A CronTab definition of a group of its own, established; its group."""
    group = unique_group("ct")
    out = await apply(cluster, crontab_crd(group))
    assert out == f"customresourcedefinition.apiextensions.k8s.io/crontabs.{group} created\n"
    await established(cluster.grpc, f"crontabs.{group}")
    return group


def crontab(group: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "CronTab",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", **spec},
    }


async def test_a_definition_is_established_and_its_kind_is_served(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    crd = json.loads(await cluster.kubectl_ok("get", "crd", f"crontabs.{group}", "-o", "json"))
    conditions = {c["type"]: c for c in crd["status"]["conditions"]}
    assert conditions["NamesAccepted"]["reason"] == "NoConflicts"
    assert conditions["Established"]["status"] == "True"
    assert conditions["Established"]["reason"] == "InitialNamesAccepted"
    assert crd["status"]["acceptedNames"]["shortNames"] == ["ct"]
    assert crd["status"]["storedVersions"] == ["v1"]
    listed = (await cluster.kubectl_ok("get", "crd")).splitlines()
    assert columns(listed[0]) == ["NAME", "CREATED AT"]
    assert any(line.startswith(f"crontabs.{group} ") for line in listed)
    resources = await cluster.kubectl_ok("api-resources", f"--api-group={group}")
    assert columns(resources.splitlines()[1]) == [
        "crontabs",
        "ct",
        f"{group}/v1",
        "true",
        "CronTab",
    ]

    out = await apply(cluster, crontab(group, "my-new-cron-object"))
    assert out == f"crontab.{group}/my-new-cron-object created\n"
    got = yaml.safe_load(
        await cluster.kubectl_ok("get", f"crontab.{group}", "my-new-cron-object", "-o", "yaml")
    )
    assert got["apiVersion"] == f"{group}/v1"
    assert got["kind"] == "CronTab"
    assert got["spec"] == {
        "cronSpec": "* * * * */5",
        "image": "my-awesome-cron-image",
        "replicas": 1,  # the schema's default
    }
    assert got["metadata"]["generation"] == 1
    assert "status" not in got


async def test_get_prints_the_printer_columns_and_all_lists_the_category(
    cluster: RestCluster,
) -> None:
    group = await crontabs(cluster)
    await apply(cluster, crontab(group, "nightly", replicas=3))
    table = (await cluster.kubectl_ok("get", f"crontabs.{group}")).splitlines()
    assert columns(table[0]) == ["NAME", "SPEC", "REPLICAS", "AGE"]
    assert columns(table[1])[:3] == ["nightly", "* * * * */5", "3"]
    wide = (await cluster.kubectl_ok("get", f"ct.{group}", "-o", "wide")).splitlines()
    assert columns(wide[0]) == ["NAME", "SPEC", "REPLICAS", "IMAGE", "AGE"]
    assert columns(wide[1])[3] == "my-awesome-cron-image"
    everything = await cluster.kubectl_ok("get", "all")
    assert f"crontab.{group}/nightly" in everything


async def test_explain_prints_the_schema(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    out = await cluster.kubectl_ok("explain", "crontabs.spec", f"--api-version={group}/v1")
    assert "KIND:       CronTab" in out
    assert f"GROUP:      {group}" in out
    assert "What runs and when." in out
    assert "cronSpec\t<string> -required-" in out
    assert "When it runs, in cron syntax." in out
    crd = await cluster.kubectl_ok("explain", "customresourcedefinition.spec.versions.schema")
    assert "openAPIV3Schema\t<JSONSchemaProps>" in crd


async def test_strict_validation_and_schema_errors(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    typo = crontab(group, "typo")
    typo["spec"]["imagee"] = typo["spec"].pop("image")
    ran = await cluster.kubectl("apply", "--validate=strict", "-f", "-", stdin=yaml.safe_dump(typo))
    assert ran.code == 1
    assert (
        'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: '
        'unknown field "spec.imagee"'
    ) in ran.err
    # The default (Warn) drops it and says so.
    ran = await cluster.kubectl("apply", "--validate=warn", "-f", "-", stdin=yaml.safe_dump(typo))
    assert ran.code == 0, ran.err
    assert 'unknown field "spec.imagee"' in ran.err
    stored = json.loads(await cluster.kubectl_ok("get", f"ct.{group}", "typo", "-o", "json"))
    assert "imagee" not in stored["spec"]

    ran = await cluster.kubectl(
        "apply", "-f", "-", stdin=yaml.safe_dump(crontab(group, "big", replicas=20))
    )
    assert ran.code == 1
    assert ran.err.strip() == (
        'The CronTab "big" is invalid: spec.replicas: Invalid value: 20: spec.replicas in body '
        "should be less than or equal to 10"
    )
    no_spec = crontab(group, "nospec")
    del no_spec["spec"]["cronSpec"]
    ran = await cluster.kubectl("create", "-f", "-", stdin=yaml.safe_dump(no_spec))
    assert "spec.cronSpec: Required value" in ran.err
    wrong = crontab(group, "wrong", replicas="three")
    ran = await cluster.kubectl("create", "-f", "-", stdin=yaml.safe_dump(wrong))
    assert (
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: '
        '"string"'
    ) in ran.err
    # The scale subresource reads replicas there: unstructured's accessor error, as Kubernetes.
    assert (
        ".spec.replicas: Invalid value: 0: .spec.replicas accessor error: three is of the type "
        "string, expected int64"
    ) in ran.err
    ran = await cluster.kubectl(
        "create", "-f", "-", stdin=yaml.safe_dump(crontab(group, "cel", image="forbidden"))
    )
    assert 'spec: Invalid value: "object": that image is not allowed' in ran.err  # CEL


async def test_scale_status_and_patches(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    await apply(cluster, crontab(group, "web"))
    resource = f"ct.{group}/web"
    assert await cluster.kubectl_ok("scale", resource, "--replicas=4") == (
        f"crontab.{group}/web scaled\n"
    )
    got = json.loads(await cluster.kubectl_ok("get", resource, "-o", "json"))
    assert got["spec"]["replicas"] == 4
    assert got["metadata"]["generation"] == 2
    # The status subresource: main updates leave status alone, status writes only status.
    await cluster.kubectl_ok(
        "patch",
        resource,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"replicas":4,"selector":"app=web"},"spec":{"image":"ignored"}}',
    )
    got = json.loads(await cluster.kubectl_ok("get", resource, "-o", "json"))
    assert got["status"] == {"replicas": 4, "selector": "app=web"}
    assert got["spec"]["image"] == "my-awesome-cron-image"
    assert got["metadata"]["generation"] == 2  # status moves no generation
    await cluster.kubectl_ok(
        "patch", resource, "--type=merge", "-p", '{"status":{"replicas":9},"spec":{"suspend":true}}'
    )
    got = json.loads(await cluster.kubectl_ok("get", resource, "-o", "json"))
    assert got["status"]["replicas"] == 4
    assert got["spec"]["suspend"] is True
    assert got["metadata"]["generation"] == 3
    scale = json.loads(
        await cluster.kubectl_ok(
            "get", "--raw", f"/apis/{group}/v1/namespaces/default/crontabs/web/scale"
        )
    )
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 4, "selector": "app=web"}
    await cluster.kubectl_ok(
        "patch",
        resource,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/image","value":"v2"}]',
    )
    ran = await cluster.kubectl("patch", resource, "-p", '{"spec":{"image":"v3"}}')
    assert ran.code == 1
    assert (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    ) in ran.err
    assert (
        json.loads(await cluster.kubectl_ok("get", resource, "-o", "json"))["spec"]["image"] == "v2"
    )


async def test_label_and_field_selectors(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    await apply(cluster, crontab(group, "a", image="one"))
    await apply(cluster, crontab(group, "b", image="two"))
    kind = f"crontabs.{group}"
    assert (
        await cluster.kubectl_ok("get", kind, "-l", "app=a", "-o", "name") == f"crontab.{group}/a\n"
    )
    assert (
        await cluster.kubectl_ok("get", kind, "--field-selector", "spec.image=two", "-o", "name")
        == f"crontab.{group}/b\n"
    )
    assert (
        await cluster.kubectl_ok("get", kind, "--field-selector", "metadata.name=a", "-o", "name")
        == f"crontab.{group}/a\n"
    )
    ran = await cluster.kubectl("get", kind, "--field-selector", "spec.cronSpec=x")
    assert ran.code == 1
    assert '"spec.cronSpec" is not a known field selector' in ran.err or "not supported" in ran.err


async def test_a_cluster_scoped_kind(cluster: RestCluster) -> None:
    group = unique_group("rg")
    await apply(cluster, cluster_crd(group))
    await established(cluster.grpc, f"regions.{group}")
    region = {
        "apiVersion": f"{group}/v1",
        "kind": "Region",
        "metadata": {"name": "eu"},
        "spec": {"zones": ["a", "b"]},
    }
    assert await apply(cluster, region) == f"region.{group}/eu created\n"
    table = (await cluster.kubectl_ok("get", f"regions.{group}")).splitlines()
    assert columns(table[0]) == ["NAME", "AGE"]
    assert columns(table[1])[0] == "eu"
    got = json.loads(await cluster.kubectl_ok("get", f"region.{group}", "eu", "-o", "json"))
    assert "namespace" not in got["metadata"]
    assert got["spec"]["zones"] == ["a", "b"]
    ran = await cluster.kubectl("get", "--raw", f"/apis/{group}/v1/namespaces/default/regions/eu")
    assert ran.code == 1 and "NotFound" in ran.err


async def test_two_versions_and_a_deprecated_one(cluster: RestCluster) -> None:
    group = unique_group("wd")
    await apply(cluster, two_version_crd(group))
    await established(cluster.grpc, f"widgets.{group}")
    beta = {
        "apiVersion": f"{group}/v1beta1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": "big"},
    }
    ran = await cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(beta))
    assert ran.code == 0, ran.err
    assert f"Warning: {group}/v1beta1 Widget is deprecated; use {group}/v1 Widget" in ran.err
    # Conversion None: the same object in either version, only its apiVersion differs.
    v1 = json.loads(
        await cluster.kubectl_ok("get", "--raw", f"/apis/{group}/v1/namespaces/default/widgets/w")
    )
    assert v1["apiVersion"] == f"{group}/v1"
    assert v1["spec"] == {"size": "big"}
    ran = await cluster.kubectl(
        "get", "--raw", f"/apis/{group}/v1beta1/namespaces/default/widgets/w"
    )
    assert json.loads(ran.out)["apiVersion"] == f"{group}/v1beta1"
    group_doc = json.loads(await cluster.kubectl_ok("get", "--raw", f"/apis/{group}"))
    assert group_doc["preferredVersion"]["version"] == "v1"
    assert [v["version"] for v in group_doc["versions"]] == ["v1", "v1beta1"]

    # No longer served: its path is gone, the other version still serves the object.
    crd = two_version_crd(group)
    crd["spec"]["versions"][0]["served"] = False
    await apply(cluster, crd)

    async def unserved() -> bool:
        ran = await cluster.kubectl(
            "get", "--raw", f"/apis/{group}/v1beta1/namespaces/default/widgets/w"
        )
        return ran.code == 1 and "NotFound" in ran.err

    await eventually(unserved, timeout=10, what="v1beta1 unserved")
    assert (
        await cluster.kubectl_ok("get", f"widgets.v1.{group}", "-o", "name")
        == f"widget.{group}/w\n"
    )


async def test_deleting_a_definition_deletes_its_objects_first(cluster: RestCluster) -> None:
    group = await crontabs(cluster)
    await cluster.kubectl_ok("create", "namespace", f"del-{group.split('.')[0]}")
    for name in ("one", "two"):
        await apply(cluster, crontab(group, name))
    held = crontab(group, "held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await apply(cluster, held)
    crd_name = f"crontabs.{group}"
    ran = await cluster.kubectl("delete", "crd", crd_name, "--wait=false")
    assert ran.out == f'customresourcedefinition.apiextensions.k8s.io "{crd_name}" deleted\n'

    async def terminating() -> dict[str, Any] | None:
        crd = json.loads(await cluster.kubectl_ok("get", "crd", crd_name, "-o", "json"))
        conditions = {c["type"]: c for c in crd["status"]["conditions"]}
        t = conditions.get("Terminating")
        return crd if t and t["reason"] == "InstanceDeletionInProgress" else None

    crd = await eventually(terminating, timeout=10, what="Terminating")
    assert "customresourcecleanup.apiextensions.k8s.io" in crd["metadata"]["finalizers"]
    # The objects without finalizers are gone; the held one is being deleted.
    left = json.loads(await cluster.kubectl_ok("get", f"crontabs.{group}", "-o", "json"))["items"]
    assert [o["metadata"]["name"] for o in left] == ["held"]
    assert left[0]["metadata"]["deletionTimestamp"]
    ran = await cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(crontab(group, "late")))
    assert "create not allowed while custom resource definition is terminating" in ran.err
    await cluster.kubectl_ok(
        "patch", f"crontab.{group}/held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}'
    )

    async def gone() -> bool:
        ran = await cluster.kubectl("get", "crd", crd_name)
        return ran.code == 1 and "NotFound" in ran.err

    await eventually(gone, timeout=15, what=f"{crd_name} deleted")

    async def not_served() -> bool:
        ran = await cluster.kubectl("get", "--raw", f"/apis/{group}/v1/crontabs")
        return ran.code == 1 and "NotFound" in ran.err

    await eventually(not_served, timeout=10, what=f"/apis/{group}/v1 no longer served")


async def test_openapi_v2_in_protobuf_for_kubectl(cluster: RestCluster) -> None:
    """kubectl asks /openapi/v2 for gnostic's protobuf (its validation of a kind OpenAPI v3 does
    not know, explain's v2 output): it reads what it is sent, every kind's and the CRDs'."""
    unknown = {"apiVersion": "nothing.example.com/v1", "kind": "Nothing", "metadata": {"name": "x"}}
    ran = await cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(unknown))
    assert ran.code == 1
    assert (
        'no matches for kind "Nothing" in version "nothing.example.com/v1"\n'
        "ensure CRDs are installed first"
    ) in ran.err
    group = await crontabs(cluster)
    out = await cluster.kubectl_ok(
        "explain", "crontabs.spec", f"--api-version={group}/v1", "--output=plaintext-openapiv2"
    )
    assert "KIND:     CronTab" in out
    assert "What runs and when." in out
    pods = await cluster.kubectl_ok("explain", "pods.spec.os", "--output=plaintext-openapiv2")
    assert "RESOURCE: os <Object>" in pods
