"""The pods' resource usage from the resource metrics API (kubernetes
pkg/controller/podautoscaler/metrics/client.go, resourceMetricsClient.GetResourceMetric):
metrics.k8s.io/v1beta1 PodMetrics, listed through the apiserver (which proxies the group to the
metrics add-on behind its APIService) with the target's selector. A pod's usage is the sum over
its containers, or one named container's; a pod whose container lacks the resource has none."""

from __future__ import annotations

import math
import re

from controller.podautoscaler.pods import PodMetric, PodMetrics
from controller.podautoscaler.selector import Selector
from podplane.apimachinery import quantity, timeutil
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.client.rest import RestClient

PATH = "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


class MetricsError(Exception):
    pass


def go_duration(text: str) -> float:
    """Seconds of a Go duration as metav1.Duration writes it ("15.012s", "1m0.5s", "0s")."""
    if text in ("0", "0s", ""):
        return 0.0
    parts = _DURATION_PART.findall(text)
    if "".join(n + u for n, u in parts) != text.lstrip("+"):
        raise MetricsError(f"time: invalid duration {text!r}")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def milli_value(text: str) -> int:
    """Quantity.MilliValue: rounded up."""
    return math.ceil(quantity.parse(text) * 1000)


def _timestamp(item: JSONObject) -> float:
    moment = timeutil.parse(str(item.get("timestamp") or ""))
    return moment.timestamp() if moment else 0.0


def _containers(item: JSONObject) -> list[JSONObject]:
    containers: JSONValue = item.get("containers") or []
    return [c for c in containers if isinstance(c, dict)]


def pod_metrics(items: list[JSONObject], resource: str, container: str) -> PodMetrics:
    """getPodMetrics / getContainerMetrics."""
    out: PodMetrics = {}
    for item in items:
        meta = item.get("metadata") or {}
        name = str(meta.get("name", ""))
        stamp, window = _timestamp(item), go_duration(str(item.get("window") or "0s"))
        containers = _containers(item)
        if container:
            found = next((c for c in containers if c.get("name") == container), None)
            if found is None:
                raise MetricsError(
                    f"failed to get container metrics: container {container} not present in "
                    f"metrics for pod {meta.get('namespace', '')}/{name}"
                )
            usage = found.get("usage") or {}
            if resource in usage:
                out[name] = PodMetric(milli_value(str(usage[resource])), stamp, window)
            continue
        values = [(c.get("usage") or {}).get(resource) for c in containers]
        if not containers or any(v is None for v in values):
            continue  # missing: the pod has no sample
        out[name] = PodMetric(sum(milli_value(str(v)) for v in values), stamp, window)
    return out


class ResourceMetricsClient:
    """The replica calculator's MetricsSource over the REST door."""

    def __init__(self, rest: RestClient) -> None:
        self.rest = rest

    async def resource_metric(
        self, resource: str, namespace: str, selector: Selector, container: str
    ) -> tuple[PodMetrics, float]:
        try:
            listed = await self.rest.get(
                PATH.format(namespace=namespace), {"labelSelector": selector.text}
            )
        except Exception as e:  # the REST door's failure, in the words Kubernetes uses
            raise MetricsError(f"unable to fetch metrics from resource metrics API: {e}") from e
        items = [i for i in listed.get("items") or [] if isinstance(i, dict)]
        if not items:
            raise MetricsError("no metrics returned from resource metrics API")
        return pod_metrics(items, resource, container), _timestamp(items[0])
