"""MutatingAdmissionWebhook and ValidatingAdmissionWebhook on the real apiserver over real etcd,
calling a real HTTPS webhook on 127.0.0.1 (clientConfig.url, caBundle of a CA made here),
driven by the official `kubernetes` client, kubectl and the gRPC door. Each test has its own
namespace, labelled with its name, and its own configuration whose namespaceSelector picks
that label, so the tests' webhooks never see each other's writes."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import pytest_asyncio
from kubernetes import client as k8s
from prometheus_client.parser import text_string_to_metric_families

from apiserver.options.advertise import default_advertise_address
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from tests.integration.apiserver.webhook_backend import (
    MUTATE_WARNING,
    WARNINGS,
    Backend,
    serving,
)
from tests.integration.rest_cluster import RestCluster, in_thread, raw_request, rest_cluster
from tests.support import EtcdProcess, free_port, held

CONFIGMAPS = {
    "operations": ["CREATE", "UPDATE"],
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "resources": ["configmaps"],
}


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("admission-webhooks")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def backend(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backend]:
    async with serving(tmp_path_factory.mktemp("webhook-pki")) as b:
        yield b


def core(cluster: RestCluster) -> Any:
    return k8s.CoreV1Api(cluster.api_client())


def admission(cluster: RestCluster) -> Any:
    return k8s.AdmissionregistrationV1Api(cluster.api_client())


async def namespace(cluster: RestCluster, labels: dict[str, str] | None = None) -> str:
    """A new namespace labelled `test: <its name>`."""
    name = f"hooks-{uuid.uuid4().hex[:6]}"
    body = {"metadata": {"name": name, "labels": {"test": name, **(labels or {})}}}
    await in_thread(core(cluster).create_namespace, body)
    return name


def hook(
    name: str,
    url: str,
    ca_pem: bytes,
    test_namespace: str,
    **fields: Any,
) -> dict[str, Any]:
    """A webhook on configmaps of the test's namespace; `fields` override the rest."""
    return {
        "name": name,
        "clientConfig": {"url": url, "caBundle": base64.b64encode(ca_pem).decode()},
        "rules": [CONFIGMAPS],
        "namespaceSelector": {"matchLabels": {"test": test_namespace}},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **fields,
    }


async def configure(cluster: RestCluster, kind: str, name: str, *hooks: dict[str, Any]) -> None:
    """Creates the configuration and waits for the apiserver's watch cache to hold it."""
    body = {"metadata": {"name": name}, "webhooks": list(hooks)}
    api = admission(cluster)
    if kind == "Mutating":
        await in_thread(api.create_mutating_webhook_configuration, body)
        plural = "mutatingwebhookconfigurations"
    else:
        await in_thread(api.create_validating_webhook_configuration, body)
        plural = "validatingwebhookconfigurations"
    await cached(cluster, plural, "", name)


async def cached(cluster: RestCluster, plural: str, ns: str, name: str) -> None:
    """Waits for the apiserver's watch cache of `plural` to hold the object."""
    cache = cluster.server.cachers[plural]
    await held(lambda: cache.peek(ns, name), f"{name} cached")


