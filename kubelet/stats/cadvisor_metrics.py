"""/metrics/cadvisor: cAdvisor's container metrics as the kubelet serves them, under cAdvisor's
names and help texts (metrics/prometheus.go) and the kubelet's labels (container, image, name,
namespace, pod), for what the CRI's stats say truthfully: each running container's CPU time,
memory usage, working set and RSS, its start time, and each pod's (its cgroup's, the sandbox's
figures: container, image and name empty, as cAdvisor labels a pod cgroup) CPU, memory and
network counters per interface. Not given: the `id` label (the cgroup path, which the CRI does
not name), per-CPU usage, filesystem devices, block I/O and the spec_* metrics."""

from __future__ import annotations

from kubelet.stats.prometheus_text import Family, render
from kubelet.stats.summary import PodInput
from podplane.api.cri import api_pb2 as cri
from podplane.apimachinery import timeutil

CPU = "container_cpu_usage_seconds_total"
MEMORY_USAGE = "container_memory_usage_bytes"
WORKING_SET = "container_memory_working_set_bytes"
RSS = "container_memory_rss"
START = "container_start_time_seconds"
NETWORK = {
    "container_network_receive_bytes_total": ("Cumulative count of bytes received", "rx_bytes"),
    "container_network_receive_errors_total": (
        "Cumulative count of errors encountered while receiving",
        "rx_errors",
    ),
    "container_network_transmit_bytes_total": (
        "Cumulative count of bytes transmitted",
        "tx_bytes",
    ),
    "container_network_transmit_errors_total": (
        "Cumulative count of errors encountered while transmitting",
        "tx_errors",
    ),
}
SCRAPE_ERROR = "container_scrape_error"


def families() -> dict[str, Family]:
    out = {
        CPU: Family(CPU, "Cumulative cpu time consumed in seconds.", "counter"),
        MEMORY_USAGE: Family(
            MEMORY_USAGE,
            "Current memory usage in bytes, including all memory regardless of when it was "
            "accessed",
            "gauge",
        ),
        WORKING_SET: Family(WORKING_SET, "Current working set in bytes.", "gauge"),
        RSS: Family(RSS, "Size of RSS in bytes.", "gauge"),
        START: Family(START, "Start time of the container since unix epoch in seconds.", "gauge"),
        SCRAPE_ERROR: Family(
            SCRAPE_ERROR,
            "1 if there was an error while getting container metrics, 0 otherwise",
            "gauge",
        ),
    }
    for name, (help_text, _) in NETWORK.items():
        out[name] = Family(name, help_text, "counter")
    return out


def _cpu_memory(
    out: dict[str, Family], cpu: cri.CpuUsage, memory: cri.MemoryUsage, labels: dict[str, str]
) -> None:
    if cpu.HasField("usage_core_nano_seconds"):
        out[CPU].add(
            cpu.usage_core_nano_seconds.value / 1e9, {**labels, "cpu": "total"}, cpu.timestamp
        )
    for name, field in ((MEMORY_USAGE, "usage_bytes"), (WORKING_SET, "working_set_bytes"),
                        (RSS, "rss_bytes")):  # fmt: skip
        if memory.HasField(field):
            out[name].add(getattr(memory, field).value, labels, memory.timestamp)


def cadvisor_metrics(pods: list[PodInput] | None, images: dict[str, str]) -> str:
    """The text for one request's readings; None (reading them failed): the scrape error."""
    out = families()
    out[SCRAPE_ERROR].add(0.0 if pods is not None else 1.0)
    for pod in pods or []:
        base = {"namespace": pod.namespace, "pod": pod.name}
        for c in pod.containers:
            attributes = c.stats.attributes
            labels = {
                **base,
                "container": attributes.metadata.name,
                "image": images.get(attributes.id, ""),
                "name": attributes.id,
            }
            _cpu_memory(out, c.stats.cpu, c.stats.memory, labels)
            started = timeutil.parse(c.start_time)
            if started is not None:
                out[START].add(started.timestamp(), labels)
        pod_labels = {**base, "container": "", "image": "", "name": ""}
        if pod.sandbox is not None and pod.sandbox.HasField("linux"):
            linux = pod.sandbox.linux
            _cpu_memory(out, linux.cpu, linux.memory, pod_labels)
            _network(out, linux.network, pod_labels)
    return render(out.values())


def _network(out: dict[str, Family], network: cri.NetworkUsage, labels: dict[str, str]) -> None:
    interfaces = {i.name: i for i in [network.default_interface, *network.interfaces] if i.name}
    for interface in interfaces.values():
        for name, (_, field) in NETWORK.items():
            value = getattr(interface, field).value
            out[name].add(value, {**labels, "interface": interface.name}, network.timestamp)
