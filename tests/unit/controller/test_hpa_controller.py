"""The HPA controller's reconcile against an in-memory apiserver and a fake REST door (the
discovery document, the target's /scale and the metrics API): what it writes to the target's
scale, the autoscaler's status and conditions, and the events, with Kubernetes' reasons and
messages, for a scale-up on high CPU, a stabilized scale-down, the replica bounds, a disabled
target, and the failures (no metrics, no scale, no selector, an ambiguous selector)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from controller.podautoscaler.controller import HorizontalController
from controller.podautoscaler.replica_calculator import Tuning
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.client.informer import wait_for_sync
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.rest import RestClient, RestError
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster

NS = "default"
NOW = 1_900_000_000.0
STARTED = "2030-03-17T17:00:00Z"  # long before NOW: past the cpu initialization period
SCALE_PATH = "/apis/apps/v1/namespaces/default/deployments/web/scale"
METRICS_PATH = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"


class FakeRest(RestClient):
    """The REST door: apps/v1's discovery, the Deployment web's scale, the pods' metrics."""

    def __init__(self) -> None:
        super().__init__("apiserver:8443", None)
        self.replicas = 3
        self.status_replicas = 3
        self.selector = "app=web"
        self.usage: dict[str, str] = {}  # pod -> cpu
        self.scale_error: RestError | None = None
        self.metrics_error: RestError | None = None
        self.puts: list[int] = []

    def _scale(self) -> JSONObject:
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": "web", "namespace": NS, "resourceVersion": "7"},
            "spec": {"replicas": self.replicas},
            "status": {"replicas": self.status_replicas, "selector": self.selector},
        }

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
    ) -> JSONObject:
        if path == "/apis/apps/v1":
            return {
                "resources": [
                    {"name": "deployments", "kind": "Deployment"},
                    {"name": "deployments/scale", "kind": "Scale"},
                ]
            }
        if path == SCALE_PATH:
            if self.scale_error:
                raise self.scale_error
            if method == "PUT":
                assert body is not None
                self.replicas = body["spec"]["replicas"]
                self.puts.append(self.replicas)
            return self._scale()
        if path == METRICS_PATH:
            assert params == {"labelSelector": self.selector}
            if self.metrics_error:
                raise self.metrics_error
            return {
                "items": [
                    {
                        "metadata": {"name": pod, "namespace": NS},
                        "timestamp": "2030-03-17T17:59:30Z",
                        "window": "15s",
                        "containers": [{"name": "app", "usage": {"cpu": cpu, "memory": "1Mi"}}],
                    }
                    for pod, cpu in self.usage.items()
                ]
            }
        raise RestError(404, "NotFound", "the server could not find the requested resource")


def hpa(**spec: Any) -> autoscaling_pb2.HorizontalPodAutoscaler:
    obj = manifest.from_dict(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1,
                "maxReplicas": 10,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50},
                        },
                    }
                ],
                **spec,
            },
        }
    )
    assert isinstance(obj, autoscaling_pb2.HorizontalPodAutoscaler)
    return obj


def pod(name: str, labels: Mapping[str, str] | None = None) -> core_pb2.Pod:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": dict(labels or {"app": "web"})},
            "spec": {
                "containers": [
                    {"name": "app", "image": "busybox", "resources": {"requests": {"cpu": "1"}}}
                ]
            },
            "status": {
                "phase": "Running",
                "startTime": STARTED,
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": STARTED}],
            },
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


class Setup:
    def __init__(self, cluster: FakeCluster, rest: FakeRest, hc: HorizontalController) -> None:
        self.cluster, self.rest, self.hc = cluster, rest, hc

    async def sync(self, key: str = f"{NS}/web") -> autoscaling_pb2.HorizontalPodAutoscaler:
        self.cluster.deliver()
        await waiting.until(
            lambda: all(
                self.hc.hpas.get(k) == v
                for k, v in self.cluster.horizontalpodautoscalers.store.items()
            ),
            "the autoscalers in the cache",
        )
        assert await self.hc.reconcile(key) == self.hc.sync_period
        return self.cluster.horizontalpodautoscalers.store[key]

    async def events(self, count: int) -> list[tuple[str, str, str]]:
        await waiting.until(lambda: len(self.cluster.events.created) >= count, f"{count} events")
        return [(e.type, e.reason, e.message) for e in self.cluster.events.created]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    cluster = FakeCluster()
    rest = FakeRest()
    for i in range(3):
        await cluster.pods.create(pod(f"web-{i}"))
    factory = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    hc = HorizontalController(
        cluster,  # type: ignore[arg-type]
        factory,
        rest,
        sync_period=15.0,
        tuning=Tuning(),
        clock=lambda: NOW,
    )
    factory.start()
    await wait_for_sync(hc.hpas, hc.pods)
    yield Setup(cluster, rest, hc)
    await factory.shutdown()


def conditions(obj: autoscaling_pb2.HorizontalPodAutoscaler) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in obj.status.conditions}


async def test_high_cpu_scales_the_target_up(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "900m" for i in range(3)}
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    # 90 % against 50 %: ceil(1.8 * 3) = 6, under max(2 * 3, 4) and maxReplicas.
    assert setup.rest.puts == [6]
    assert (got.status.current_replicas, got.status.desired_replicas) == (3, 6)
    assert got.status.last_scale_time
    current = got.status.current_metrics[0]
    assert (current.type, current.resource.name) == ("Resource", "cpu")
    assert current.resource.current.average_utilization == 90
    assert current.resource.current.average_value == "900m"
    assert conditions(got) == {
        "AbleToScale": (
            "True",
            "SucceededRescale",
            "the HPA controller was able to update the target scale to 6",
        ),
        "ScalingActive": (
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from cpu resource "
            "utilization (percentage of request)",
        ),
        "ScalingLimited": (
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        ),
    }
    assert await setup.events(1) == [
        (
            "Normal",
            "SuccessfulRescale",
            "New size: 6; reason: cpu resource utilization (percentage of request) above target",
        )
    ]


