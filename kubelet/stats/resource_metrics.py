"""/metrics/resource (pkg/kubelet/metrics/collectors/resource_metrics.go), what metrics-server
scrapes: the node's, each container's and each pod's CPU time and working set from the
Summary's CPU and memory figures, each container's start time, and whether reading them failed,
under the collector's names, labels and help texts."""

from __future__ import annotations

from kubelet.stats.prometheus_text import Family, render
from podplane.apimachinery import timeutil
from podplane.apimachinery.json_types import JSONObject, JSONValue

STABLE = "[STABLE] "


def families() -> dict[str, Family]:
    def f(name: str, help_text: str, kind: str = "gauge") -> tuple[str, Family]:
        return name, Family(name, help_text, kind)

    return dict(
        [
            f(
                "node_cpu_usage_seconds_total",
                STABLE + "Cumulative cpu time consumed by the node in core-seconds",
                "counter",
            ),
            f("node_memory_working_set_bytes", STABLE + "Current working set of the node in bytes"),
            f(
                "container_cpu_usage_seconds_total",
                STABLE + "Cumulative cpu time consumed by the container in core-seconds",
                "counter",
            ),
            f(
                "container_memory_working_set_bytes",
                STABLE + "Current working set of the container in bytes",
            ),
            f(
                "container_start_time_seconds",
                STABLE + "Start time of the container since unix epoch in seconds",
            ),
            f(
                "pod_cpu_usage_seconds_total",
                STABLE + "Cumulative cpu time consumed by the pod in core-seconds",
                "counter",
            ),
            f("pod_memory_working_set_bytes", STABLE + "Current working set of the pod in bytes"),
            f(
                "resource_scrape_error",
                STABLE + "1 if there was an error while getting container metrics, 0 otherwise",
            ),
        ]
    )


def _timestamp_ns(part: JSONObject) -> int:
    moment = timeutil.parse(str(part.get("time", "")))
    return int(moment.timestamp() * 1e9) if moment is not None else 0


def _obj(value: JSONValue) -> JSONObject | None:
    return value if isinstance(value, dict) else None


def _reading(
    family: Family, part: JSONValue, key: str, scale: float, labels: dict[str, str]
) -> None:
    """The figure `key` of a CPU or memory reading, at its time, when it has one."""
    reading = _obj(part)
    if reading is None or not isinstance(reading.get(key), int):
        return
    value = reading[key]
    assert isinstance(value, int)
    family.add(value / scale, labels, _timestamp_ns(reading))


def resource_metrics(summary: JSONObject | None) -> str:
    """The text for a Summary; None (reading it failed) gives only the scrape errors of 1."""
    out = families()
    error = 0.0 if summary is not None else 1.0
    out["resource_scrape_error"].add(error)
    if summary is not None:
        _collect(out, summary)
    return render(out.values())


def _collect(out: dict[str, Family], summary: JSONObject) -> None:
    node = _obj(summary.get("node")) or {}
    _reading(out["node_cpu_usage_seconds_total"], node.get("cpu"), "usageCoreNanoSeconds", 1e9, {})
    _reading(out["node_memory_working_set_bytes"], node.get("memory"), "workingSetBytes", 1, {})
    pods = summary.get("pods")
    for pod in pods if isinstance(pods, list) else []:
        p = _obj(pod) or {}
        ref = _obj(p.get("podRef")) or {}
        pod_labels = {"pod": str(ref.get("name", "")), "namespace": str(ref.get("namespace", ""))}
        containers = p.get("containers")
        for container in containers if isinstance(containers, list) else []:
            c = _obj(container) or {}
            labels = {"container": str(c.get("name", "")), **pod_labels}
            _start_time(out["container_start_time_seconds"], c, labels)
            cpu, memory = c.get("cpu"), c.get("memory")
            _reading(
                out["container_cpu_usage_seconds_total"], cpu, "usageCoreNanoSeconds", 1e9, labels
            )
            _reading(
                out["container_memory_working_set_bytes"], memory, "workingSetBytes", 1, labels
            )
        _reading(
            out["pod_cpu_usage_seconds_total"],
            p.get("cpu"),
            "usageCoreNanoSeconds",
            1e9,
            pod_labels,
        )
        _reading(
            out["pod_memory_working_set_bytes"], p.get("memory"), "workingSetBytes", 1, pod_labels
        )


def _start_time(family: Family, container: JSONObject, labels: dict[str, str]) -> None:
    started = timeutil.parse(str(container.get("startTime", "")))
    if started is not None and started.timestamp() > 0:
        family.add(started.timestamp(), labels)