def configmap(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": {"k": "v"}}


async def create_configmap(cluster: RestCluster, ns: str, body: dict[str, Any]) -> Any:
    return await in_thread(core(cluster).create_namespaced_config_map, ns, body)


async def refusal(cluster: RestCluster, ns: str, body: dict[str, Any]) -> k8s.ApiException:
    with pytest.raises(k8s.ApiException) as caught:
        await create_configmap(cluster, ns, body)
    return caught.value


async def metric(cluster: RestCluster, series: str, /, **labels: str) -> float:
    """The value of a series on the apiserver's /metrics, 0 when it is not there."""
    status, text = await in_thread(
        raw_request, cluster.api_client(), "GET", "/metrics", text=True, accept="text/plain"
    )
    assert status == 200
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == series and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_a_mutating_webhook_labels_and_annotates_what_is_created(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    await configure(
        cluster,
        "Mutating",
        ns,
        hook("mutate.example.com", backend.url("/mutate"), backend.ca_pem, ns),
    )
    created = await create_configmap(cluster, ns, configmap("first", {"app": "web"}))
    assert created.metadata.labels == {"app": "web", "webhook": "mutated"}
    assert created.metadata.annotations == {"example.com/mutated-by": "test-webhook"}
    stored = await in_thread(core(cluster).read_namespaced_config_map, "first", ns)
    assert stored.metadata.labels == {"app": "web", "webhook": "mutated"}
    assert stored.metadata.annotations == {"example.com/mutated-by": "test-webhook"}
    [review] = [r for r in backend.reviews("/mutate") if r.get("namespace") == ns]
    assert review["operation"] == "CREATE"
    assert review["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
    assert review["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
    assert review["object"]["data"] == {"k": "v"}
    assert review["userInfo"]["username"] == "kubernetes-admin"
    # kubectl shows the webhook's warning, and the gRPC door's create is admitted the same.
    ran = await cluster.kubectl("create", "configmap", "second", "-n", ns, "--from-literal=a=b")
    assert ran.code == 0, ran.err
    assert f"Warning: {MUTATE_WARNING}" in ran.err
    over_grpc = await cluster.grpc.configmaps.create(
        core_pb2.ConfigMap(metadata={"name": "third", "namespace": ns})
    )
    assert dict(over_grpc.metadata.labels) == {"webhook": "mutated"}
    assert dict(over_grpc.metadata.annotations) == {"example.com/mutated-by": "test-webhook"}
    assert (
        await metric(
            cluster,
            "apiserver_admission_webhook_request_total",
            name="mutate.example.com",
            type="admit",
            operation="CREATE",
            code="200",
            rejected="false",
        )
        >= 3
    )
    assert (
        await metric(
            cluster,
            "apiserver_admission_webhook_admission_duration_seconds_count",
            name="mutate.example.com",
            type="admit",
            operation="CREATE",
            rejected="false",
        )
        >= 3
    )


async def test_a_validating_webhook_denies_with_its_message_and_code(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    await configure(
        cluster,
        "Validating",
        ns,
        hook("deny.example.com", backend.url("/deny"), backend.ca_pem, ns),
    )
    refused = await refusal(cluster, ns, configmap("unwelcome"))
    assert refused.status == 403
    status = json.loads(refused.body or "")
    assert status["message"] == (
        'admission webhook "deny.example.com" denied the request: configmap unwelcome is not '
        "welcome here"
    )
    assert status["code"] == 403
    ran = await cluster.kubectl("create", "configmap", "by-kubectl", "-n", ns)
    assert ran.code == 1
    assert ran.err.strip() == (
        'error: failed to create configmap: admission webhook "deny.example.com" denied the '
        "request: configmap by-kubectl is not welcome here"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cluster.grpc.configmaps.create(
            core_pb2.ConfigMap(metadata={"name": "by-grpc", "namespace": ns})
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == (
        'admission webhook "deny.example.com" denied the request: configmap by-grpc is not '
        "welcome here"
    )
    assert (
        await metric(
            cluster,
            "apiserver_admission_webhook_rejection_count",
            name="deny.example.com",
            type="validating",
            operation="CREATE",
            error_type="no_error",
            rejection_code="403",
        )
        >= 3
    )


async def test_a_webhook_that_is_down_fails_closed_or_open_by_its_failure_policy(
    cluster: RestCluster, backend: Backend
) -> None:
    port = free_port()
    closed = await namespace(cluster)
    url = f"https://127.0.0.1:{port}/down"
    await configure(
        cluster, "Validating", closed, hook("down.example.com", url, backend.ca_pem, closed)
    )
    refused = await refusal(cluster, closed, configmap("any"))
    assert refused.status == 500
    status = json.loads(refused.body or "")
    assert status["reason"] == "InternalError"
    assert status["message"] == (
        'Internal error occurred: failed calling webhook "down.example.com": failed to call '
        f'webhook: Post "https://127.0.0.1:{port}/down?timeout=10s": dial tcp 127.0.0.1:{port}: '
        "connect: connection refused"
    )
    opened = await namespace(cluster)
    await configure(
        cluster,
        "Validating",
        opened,
        hook("down-ignored.example.com", url, backend.ca_pem, opened, failurePolicy="Ignore"),
    )
    created = await create_configmap(cluster, opened, configmap("passes"))
    assert created.metadata.name == "passes"
    assert (
        await metric(
            cluster,
            "apiserver_admission_webhook_fail_open_count",
            name="down-ignored.example.com",
            type="validating",
        )
        == 1
    )
    assert (
        await metric(
            cluster,
            "apiserver_admission_webhook_rejection_count",
            name="down.example.com",
            type="validating",
            operation="CREATE",
            error_type="calling_webhook_error",
            rejection_code="400",
        )
        == 1
    )


async def test_a_request_waits_no_longer_than_the_webhooks_timeout(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    await configure(
        cluster,
        "Validating",
        ns,
        hook("slow.example.com", backend.url("/slow"), backend.ca_pem, ns, timeoutSeconds=1),
    )
    started = time.monotonic()
    refused = await refusal(cluster, ns, configmap("late"))
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 1.5, f"answered after {elapsed:.1f}s"
    assert refused.status == 500
    status = json.loads(refused.body or "")
    assert status["message"] == (
        'Internal error occurred: failed calling webhook "slow.example.com": failed to call '
        f'webhook: Post "https://127.0.0.1:{backend.port}/slow?timeout=1s": context deadline '
        "exceeded"
    )


async def test_warnings_reach_kubectl_and_grpc_trailers(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    await configure(
        cluster,
        "Validating",
        ns,
        hook("warn.example.com", backend.url("/warn"), backend.ca_pem, ns),
    )
    ran = await cluster.kubectl("create", "configmap", "warned", "-n", ns)
    assert ran.code == 0, ran.err
    assert [line for line in ran.err.splitlines() if line.startswith("Warning:")] == [
        f"Warning: {w}" for w in WARNINGS
    ]
    stub = resources.CONFIG_MAP.stub(cluster.grpc.channel)
    call = stub.Create(core_pb2.ConfigMap(metadata={"name": "warned-grpc", "namespace": ns}))
    await call
    trailers = await call.trailing_metadata()
    assert [v for k, v in trailers if k == "warning"] == list(WARNINGS)


async def test_dry_runs_reach_only_webhooks_without_side_effects(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    # admissionregistration.k8s.io/v1 takes no webhook with side effects (Unknown, Some): a
    # dry run can only ever meet webhooks that say they have none, or none on dry run.
    with pytest.raises(k8s.ApiException) as invalid:
        await configure(
            cluster,
            "Validating",
            ns,
            hook(
                "effects.example.com",
                backend.url("/deny"),
                backend.ca_pem,
                ns,
                sideEffects="Unknown",
            ),
        )
    assert invalid.value.status == 422
    assert json.loads(invalid.value.body or "")["message"] == (
        f'ValidatingWebhookConfiguration.admissionregistration.k8s.io "{ns}" is invalid: '
        'webhooks[0].sideEffects: Unsupported value: "Unknown": supported values: "None", '
        '"NoneOnDryRun"'
    )
    await configure(
        cluster,
        "Validating",
        ns,
        hook(
            "dry.example.com", backend.url("/deny"), backend.ca_pem, ns, sideEffects="NoneOnDryRun"
        ),
    )
    ran = await cluster.kubectl("create", "configmap", "dry", "-n", ns, "--dry-run=server")
    assert ran.code == 1
    assert ran.err.strip() == (
        'error: failed to create configmap: admission webhook "dry.example.com" denied the '
        "request: configmap dry is not welcome here"
    )
    [review] = [r for r in backend.reviews("/deny") if r.get("namespace") == ns]
    assert review["dryRun"] is True
    assert review["options"] == {
        "kind": "CreateOptions",
        "apiVersion": "meta.k8s.io/v1",
        "dryRun": ["All"],
        "fieldManager": "kubectl-create",
    }


async def test_namespace_and_object_selectors_choose_what_is_sent(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster, {"tier": "guarded"})
    other = await namespace(cluster)
    await configure(
        cluster,
        "Validating",
        ns,
        hook(
            "selective.example.com",
            backend.url("/deny"),
            backend.ca_pem,
            ns,
            namespaceSelector={"matchLabels": {"tier": "guarded"}},
            objectSelector={"matchExpressions": [{"key": "exempt", "operator": "DoesNotExist"}]},
        ),
    )
    assert (await refusal(cluster, ns, configmap("checked"))).status == 403
    exempt = await create_configmap(cluster, ns, configmap("skipped", {"exempt": "yes"}))
    assert exempt.metadata.name == "skipped"
    elsewhere = await create_configmap(cluster, other, configmap("elsewhere"))
    assert elsewhere.metadata.name == "elsewhere"
    seen = [r["name"] for r in backend.reviews("/deny") if r.get("namespace") in (ns, other)]
    assert seen == ["checked"]


async def test_a_webhook_that_asks_is_reinvoked_after_a_later_change(
    cluster: RestCluster, backend: Backend
) -> None:
    ns = await namespace(cluster)
    await configure(
        cluster,
        "Mutating",
        ns,
        hook(
            "saw-b.example.com",
            backend.url("/saw-b"),
            backend.ca_pem,
            ns,
            reinvocationPolicy="IfNeeded",
        ),
        hook("label-b.example.com", backend.url("/label-b"), backend.ca_pem, ns),
    )
    created = await create_configmap(cluster, ns, configmap("twice"))
    assert created.metadata.labels == {"b": "yes"}
    # First called before label-b's change (saw none), then once more after it.
    assert created.metadata.annotations == {"saw-b": "yes"}
    calls = [r for r in backend.reviews("/saw-b") if r.get("namespace") == ns]
    assert len(calls) == 2
    assert calls[0]["object"]["metadata"].get("labels") in (None, {})
    assert calls[1]["object"]["metadata"]["labels"] == {"b": "yes"}


async def test_a_webhook_by_service_is_reached_at_a_ready_endpoint(
    cluster: RestCluster, backend: Backend
) -> None:
    """The Service `hook` in `ns` (the serving certificate's hook.ns.svc) has an EndpointSlice
    whose ready endpoint is this host's address at the webhook's port."""
    address = default_advertise_address("0.0.0.0")
    if address is None:
        pytest.skip("no address but loopback on this host")
    await in_thread(core(cluster).create_namespace, {"metadata": {"name": "ns"}})
    service = {"metadata": {"name": "hook"}, "spec": {"ports": [{"name": "https", "port": 443}]}}
    await in_thread(core(cluster).create_namespaced_service, "ns", service)
    endpoints = {
        "metadata": {"name": "hook-1", "labels": {"kubernetes.io/service-name": "hook"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": backend.port, "protocol": "TCP"}],
    }
    discovery = k8s.DiscoveryV1Api(cluster.api_client())
    await in_thread(discovery.create_namespaced_endpoint_slice, "ns", endpoints)
    for plural, name in (("services", "hook"), ("endpointslices", "hook-1")):
        await cached(cluster, plural, "ns", name)
    ns = await namespace(cluster)
    by_service = hook("by-service.example.com", "", backend.ca_pem, ns)
    by_service["clientConfig"] = {
        "service": {"namespace": "ns", "name": "hook", "path": "/mutate"},
        "caBundle": base64.b64encode(backend.ca_pem).decode(),
    }
    await configure(cluster, "Mutating", ns, by_service)
    created = await create_configmap(cluster, ns, configmap("via-service"))
    assert created.metadata.labels == {"webhook": "mutated"}