async def test_a_scale_up_is_limited_to_twice_the_replicas(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "2" for i in range(3)}
    await setup.cluster.horizontalpodautoscalers.create(hpa(maxReplicas=20))
    got = await setup.sync()
    assert setup.rest.puts == [6]  # 200 % against 50 % asks 12
    assert conditions(got)["ScalingLimited"][:2] == ("True", "ScaleUpLimit")


async def test_low_cpu_scale_down_waits_for_the_stabilization_window(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "100m" for i in range(3)}
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    # The first look recorded the current size as a recommendation: the scale-down waits.
    assert setup.rest.puts == []
    assert (got.status.current_replicas, got.status.desired_replicas) == (3, 3)
    assert conditions(got)["AbleToScale"] == (
        "True",
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, applying the highest recent "
        "recommendation",
    )
    assert not got.status.last_scale_time


async def test_a_scale_down_with_a_zero_window_behavior_happens_at_once(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "100m" for i in range(3)}
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 0}}
    await setup.cluster.horizontalpodautoscalers.create(hpa(behavior=behavior))
    await setup.sync()
    assert setup.rest.puts == [1]  # ceil(0.2 * 3) = 1
    events = await setup.events(1)
    assert events == [
        ("Normal", "SuccessfulRescale", "New size: 1; reason: All metrics below target")
    ]


async def test_replicas_below_the_minimum_are_raised(setup: Setup) -> None:
    await setup.cluster.horizontalpodautoscalers.create(hpa(minReplicas=5))
    got = await setup.sync()
    assert setup.rest.puts == [5]
    assert got.status.desired_replicas == 5
    assert await setup.events(1) == [
        (
            "Normal",
            "SuccessfulRescale",
            "New size: 5; reason: Current number of replicas below Spec.MinReplicas",
        )
    ]


async def test_a_target_at_zero_replicas_is_not_scaled(setup: Setup) -> None:
    setup.rest.replicas = 0
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    assert setup.rest.puts == []
    assert conditions(got)["ScalingActive"] == (
        "False",
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
    )


async def test_no_metrics_leaves_the_target_and_says_why(setup: Setup) -> None:
    setup.rest.metrics_error = RestError(
        503, "ServiceUnavailable", "the server is currently unable to handle the request"
    )
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    assert setup.rest.puts == []
    error = (
        "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch "
        "metrics from resource metrics API: the server is currently unable to handle the request"
    )
    assert conditions(got)["ScalingActive"] == (
        "False",
        "FailedGetResourceMetric",
        f"the HPA was unable to compute the replica count: {error}",
    )
    assert conditions(got)["AbleToScale"][1] == "SucceededGetScale"
    assert (got.status.current_replicas, got.status.desired_replicas) == (3, 0)
    assert await setup.events(2) == [
        ("Warning", "FailedGetResourceMetric", error),
        (
            "Warning",
            "FailedComputeMetricsReplicas",
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
            f"metric value: {error}",
        ),
    ]


async def test_a_missing_target_is_said_in_able_to_scale(setup: Setup) -> None:
    setup.rest.scale_error = RestError(404, "NotFound", 'deployments.apps "web" not found')
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    assert conditions(got)["AbleToScale"] == (
        "False",
        "FailedGetScale",
        "the HPA controller was unable to get the target's current scale: "
        'deployments.apps "web" not found',
    )
    assert await setup.events(1) == [
        ("Warning", "FailedGetScale", 'deployments.apps "web" not found')
    ]


async def test_an_unknown_kind_is_a_failed_get_scale(setup: Setup) -> None:
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Gadget", "name": "web"}}
    await setup.cluster.horizontalpodautoscalers.create(hpa(**spec))
    got = await setup.sync()
    assert conditions(got)["AbleToScale"][1:] == (
        "FailedGetScale",
        "the HPA controller was unable to get the target's current scale: "
        'no matches for kind "Gadget" in group "apps"',
    )


async def test_a_scale_without_a_selector_is_invalid(setup: Setup) -> None:
    setup.rest.selector = ""
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    got = await setup.sync()
    assert conditions(got)["ScalingActive"] == (
        "False",
        "InvalidSelector",
        "the HPA target's scale is missing a selector",
    )
    assert (await setup.events(2))[0] == ("Warning", "SelectorRequired", "selector is required")


async def test_two_autoscalers_of_the_same_pods_are_ambiguous(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "500m" for i in range(3)}
    other = hpa()
    other.metadata.name = "web-too"
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    await setup.cluster.horizontalpodautoscalers.create(other)
    await setup.sync()  # the first learns its selector
    got = await setup.sync(f"{NS}/web-too")
    message = (
        "pods by selector app=web are controlled by multiple HPAs: [{web default} "
        "{web-too default}]"
    )
    assert conditions(got)["ScalingActive"] == ("False", "AmbiguousSelector", message)


async def test_a_deleted_autoscaler_is_forgotten(setup: Setup) -> None:
    setup.rest.usage = {f"web-{i}": "500m" for i in range(3)}
    await setup.cluster.horizontalpodautoscalers.create(hpa())
    await setup.sync()
    assert setup.hc.history.recommendations
    await setup.cluster.horizontalpodautoscalers.delete("web", NS)
    setup.cluster.deliver()
    await waiting.until(lambda: setup.hc.hpas.get(f"{NS}/web") is None, "the deletion")
    assert await setup.hc.reconcile(f"{NS}/web") is None
    assert not setup.hc.history.recommendations
