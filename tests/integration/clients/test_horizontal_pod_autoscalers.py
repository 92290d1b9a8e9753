"""HorizontalPodAutoscalers through the real apiserver over real etcd at autoscaling/v2 and
autoscaling/v1: kubectl (create, autoscale, get, describe, explain), the official Python client's
AutoscalingV1Api and AutoscalingV2Api, and the gRPC door's services of both versions; a watch at
v1 seeing a write at v2; a bad spec refused with the field named."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from tests.integration.rest_cluster import RestCluster, in_thread, new_watch, rest_cluster
from tests.support import EtcdProcess

ANNOTATION_METRICS = "autoscaling.alpha.kubernetes.io/metrics"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("hpa")) as c:
        yield c


@contextlib.asynccontextmanager
async def private_namespace(cluster: RestCluster) -> AsyncIterator[str]:
    name = f"hpa-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    try:
        yield name
    finally:
        await cluster.kubectl("delete", "namespace", name, "--wait=false")


def _hpa_v2(name: str, **spec: object) -> str:
    body = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60},
                },
            },
            {
                "type": "Resource",
                "resource": {
                    "name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "500Mi"},
                },
            },
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 120}},
        **spec,
    }
    return yaml.safe_dump(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": body,
        }
    )


async def test_created_at_v2_read_at_both_versions(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        out = await cluster.kubectl_ok("-n", ns, "create", "-f", "-", stdin=_hpa_v2("web"))
        assert out == "horizontalpodautoscaler.autoscaling/web created\n"
        v2_obj = json.loads(
            await cluster.kubectl_ok(
                "-n", ns, "get", "hpa", "web", "-o", "json", "--show-managed-fields"
            )
        )
        assert v2_obj["apiVersion"] == "autoscaling/v2"
        assert v2_obj["spec"]["behavior"]["scaleUp"] == {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        }
        assert v2_obj["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 120
        v1_obj = json.loads(
            await cluster.kubectl_ok(
                "-n", ns, "get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json"
            )
        )
        assert v1_obj["apiVersion"] == "autoscaling/v1"
        assert v1_obj["spec"]["targetCPUUtilizationPercentage"] == 60
        assert v1_obj["spec"]["minReplicas"] == 2
        carried = json.loads(v1_obj["metadata"]["annotations"][ANNOTATION_METRICS])
        assert carried == [
            {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}}
        ]
        lines = (await cluster.kubectl_ok("-n", ns, "get", "hpa")).splitlines()
        assert lines[0].split() == [
            "NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"
        ]  # fmt: skip
        assert lines[1].split()[:2] == ["web", "Deployment/web"]
        assert "cpu: <unknown>/60%" in lines[1]
        # The official client at both versions.
        api = cluster.api_client()
        got_v1 = await in_thread(
            k8s.AutoscalingV1Api(api).read_namespaced_horizontal_pod_autoscaler, "web", ns
        )
        assert got_v1.spec.target_cpu_utilization_percentage == 60
        got_v2 = await in_thread(
            k8s.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler, "web", ns
        )
        assert [m.resource.name for m in got_v2.spec.metrics] == ["cpu", "memory"]
        # Written back through v1 unchanged but for its cpu target: nothing is lost.
        v1_obj["spec"]["targetCPUUtilizationPercentage"] = 70
        await in_thread(
            k8s.AutoscalingV1Api(api).replace_namespaced_horizontal_pod_autoscaler,
            "web",
            ns,
            v1_obj,
        )
        after = await in_thread(
            k8s.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler, "web", ns
        )
        targets = {m.resource.name: m.resource.target for m in after.spec.metrics}
        assert targets["cpu"].average_utilization == 70
        assert targets["memory"].average_value == "500Mi"
        assert after.spec.behavior.scale_down.stabilization_window_seconds == 120
        assert after.metadata.annotations is None or ANNOTATION_METRICS not in (
            after.metadata.annotations
        )


async def test_kubectl_autoscale_describe_and_status(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        await cluster.kubectl_ok("-n", ns, "create", "deployment", "web", "--image=nginx:1.27")
        out = await cluster.kubectl_ok(
            "-n", ns, "autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5"
        )
        assert out == "horizontalpodautoscaler.autoscaling/web autoscaled\n"
        written = json.loads(
            await cluster.kubectl_ok(
                "-n", ns, "get", "hpa", "web", "-o", "json", "--show-managed-fields"
            )
        )
        # kubectl 1.36 (the venv's) autoscales at autoscaling/v2.
        assert written["metadata"]["managedFields"][0]["apiVersion"] == "autoscaling/v2"
        lines = (await cluster.kubectl_ok("-n", ns, "get", "hpa")).splitlines()
        assert lines[1].split()[:6] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "1", "5"]
        described = await cluster.kubectl_ok("-n", ns, "describe", "hpa", "web")
        assert "Reference:" in described and "Deployment/web" in described
        assert "Min replicas:" in described
        # The controller's status write, through the status subresource at v2.
        api = k8s.AutoscalingV2Api(cluster.api_client())
        hpa = await in_thread(api.read_namespaced_horizontal_pod_autoscaler, "web", ns)
        hpa.status = k8s.V2HorizontalPodAutoscalerStatus(
            current_replicas=2,
            desired_replicas=3,
            current_metrics=[
                k8s.V2MetricStatus(
                    type="Resource",
                    resource=k8s.V2ResourceMetricStatus(
                        name="cpu",
                        current=k8s.V2MetricValueStatus(
                            average_utilization=40, average_value="200m"
                        ),
                    ),
                )
            ],
        )
        hpa.spec.max_replicas = 99  # a status write keeps the spec
        await in_thread(api.replace_namespaced_horizontal_pod_autoscaler_status, "web", ns, hpa)
        got = await in_thread(
            k8s.AutoscalingV1Api(cluster.api_client()).read_namespaced_horizontal_pod_autoscaler,
            "web",
            ns,
        )
        assert (got.status.current_replicas, got.status.desired_replicas) == (2, 3)
        assert got.status.current_cpu_utilization_percentage == 40
        assert got.spec.max_replicas == 5
        lines = (await cluster.kubectl_ok("-n", ns, "get", "hpa")).splitlines()
        assert "cpu: 40%/50%" in lines[1]
        await cluster.kubectl_ok("-n", ns, "describe", "hpa", "web")


async def test_watch_at_v1_sees_a_write_at_v2(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        api = k8s.AutoscalingV1Api(cluster.api_client())
        listed = await in_thread(api.list_namespaced_horizontal_pod_autoscaler, ns)
        watch = new_watch()

        def first_event() -> tuple[str, str, int | None]:
            for event in watch.stream(
                api.list_namespaced_horizontal_pod_autoscaler,
                ns,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=20,
            ):
                watch.stop()
                obj = event["object"]
                return event["type"], obj.metadata.name, obj.spec.target_cpu_utilization_percentage
            raise AssertionError("no event")

        task = asyncio.ensure_future(in_thread(first_event))
        await cluster.watching("horizontalpodautoscalers.v1.autoscaling", ns)
        await cluster.kubectl_ok("-n", ns, "create", "-f", "-", stdin=_hpa_v2("watched"))
        async with asyncio.timeout(30):
            assert await task == ("ADDED", "watched", 60)


async def test_bad_spec_refused_with_the_field(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        result = await cluster.kubectl(
            "-n", ns, "create", "-f", "-", stdin=_hpa_v2("bad", minReplicas=5, maxReplicas=2)
        )
        assert result.code != 0
        assert (
            'The HorizontalPodAutoscaler "bad" is invalid: spec.maxReplicas: Invalid value: 2:'
            " must be greater than or equal to `minReplicas`" in result.err
        )
        v1_body = {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "bad1"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "maxReplicas": 3,
                "targetCPUUtilizationPercentage": 0,
            },
        }
        with pytest.raises(k8s.ApiException) as refused:
            await in_thread(
                k8s.AutoscalingV1Api(
                    cluster.api_client()
                ).create_namespaced_horizontal_pod_autoscaler,
                ns,
                v1_body,
            )
        assert refused.value.status == 422
        assert "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0" in str(
            refused.value.body
        )


async def test_grpc_services_of_both_versions(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        stub_v2 = resources.HORIZONTAL_POD_AUTOSCALER.stub(cluster.grpc.channel)
        stub_v1 = resources.HORIZONTAL_POD_AUTOSCALER_V1.stub(cluster.grpc.channel)
        created = await stub_v1.Create(
            v1.HorizontalPodAutoscaler(
                metadata=meta_pb2.ObjectMeta(name="g", namespace=ns),
                spec=v1.HorizontalPodAutoscalerSpec(
                    scale_target_ref=v1.CrossVersionObjectReference(kind="Deployment", name="web"),
                    max_replicas=4,
                ),
            )
        )
        assert created.spec.min_replicas == 1
        assert created.spec.target_cpu_utilization_percentage == 80
        got: v2.HorizontalPodAutoscaler = await stub_v2.Get(
            meta_pb2.GetRequest(namespace=ns, name="g")
        )
        assert got.spec.metrics[0].resource.target.average_utilization == 80
        assert not got.status.conditions


async def test_explain_at_both_versions(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("explain", "hpa.spec.behavior")
    assert "autoscaling" in out and "scaleDown" in out
    out = await cluster.kubectl_ok("explain", "hpa.spec", "--api-version=autoscaling/v1")
    assert "targetCPUUtilizationPercentage" in out


HOST_KUBECTL = "/usr/bin/kubectl"


@pytest.mark.skipif(not os.path.exists(HOST_KUBECTL), reason="no kubectl on the host")
async def test_host_kubectl_autoscale_and_describe(cluster: RestCluster) -> None:
    """The host's kubectl (1.32 here, beside the venv's newer one) autoscales, lists and
    describes too; which version each writes is in the managed fields."""
    async with private_namespace(cluster) as ns:
        await cluster.kubectl_ok("-n", ns, "create", "deployment", "web", "--image=nginx:1.27")

        async def host(*args: str) -> str:
            process = await asyncio.create_subprocess_exec(
                HOST_KUBECTL,
                "--context=admin",
                "-n",
                ns,
                *args,
                env=cluster.env(),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            async with asyncio.timeout(60):
                out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            return out.decode()

        out = await host("autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5")
        assert out == "horizontalpodautoscaler.autoscaling/web autoscaled\n"
        assert "cpu: <unknown>/50%" in (await host("get", "hpa")).splitlines()[1]
        assert "Deployment/web" in await host("describe", "hpa", "web")
        obj = json.loads(
            await cluster.kubectl_ok(
                "-n", ns, "get", "hpa", "web", "-o", "json", "--show-managed-fields"
            )
        )
        # kubectl 1.32 autoscales at autoscaling/v1: read back at v2 all the same.
        assert obj["metadata"]["managedFields"][0]["apiVersion"] == "autoscaling/v1"
        assert obj["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50


async def test_server_side_apply_at_both_versions(cluster: RestCluster) -> None:
    async with private_namespace(cluster) as ns:
        v1_config = yaml.safe_dump(
            {
                "apiVersion": "autoscaling/v1",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "ssa"},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"},
                    "maxReplicas": 4,
                    "targetCPUUtilizationPercentage": 70,
                },
            }
        )
        out = await cluster.kubectl_ok(
            "-n",
            ns,
            "apply",
            "--server-side",
            "--field-manager=v1-owner",
            "-f",
            "-",
            stdin=v1_config,
        )
        assert out == "horizontalpodautoscaler.autoscaling/ssa serverside-applied\n"
        v2_config = _hpa_v2("ssa", maxReplicas=6)
        await cluster.kubectl_ok(
            "-n", ns, "apply", "--server-side", "--force-conflicts", "--field-manager=v2-owner",
            "-f", "-", stdin=v2_config,
        )  # fmt: skip
        obj = json.loads(
            await cluster.kubectl_ok(
                "-n", ns, "get", "hpa", "ssa", "-o", "json", "--show-managed-fields"
            )
        )
        assert obj["spec"]["maxReplicas"] == 6
        managers = {(m["manager"], m["apiVersion"]) for m in obj["metadata"]["managedFields"]}
        assert ("v2-owner", "autoscaling/v2") in managers
