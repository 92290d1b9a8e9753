"""The prober's metrics, in their own registry (the kubelet serves them at /metrics/probes):
prober_probe_total, as pkg/kubelet/prober counts each probe's result by type, result
(successful, failed, unknown), container, pod, namespace and pod uid."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from kubelet.prober.results import ProbeType, Result
from podplane.api.core.v1 import core_pb2

REGISTRY = CollectorRegistry(auto_describe=True)
PROBE_TOTAL = Counter(
    "prober_probe_total",
    "[BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.",
    ["probe_type", "result", "container", "pod", "namespace", "pod_uid"],
    registry=REGISTRY,
)
_RESULTS = {Result.SUCCESS: "successful", Result.FAILURE: "failed"}


def count(probe_type: ProbeType, result: Result, pod: core_pb2.Pod, container: str) -> None:
    meta = pod.metadata
    PROBE_TOTAL.labels(
        probe_type.value,
        _RESULTS.get(result, "unknown"),
        container,
        meta.name,
        meta.namespace,
        meta.uid,
    ).inc()
