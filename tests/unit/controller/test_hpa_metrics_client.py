"""The HPA's resource metrics client: PodMetrics decoded as Kubernetes' resourceMetricsClient
does (a pod's usage summed over its containers, or one container's; a pod missing the resource
in a container has no sample; a pod without the named container is an error), windows as Go
durations, and the errors' words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from controller.podautoscaler.metrics_client import (
    MetricsError,
    ResourceMetricsClient,
    go_duration,
    pod_metrics,
)
from controller.podautoscaler.pods import PodMetric
from controller.podautoscaler.selector import Selector
from podplane.apimachinery.json_types import JSONObject
from podplane.client.rest import RestClient

STAMP = "2030-03-17T17:59:30Z"
SECONDS = datetime(2030, 3, 17, 17, 59, 30, tzinfo=UTC).timestamp()


def item(name: str, *containers: tuple[str, Mapping[str, str]]) -> JSONObject:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "timestamp": STAMP,
        "window": "15.012s",
        "containers": [{"name": n, "usage": dict(u)} for n, u in containers],
    }


def test_pod_usage_is_summed_over_containers() -> None:
    items = [
        item("a", ("app", {"cpu": "250m"}), ("side", {"cpu": "500000000n"})),
        item("b", ("app", {"cpu": "1"}), ("side", {"memory": "1Mi"})),  # missing: no sample
        item("c"),  # no containers: no sample
    ]
    assert pod_metrics(items, "cpu", "") == {"a": PodMetric(750, SECONDS, 15.012)}


def test_a_container_is_read_alone() -> None:
    items = [item("a", ("app", {"cpu": "250m"}), ("side", {"cpu": "1"})), item("b", ("app", {}))]
    with pytest.raises(
        MetricsError, match="container side not present in metrics for pod default/b"
    ):
        pod_metrics(items, "cpu", "side")
    assert pod_metrics(items, "cpu", "app") == {"a": PodMetric(250, SECONDS, 15.012)}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0.0), ("15s", 15.0), ("1m0.5s", 60.5), ("1h2m3s", 3723.0), ("500ms", 0.5)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert go_duration(text) == pytest.approx(seconds)


class Answering(RestClient):
    def __init__(self, answer: JSONObject) -> None:
        super().__init__("apiserver:8443", None)
        self.answer = answer
        self.asked: list[tuple[str, Mapping[str, str] | None]] = []

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
    ) -> JSONObject:
        self.asked.append((path, params))
        return self.answer


async def test_the_metrics_api_is_asked_with_the_selector() -> None:
    rest = Answering({"items": [item("a", ("app", {"cpu": "100m"}))]})
    metrics, stamp = await ResourceMetricsClient(rest).resource_metric(
        "cpu", "ns", Selector.parse("app=web,tier in (a,b)"), ""
    )
    assert rest.asked == [
        (
            "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods",
            {"labelSelector": "app=web,tier in (a,b)"},
        )
    ]
    assert (metrics, stamp) == ({"a": PodMetric(100, SECONDS, 15.012)}, SECONDS)


async def test_no_items_is_an_error() -> None:
    with pytest.raises(MetricsError, match=r"^no metrics returned from resource metrics API$"):
        await ResourceMetricsClient(Answering({"items": []})).resource_metric(
            "cpu", "ns", Selector.parse("app=web"), ""
        )
