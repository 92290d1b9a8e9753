"""A kubelet's `/metrics/resource` decoded into metric points (metrics-server's
pkg/scraper/client/resource/decode.go): the node's cumulative CPU and working set, each
container's cumulative CPU, working set and start time, at the samples' own timestamps (the
scrape's time for a sample without one). A node or pod without a complete point (no CPU, no
memory) is left out, as metrics-server leaves it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from prometheus_client.parser import text_string_to_metric_families

NODE_CPU = "node_cpu_usage_seconds_total"
NODE_MEMORY = "node_memory_working_set_bytes"
CONTAINER_CPU = "container_cpu_usage_seconds_total"
CONTAINER_MEMORY = "container_memory_working_set_bytes"
CONTAINER_START = "container_start_time_seconds"


@dataclass(frozen=True)
class Point:
    """A node's or container's reading: cumulative CPU in core-nanoseconds and the working set
    in bytes at `timestamp` (seconds), since `start_time` (seconds; 0 when unknown)."""

    timestamp: float = 0.0
    cumulative_cpu: int = 0
    memory: int = 0
    start_time: float = 0.0


@dataclass
class Batch:
    """One scrape's points: the node's, and each pod's containers' by (namespace, name)."""

    nodes: dict[str, Point] = field(default_factory=dict)
    pods: dict[tuple[str, str], dict[str, Point]] = field(default_factory=dict)


def decode(text: str, scraped_at: float, node_name: str) -> Batch:
    """The batch of one node's answer; ValueError for text that is not Prometheus' format."""
    node = Point()
    pods: dict[tuple[str, str], dict[str, Point]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            at = sample.timestamp if sample.timestamp is not None else scraped_at
            at = float(at)
            if sample.name == NODE_CPU:
                node = replace(node, cumulative_cpu=int(sample.value * 1e9), timestamp=at)
            elif sample.name == NODE_MEMORY:
                node = replace(node, memory=int(sample.value), timestamp=at)
            elif sample.name in (CONTAINER_CPU, CONTAINER_MEMORY, CONTAINER_START):
                labels = sample.labels
                key = (labels.get("namespace", ""), labels.get("pod", ""))
                containers = pods.setdefault(key, {})
                name = labels.get("container", "")
                point = containers.get(name, Point())
                if sample.name == CONTAINER_CPU:
                    point = replace(point, cumulative_cpu=int(sample.value * 1e9), timestamp=at)
                elif sample.name == CONTAINER_MEMORY:
                    point = replace(point, memory=int(sample.value), timestamp=at)
                else:
                    point = replace(point, start_time=float(sample.value))
                containers[name] = point
    batch = Batch()
    if node.timestamp and node.cumulative_cpu and node.memory:
        batch.nodes[node_name] = node
    for key, containers in pods.items():
        complete = _complete(containers)
        if complete:
            batch.pods[key] = complete
    return batch


def _complete(containers: dict[str, Point]) -> dict[str, Point] | None:
    """checkContainerMetrics: a pod's containers, or None when one has no CPU or memory."""
    out: dict[str, Point] = {}
    for name, point in containers.items():
        if point == Point():
            continue
        if not point.cumulative_cpu or not point.memory:
            return None
        out[name] = point
    return out or None
