"""The pods/eviction subresource at both doors of the real apiserver over real etcd, with the real
disruption controller keeping the budgets' status: the official Python client's
create_namespaced_pod_eviction and podplane's gRPC client evict through one registry; a budget
that allows no disruption refuses with Kubernetes' 429 Status, byte for byte; a spent disruption
is recorded in the budget and the pod marked DisruptionTarget before its graceful deletion."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.client.clientset import status_code
from tests.integration.disruption_support import (
    budget,
    disruption_controller,
    gone,
    ready_pod,
    settled,
)
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, new_namespace


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("eviction")) as c:
        async with disruption_controller(c.grpc):
            yield c


@pytest.fixture(scope="module")
def core(cluster: RestCluster) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(cluster.api_client())


def eviction(ns: str, name: str, api_version: str = "policy/v1", **delete: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": ns},
    }
    if delete:
        body["deleteOptions"] = delete
    return body


def post_raw(
    cluster: RestCluster, ns: str, name: str, body: dict[str, Any], query: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """POST pods/<name>/eviction with the official client's connection: the code, the headers
    and the body's bytes as sent."""
    api = cluster.api_client()
    params = api.param_serialize(
        "POST",
        f"/api/v1/namespaces/{ns}/pods/{name}/eviction{query}",
        header_params={"Accept": "application/json", "Content-Type": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    response: Any = api.call_api(*params)
    return response.status, dict(response.getheaders()), response.read()


async def evict_rest(core: k8s.CoreV1Api, ns: str, name: str) -> Any:
    return await in_thread(core.create_namespaced_pod_eviction, name, ns, eviction(ns, name))


async def test_without_a_budget_both_doors_delete_the_pod(
    cluster: RestCluster, core: k8s.CoreV1Api
) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    await ready_pod(cluster.grpc, ns, "a")
    await ready_pod(cluster.grpc, ns, "b")
    code, _, body = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a"))
    assert code == 201
    assert json.loads(body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }
    assert await gone(cluster.grpc, ns, "a")
    await cluster.grpc.evict(ns, "b")
    assert await gone(cluster.grpc, ns, "b")


async def test_a_budget_at_its_minimum_refuses_with_kubernetes_status(
    cluster: RestCluster, core: k8s.CoreV1Api
) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    for name in ("a", "b"):
        await ready_pod(cluster.grpc, ns, name)
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=2))
    await settled(cluster.grpc, ns, allowed=0, healthy=2)

    code, headers, body = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a"))
    assert code == 429
    assert "Retry-After" not in headers  # kubectl drain waits its own 5 s
    assert body.rstrip(b"\n") == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Cannot evict pod as it would violate the pod\'s disruption budget.",'
        b'"reason":"TooManyRequests","details":{"causes":[{"reason":"DisruptionBudget",'
        b'"message":"The disruption budget web needs 2 healthy pods and has 2 currently"}]},'
        b'"code":429}'
    )
    with pytest.raises(ApiException) as refused:
        await evict_rest(core, ns, "a")
    assert refused.value.status == 429

    with pytest.raises(grpc.aio.AioRpcError) as grpc_refused:
        await cluster.grpc.evict(ns, "b")
    assert status_code(grpc_refused.value) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert grpc_refused.value.details() == (
        "Cannot evict pod as it would violate the pod's disruption budget."
    )
    assert not await gone(cluster.grpc, ns, "a") and not await gone(cluster.grpc, ns, "b")


