"""APIServices (apiregistration.k8s.io/v1) end to end on the real apiserver over real etcd, with
the official Python client, kubectl and the gRPC client: every built-in group/version has its
Local APIService, Available, with Kubernetes' priorities and the automanaged label; a
CustomResourceDefinition's served version gets one while the definition is there; a deleted
Local APIService comes back; a user's APIService naming a service is stored, defaulted and
validated, its Available condition the aggregator's controller's, and read back the same at both
doors; discovery and kubectl explain show the kind; an onstart APIService's spec is set back
at the next start."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import apidiscovery
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.support import EtcdProcess, eventually

AGGREGATED_DISCOVERY = apidiscovery.media_type("v2")
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
# Kubernetes' table: (groupPriorityMinimum, versionPriority) of the groups podplane serves.
BUILT_IN = {
    "v1.": ("", 18000, 1),
    "v1.apps": ("apps", 17800, 15),
    "v1.authentication.k8s.io": ("authentication.k8s.io", 17700, 15),
    "v1.authorization.k8s.io": ("authorization.k8s.io", 17600, 15),
    "v1.batch": ("batch", 17400, 15),
    "v1.certificates.k8s.io": ("certificates.k8s.io", 17300, 15),
    "v1.policy": ("policy", 17100, 15),
    "v1.rbac.authorization.k8s.io": ("rbac.authorization.k8s.io", 17000, 15),
    "v1.storage.k8s.io": ("storage.k8s.io", 16800, 15),
    "v1.apiextensions.k8s.io": ("apiextensions.k8s.io", 16700, 15),
    "v1.scheduling.k8s.io": ("scheduling.k8s.io", 16600, 15),
    "v1.coordination.k8s.io": ("coordination.k8s.io", 16500, 15),
    "v1.node.k8s.io": ("node.k8s.io", 16300, 15),
    "v1.discovery.k8s.io": ("discovery.k8s.io", 16200, 15),
}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("apiservices")) as c:
        yield c


def api(cluster: RestCluster) -> k8s.ApiregistrationV1Api:
    return k8s.ApiregistrationV1Api(cluster.api_client())


async def listed(cluster: RestCluster) -> dict[str, Any]:
    answer = await in_thread(api(cluster).list_api_service)
    return {item.metadata.name: item for item in answer.items}


async def read(cluster: RestCluster, name: str) -> Any:
    try:
        return await in_thread(api(cluster).read_api_service, name)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def available(item: Any) -> tuple[str, str, str]:
    [condition] = item.status.conditions
    assert condition.type == "Available"
    return condition.status, condition.reason, condition.message


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


async def kubectl_rows(cluster: RestCluster) -> dict[str, list[str]]:
    header, *rows = (await cluster.kubectl_ok("get", "apiservices")).splitlines()
    assert columns(header) == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    return {columns(row)[0]: columns(row) for row in rows}


async def test_every_built_in_group_version_is_a_local_available_api_service(
    cluster: RestCluster,
) -> None:
    async def all_there() -> dict[str, Any] | None:
        items = await listed(cluster)
        return items if BUILT_IN.keys() <= items.keys() else None

    items = await eventually(all_there, timeout=20, what="the built-in APIServices")
    for name, (group, group_priority, version_priority) in BUILT_IN.items():
        item = items[name]
        assert item.metadata.labels == {AUTOMANAGED: "onstart"}, name
        assert item.spec.service is None, name
        assert (item.spec.group or "", item.spec.version) == (group, "v1"), name
        assert (item.spec.group_priority_minimum, item.spec.version_priority) == (
            group_priority,
            version_priority,
        ), name
        assert available(item) == ("True", "Local", "Local APIServices are always available")
    # As Kubernetes writes a local one: its service null, no empty group.
    raw = yaml.safe_load(await cluster.kubectl_ok("get", "apiservice", "v1.", "-o", "yaml"))
    assert raw["spec"] == {
        "groupPriorityMinimum": 18000,
        "service": None,
        "version": "v1",
        "versionPriority": 1,
    }
    rows = await kubectl_rows(cluster)
    assert rows["v1.apps"][1:3] == ["Local", "True"]
    assert rows["v1."][1:3] == ["Local", "True"]


def definition(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": version,
                    "served": served,
                    "storage": version == "v1",
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
                for version, served in (("v1", True), ("v2", False))
            ],
        },
    }


async def test_a_definitions_served_versions_come_and_go_with_it(cluster: RestCluster) -> None:
    group = f"w{uuid.uuid4().hex[:6]}.example.com"
    name = f"v1.{group}"
    await cluster.kubectl_ok("apply", "-f", "-", stdin=yaml.safe_dump(definition(group)))

    async def registered() -> Any:
        return await read(cluster, name)

    item = await eventually(registered, timeout=20, what=f"APIService {name}")
    assert item.metadata.labels == {AUTOMANAGED: "true"}
    assert (item.spec.group, item.spec.version, item.spec.service) == (group, "v1", None)
    assert (item.spec.group_priority_minimum, item.spec.version_priority) == (1000, 100)
    assert available(item) == ("True", "Local", "Local APIServices are always available")
    assert await read(cluster, f"v2.{group}") is None  # not served

    await cluster.kubectl_ok("delete", "crd", f"widgets.{group}")

    async def gone() -> bool:
        return await read(cluster, name) is None

    await eventually(gone, timeout=20, what=f"APIService {name} deleted")


async def test_a_deleted_local_api_service_comes_back(cluster: RestCluster) -> None:
    before = await eventually(lambda: read(cluster, "v1.batch"), timeout=20, what="v1.batch")
    await in_thread(api(cluster).delete_api_service, "v1.batch")

    async def recreated() -> Any:
        item = await read(cluster, "v1.batch")
        return item if item is not None and item.metadata.uid != before.metadata.uid else None

    again = await eventually(recreated, timeout=20, what="v1.batch recreated")
    assert again.metadata.labels == {AUTOMANAGED: "onstart"}
    assert (again.spec.group_priority_minimum, again.spec.version_priority) == (17400, 15)
    assert available(again) == ("True", "Local", "Local APIServices are always available")


async def test_a_users_api_service_with_a_service_is_stored_at_both_doors(
    cluster: RestCluster,
) -> None:
    body = k8s.V1APIService(
        metadata=k8s.V1ObjectMeta(name="v1beta1.metrics.example.com"),
        spec=k8s.V1APIServiceSpec(
            group="metrics.example.com",
            version="v1beta1",
            group_priority_minimum=100,
            version_priority=100,
            service=k8s.ApiregistrationV1ServiceReference(namespace="monitoring", name="metrics"),
            insecure_skip_tls_verify=True,
        ),
    )
    created = await in_thread(api(cluster).create_api_service, body)
    # The port defaulted; no Available condition until the availability controller has looked.
    assert created.spec.service.port == 443
    assert created.status.conditions is None
    over_grpc = await cluster.grpc.apiservices.get("v1beta1.metrics.example.com")
    assert over_grpc.spec.service == apiregistration_pb2.ServiceReference(
        namespace="monitoring", name="metrics", port=443
    )
    assert (over_grpc.spec.insecure_skip_tls_verify, over_grpc.metadata.uid) == (
        True,
        created.metadata.uid,
    )
    # The aggregator's controller finds no Service (available_controller.go's ServiceNotFound).
    not_found = ("False", "ServiceNotFound", 'service/metrics in "monitoring" is not present')

    async def checked() -> bool:
        item = await read(cluster, "v1beta1.metrics.example.com")
        return item.status.conditions is not None and available(item) == not_found

    await eventually(checked, timeout=20, what="the controller's ServiceNotFound")
    rows = await kubectl_rows(cluster)
    assert rows["v1beta1.metrics.example.com"][1:3] == [
        "monitoring/metrics",
        "False (ServiceNotFound)",
    ]
    # A status written through the subresource is checked again and set back, as Kubernetes'
    # controller does on every change.
    status = {
        "status": {
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "Passed",
                    "message": "all checks passed",
                }
            ]
        }
    }
    await in_thread(api(cluster).patch_api_service_status, "v1beta1.metrics.example.com", status)
    await eventually(checked, timeout=20, what="ServiceNotFound again")

    # Through gRPC, read back through REST; the autoregister loop leaves a user's alone.
    mine = apiregistration_pb2.APIService(
        metadata=meta_pb2.ObjectMeta(name="v1.custom.example.com"),
        spec=apiregistration_pb2.APIServiceSpec(
            group="custom.example.com",
            version="v1",
            group_priority_minimum=2000,
            version_priority=20,
            service=apiregistration_pb2.ServiceReference(namespace="apps", name="api", port=8443),
        ),
    )
    await cluster.grpc.apiservices.create(mine)
    read_back = await read(cluster, "v1.custom.example.com")
    assert (read_back.spec.service.namespace, read_back.spec.service.port) == ("apps", 8443)
    assert read_back.spec.group_priority_minimum == 2000

    # While an aggregated API is unavailable, aggregated discovery (what kubectl asks for)
    # lists its group/version Stale, with no resources, as Kubernetes' aggregator does; the
    # official client reads it; kubectl leaves it out of what it lists.
    async def both_stale() -> bool:
        code, document = await in_thread(
            raw_request, cluster.api_client(), "GET", "/apis", accept=AGGREGATED_DISCOVERY
        )
        versions = {g["metadata"].get("name"): g["versions"] for g in document["items"]}
        return code == 200 and (
            versions.get("metrics.example.com"),
            versions.get("custom.example.com"),
        ) == (
            [{"version": "v1beta1", "freshness": "Stale"}],
            [{"version": "v1", "freshness": "Stale"}],
        )

    await eventually(both_stale, timeout=20, what="both aggregated APIs Stale in discovery")
    listed = (await cluster.kubectl_ok("api-resources", "-o", "name")).split()
    assert "apiservices.apiregistration.k8s.io" in listed
    assert not [n for n in listed if n.endswith((".metrics.example.com", ".custom.example.com"))]
    await cluster.kubectl_ok(
        "delete", "apiservice", "v1beta1.metrics.example.com", "v1.custom.example.com"
    )


async def test_bad_api_services_are_refused_naming_the_field(cluster: RestCluster) -> None:
    manifest = yaml.safe_dump(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1.wrong.example.com"},
            "spec": {
                "group": "bad.example.com",
                "version": "v1",
                "groupPriorityMinimum": 0,
                "versionPriority": 10,
            },
        }
    )
    ran = await cluster.kubectl("create", "-f", "-", stdin=manifest)
    assert ran.code == 1
    assert ran.err == (
        'The APIService "v1.wrong.example.com" is invalid: \n'
        '* metadata.name: Invalid value: "v1.wrong.example.com": must be '
        '`spec.version+"."+spec.group`: "v1.bad.example.com"\n'
        "* spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000\n"
    )


async def test_discovery_lists_the_kind_and_kubectl_explain_describes_its_spec(
    cluster: RestCluster,
) -> None:
    listed = await cluster.kubectl_ok("api-resources", "--api-group=apiregistration.k8s.io")
    header, row = listed.splitlines()
    assert columns(header) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert row.split() == ["apiservices", "apiregistration.k8s.io/v1", "false", "APIService"]
    extensions = await cluster.kubectl_ok("get", "api-extensions", "-o", "name")
    assert "apiservice.apiregistration.k8s.io/v1.apps" in extensions.split()
    out = await cluster.kubectl_ok("explain", "apiservice.spec")
    assert "GROUP:      apiregistration.k8s.io" in out
    assert "groupPriorityMinimum\t<integer> -required-" in out
    assert "service\t<ServiceReference>" in out


async def test_a_changed_onstart_spec_is_left_until_the_next_start_then_set_back(
    cluster: RestCluster,
) -> None:
    """Run last: it restarts the apiserver."""
    item = await eventually(lambda: read(cluster, "v1.apps"), timeout=20, what="v1.apps")
    item.spec.version_priority = 3
    await in_thread(api(cluster).replace_api_service, "v1.apps", item)
    assert (await read(cluster, "v1.apps")).spec.version_priority == 3
    await cluster.restart()

    async def set_back() -> Any:
        again = await read(cluster, "v1.apps")
        return again if again.spec.version_priority == 15 else None

    again = await eventually(set_back, timeout=20, what="v1.apps set back at start")
    assert again.metadata.uid == item.metadata.uid  # updated, not created again
    assert again.spec.group_priority_minimum == 17800
