"""PodTemplate, LimitRange and ResourceQuota through the real apiserver over real etcd, with
kubectl, the official Python client and the gRPC door: created, listed, watched, explained; a
LimitRange defaulting a pod's resources; a quota refusing a pod in Kubernetes' words; the
resource quota controller's status.used following pods' creation and deletion. Each test's
limit ranges and quotas are in a namespace of its own, deleted at the end, so other modules'
writes are never limited."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from controller.resourcequota.controller import ResourceQuotaController
from podplane.api.core.v1 import quota_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import running
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("quota-kinds")) as c:
        yield c


@contextlib.asynccontextmanager
async def private_namespace(cluster: RestCluster) -> AsyncIterator[str]:
    """A namespace of the test's own, deleted (with its quotas and limit ranges) at the end."""
    name = f"qk-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    try:
        yield name
    finally:
        for plural in ("resourcequotas", "limitranges"):
            await cluster.kubectl("-n", name, "delete", plural, "--all")
        await cluster.kubectl("delete", "namespace", name, "--wait=false")


def _pod(name: str, resources: dict[str, object] | None = None) -> str:
    container = {"name": "app", "image": "busybox:1.36", "resources": resources or {}}
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": [container]},
        }
    )


async def test_pod_templates_through_both_doors(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        manifest_text = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {"name": "web"},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            }
        )
        assert await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=manifest_text) == (
            "podtemplate/web created\n"
        )
        lines = (await cluster.kubectl_ok("-n", ns, "get", "podtemplates")).splitlines()
        assert lines[0].split() == ["NAME", "CONTAINERS", "IMAGES", "POD", "LABELS"]
        assert lines[1].split() == ["web", "web", "nginx:1.27", "app=web"]
        listed = await cluster.grpc.podtemplates.list(ns)
        assert [p.metadata.name for p in listed.items] == ["web"]
        assert listed.items[0].template.spec.restart_policy == "Always"  # a pod spec's defaults
        bad = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {"name": "bad"},
                "template": {"spec": {"containers": [{"name": "web"}]}},
            }
        )
        ran = await cluster.kubectl("-n", ns, "apply", "-f", "-", stdin=bad)
        assert ran.code == 1
        assert "template.spec.containers[0].image: Required value" in ran.err


async def test_a_limit_range_defaults_a_pods_resources(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        limits = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": "cpu-limits"},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": "500m"},
                            "defaultRequest": {"cpu": "250m"},
                            "max": {"cpu": "1"},
                        }
                    ]
                },
            }
        )
        await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=limits)
        assert (await cluster.kubectl_ok("-n", ns, "get", "limits")).splitlines()[0].split() == [
            "NAME",
            "CREATED",
            "AT",
        ]
        await cluster.kubectl_ok("-n", ns, "apply", "-f", "-", stdin=_pod("defaulted"))
        got = json.loads(
            await cluster.kubectl_ok("-n", ns, "get", "pod", "defaulted", "-o", "json")
        )
        assert got["spec"]["containers"][0]["resources"] == {
            "limits": {"cpu": "500m"},
            "requests": {"cpu": "250m"},
        }
        assert got["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
            "LimitRanger plugin set: cpu request for container app; cpu limit for container app"
        )
        api = k8s.CoreV1Api(cluster.api_client())
        pod = await in_thread(api.read_namespaced_pod, "defaulted", ns)
        assert pod.spec.containers[0].resources.limits == {"cpu": "500m"}
        ranges = await in_thread(api.list_namespaced_limit_range, ns)
        assert ranges.items[0].spec.limits[0].default_request == {"cpu": "250m"}

        ran = await cluster.kubectl(
            "-n", ns, "apply", "-f", "-", stdin=_pod("big", {"limits": {"cpu": "2"}})
        )
        assert ran.code == 1
        assert (
            'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
            in ran.err
        )


async def test_a_quota_refuses_a_pod_and_its_controller_counts(cluster: RestCluster) -> None:
    informers = SharedInformerFactory(cluster.grpc)
    controller = ResourceQuotaController(cluster.grpc, informers)
    async with running(controller, informers=informers), private_namespace(cluster) as ns:
        assert (
            await cluster.kubectl_ok(
                "-n", ns, "create", "quota", "pods", "--hard=pods=2,requests.cpu=1"
            )
            == "resourcequota/pods created\n"
        )

        async def used() -> dict[str, str]:
            q = await cluster.grpc.resourcequotas.get("pods", ns)
            return dict(q.status.used)

        async def counted(pods: str) -> bool:
            return (await used()).get("pods") == pods

        await eventually(lambda: counted("0"), timeout=20, what="the quota counted")
        for name in ("a", "b"):
            await cluster.kubectl_ok(
                "-n", ns, "apply", "-f", "-", stdin=_pod(name, {"requests": {"cpu": "100m"}})
            )
        ran = await cluster.kubectl(
            "-n", ns, "apply", "-f", "-", stdin=_pod("c", {"requests": {"cpu": "100m"}})
        )
        assert ran.code == 1
        assert (
            'pods "c" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, '
            "limited: pods=2"
        ) in ran.err
        ran = await cluster.kubectl("-n", ns, "apply", "-f", "-", stdin=_pod("d"))
        assert "failed quota: pods: must specify requests.cpu for: app" in ran.err

        lines = (await cluster.kubectl_ok("-n", ns, "get", "quota")).splitlines()
        assert lines[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
        assert "pods: 2/2, requests.cpu: 200m/1" in lines[1]
        described = (await cluster.kubectl_ok("-n", ns, "describe", "quota", "pods")).splitlines()
        assert ["requests.cpu", "200m", "1"] in [line.split() for line in described]

        await cluster.grpc.pods.delete("a", ns, grace_period_seconds=0)
        await eventually(lambda: counted("1"), timeout=20, what="the deleted pod given back")
        api = k8s.CoreV1Api(cluster.api_client())
        quotas = await in_thread(api.list_namespaced_resource_quota, ns)
        assert quotas.items[0].status.hard == {"pods": "2", "requests.cpu": "1"}


async def test_watch_and_explain(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        stream = cluster.grpc.resourcequotas.watch(ns)
        events: list[str] = []

        async def first_event() -> None:
            async for event in stream:
                events.append(event.type)
                return

        watching = asyncio.create_task(first_event())
        await cluster.watching("resourcequotas", ns)
        await cluster.grpc.resourcequotas.create(
            quota_pb2.ResourceQuota(
                metadata=meta_pb2.ObjectMeta(name="objects", namespace=ns),
                spec=quota_pb2.ResourceQuotaSpec(hard={"count/widgets.example.com": "1"}),
            )
        )
        async with asyncio.timeout(20):
            await watching
        assert events == ["ADDED"]
        explained = await cluster.kubectl_ok("explain", "resourcequota.spec")
        assert "hard\t<map[string]Quantity>" in explained
        assert "scopeSelector\t<ScopeSelector>" in explained
        bad = manifest.from_dict(
            {"metadata": {"name": "bad", "namespace": ns}, "spec": {"hard": {"pods": "1.5"}}},
            quota_pb2.ResourceQuota,
        )
        with pytest.raises(Exception) as refused:
            await cluster.grpc.resourcequotas.create(bad)
        assert 'spec.hard[pods]: Invalid value: "1.5": must be an integer' in str(refused.value)