async def test_an_eviction_spends_a_disruption_and_marks_the_pod(
    cluster: RestCluster, core: k8s.CoreV1Api
) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    for name in ("a", "b", "c"):
        await ready_pod(cluster.grpc, ns, name, node="node-x")
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=2))
    pdb = await settled(cluster.grpc, ns, allowed=1, healthy=3)
    # The budget's writes from here on: the eviction's, then the controller's once it sees the
    # pod terminating (which ends its record in disruptedPods).
    watch = cluster.grpc.poddisruptionbudgets.watch(
        ns, resource_version=pdb.metadata.resource_version
    )

    await evict_rest(core, ns, "a")  # answers the Status, read into a V1Eviction (its OpenAPI)

    async def recorded() -> policy_pb2.PodDisruptionBudget:
        async for event in watch:
            if "a" in event.object.status.disrupted_pods:
                return event.object
        raise AssertionError("the watch ended")

    async with asyncio.timeout(10):
        spent = await recorded()
    watch.cancel()
    assert spent.status.disruptions_allowed == 0
    assert list(spent.status.disrupted_pods) == ["a"]
    assert [(c.type, c.status, c.reason) for c in spent.status.conditions] == [
        ("DisruptionAllowed", "False", "InsufficientPods")
    ]
    # The pod runs on a node: it terminates there (here: no kubelet, it stays terminating),
    # marked as the target of a disruption.
    pod = await cluster.grpc.pods.get("a", ns)
    assert pod.metadata.deletion_timestamp
    (target,) = [c for c in pod.status.conditions if c.type == "DisruptionTarget"]
    assert (target.status, target.reason, target.message) == (
        "True",
        "EvictionByEvictionAPI",
        "Eviction API: evicting",
    )
    # The controller stops counting it: the budget is at its minimum, the next one refused.
    await settled(cluster.grpc, ns, allowed=0, healthy=2)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.evict(ns, "b")
    assert status_code(refused.value) == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_unhealthy_pods_go_as_their_budgets_policy_says(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    for name in ("a", "b"):
        await ready_pod(cluster.grpc, ns, name)
    await ready_pod(cluster.grpc, ns, "sick", ready=False)
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=2))
    await settled(cluster.grpc, ns, allowed=0, healthy=2)
    # IfHealthyBudget (the default): the budget is met without it, it may go for free.
    await cluster.grpc.evict(ns, "sick")
    assert await gone(cluster.grpc, ns, "sick")
    assert (await cluster.grpc.poddisruptionbudgets.get("web", ns)).status.disrupted_pods == {}

    # Below the budget, an unhealthy pod stays under IfHealthyBudget, goes under AlwaysAllow.
    await ready_pod(cluster.grpc, ns, "sick", ready=False)
    await ready_pod(cluster.grpc, ns, "ill", ready=False, app="db")
    await ready_pod(cluster.grpc, ns, "db", app="db")
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, "db", app="db", minAvailable=2))
    await settled(cluster.grpc, ns, "db", allowed=0, healthy=1)
    with pytest.raises(grpc.aio.AioRpcError):
        await cluster.grpc.evict(ns, "ill")
    pdb = await cluster.grpc.poddisruptionbudgets.get("db", ns)
    pdb.spec.unhealthy_pod_eviction_policy = "AlwaysAllow"
    await cluster.grpc.poddisruptionbudgets.update(pdb)
    await settled(cluster.grpc, ns, "db", allowed=0, healthy=1)
    await cluster.grpc.evict(ns, "ill")
    assert await gone(cluster.grpc, ns, "ill")


async def test_pods_that_disrupt_nothing_more_go_whatever_the_budget(
    cluster: RestCluster,
) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    await ready_pod(cluster.grpc, ns, "done", phase="Succeeded", ready=False)
    await ready_pod(cluster.grpc, ns, "waiting", phase="Pending", ready=False)
    await ready_pod(cluster.grpc, ns, "a")
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=5))
    await settled(cluster.grpc, ns, allowed=0, healthy=1)
    for name in ("done", "waiting"):
        await cluster.grpc.evict(ns, name)
        assert await gone(cluster.grpc, ns, name)


async def test_a_pod_under_two_budgets_cannot_be_evicted(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    await ready_pod(cluster.grpc, ns, "a")
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, "one", maxUnavailable=1))
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, "two", maxUnavailable=1))
    code, _, body = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a"))
    assert (code, json.loads(body)) == (
        500,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "This pod has more than one PodDisruptionBudget, which the eviction "
            "subresource does not support.",
            "code": 500,
        },
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.evict(ns, "a")
    assert status_code(refused.value) == grpc.StatusCode.INTERNAL


async def test_the_body_the_versions_and_dry_run(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    for name in ("a", "b", "c"):
        await ready_pod(cluster.grpc, ns, name)
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=1))
    await settled(cluster.grpc, ns, allowed=2, healthy=3)
    before = await cluster.grpc.poddisruptionbudgets.get("web", ns)

    # A dry run, asked in the query or the body's deleteOptions, changes nothing.
    code, _, _ = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a"), "?dryRun=All")
    assert code == 201
    code, _, _ = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a", dryRun=["All"]))
    assert code == 201
    assert not await gone(cluster.grpc, ns, "a")
    after = await cluster.grpc.poddisruptionbudgets.get("web", ns)
    assert after.metadata.resource_version == before.metadata.resource_version

    wrong_name = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "b"))
    assert (wrong_name[0], json.loads(wrong_name[2])["message"]) == (
        400,
        "name in URL does not match name in Eviction object",
    )
    wrong_version = await in_thread(
        post_raw, cluster, ns, "a", eviction(ns, "a", api_version="policy/v2")
    )
    assert wrong_version[0] == 400
    # Kubernetes 1.31 still takes a policy/v1beta1 Eviction, and its deleteOptions.
    code, _, _ = await in_thread(
        post_raw,
        cluster,
        ns,
        "a",
        eviction(ns, "a", "policy/v1beta1", gracePeriodSeconds=0),
    )
    assert code == 201
    assert await gone(cluster.grpc, ns, "a")
    # gRPC takes the deleteOptions too: a stale uid precondition is a conflict.
    await settled(cluster.grpc, ns, allowed=1, healthy=2)
    options = meta_pb2.DeleteOptions()
    options.preconditions.uid = "not-its-uid"
    with pytest.raises(grpc.aio.AioRpcError) as conflict:
        await cluster.grpc.evict(ns, "b", options)
    assert status_code(conflict.value) == grpc.StatusCode.ABORTED


async def test_evicting_needs_create_on_pods_eviction(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    await ready_pod(cluster.grpc, ns, "a")
    viewer = k8s.CoreV1Api(cluster.api_client("viewer"))
    with pytest.raises(ApiException) as refused:
        await in_thread(viewer.create_namespaced_pod_eviction, "a", ns, eviction(ns, "a"))
    assert refused.value.status == 403
    assert (
        'cannot create resource "pods/eviction"'
        in json.loads(refused.value.body or "{}")["message"]
    )
    assert not await gone(cluster.grpc, ns, "a")


async def test_discovery_lists_the_subresource_as_kubectl_drain_looks_for_it(
    cluster: RestCluster,
) -> None:
    resources = json.loads(await cluster.kubectl_ok("get", "--raw", "/api/v1"))["resources"]
    (entry,) = [r for r in resources if r["name"] == "pods/eviction"]
    assert entry == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }
    policy = json.loads(await cluster.kubectl_ok("get", "--raw", "/apis/policy/v1"))["resources"]
    assert {r["name"] for r in policy} == {"poddisruptionbudgets", "poddisruptionbudgets/status"}


async def test_the_controller_status_is_what_kubectl_shows(cluster: RestCluster) -> None:
    ns = await new_namespace(cluster.grpc, "evict-")
    for name in ("a", "b", "c"):
        await ready_pod(cluster.grpc, ns, name)
    await cluster.grpc.poddisruptionbudgets.create(budget(ns, minAvailable=2))
    await settled(cluster.grpc, ns, allowed=1, healthy=3)
    out = await cluster.kubectl_ok("get", "pdb", "-n", ns)
    header, row = out.splitlines()
    assert header.split() == [
        "NAME",
        "MIN",
        "AVAILABLE",
        "MAX",
        "UNAVAILABLE",
        "ALLOWED",
        "DISRUPTIONS",
        "AGE",
    ]
    assert row.split()[:4] == ["web", "2", "N/A", "1"]
    status = json.loads(await cluster.kubectl_ok("get", "pdb", "web", "-n", ns, "-o", "json"))[
        "status"
    ]
    (cond,) = status.pop("conditions")
    assert status == {
        "observedGeneration": 1,
        "disruptionsAllowed": 1,
        "currentHealthy": 3,
        "desiredHealthy": 2,
        "expectedPods": 3,
    }
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "DisruptionAllowed",
        "True",
        "SufficientPods",
        "",
    )
    # A bad spec is refused with Kubernetes' words.
    ran = await cluster.kubectl(
        "create", "pdb", "bad", "-n", ns, "--selector=app=web", "--min-available=150%"
    )
    assert ran.code == 1
    assert (
        'spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: '
        "must not be greater than 100%" in ran.err
    )


async def test_an_eviction_in_a_terminating_namespace_is_refused_as_a_create(
    cluster: RestCluster,
) -> None:
    # An eviction is admitted as a CREATE of pods/eviction (Kubernetes' create handler), and
    # NamespaceLifecycle refuses every create in a namespace being deleted
    # (k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go).
    ns = await new_namespace(cluster.grpc, "evict-")
    await ready_pod(cluster.grpc, ns, "a")
    await cluster.grpc.namespaces.delete(ns)  # no namespace controller here: it stays Terminating
    code, _, body = await in_thread(post_raw, cluster, ns, "a", eviction(ns, "a"))
    assert code == 403
    status = json.loads(body)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        f'pods "a" is forbidden: unable to create new content in namespace {ns} because it is '
        "being terminated"
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.grpc.evict(ns, "a")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await cluster.grpc.pods.get("a", ns)).metadata.name == "a"
