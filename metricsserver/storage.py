"""The last two points of each node and container, and the usage they give (metrics-server's
pkg/storage): CPU is the cumulative CPU's increase over the window between the two points, in
nanocores; memory is the last working set; the timestamp the last point's, the window the time
between them. A point only replaces the last one when it is newer; a container that restarted
(started after the last point) starts over; a fresh container (started less than a resolution
but at least 10 s before its first point) counts from its start, with no CPU then. A pod is
listed only when every container of it has two points."""

from __future__ import annotations

from dataclasses import dataclass, replace

from metricsserver.scraper.decode import Batch, Point

FRESH_CONTAINER_MIN_RESOLUTION = 10.0  # freshContainerMinMetricsResolution


@dataclass(frozen=True)
class Usage:
    """A node's or container's usage: nanocores and bytes, at `timestamp` over `window` s."""

    cpu_nanocores: int
    memory_bytes: int
    timestamp: float
    window: float


def usage(last: Point, prev: Point) -> Usage | None:
    """resourceUsage; None for points that give none (a start time or CPU gone backwards)."""
    if last.start_time < prev.start_time or last.cumulative_cpu < prev.cumulative_cpu:
        return None
    window = last.timestamp - prev.timestamp
    if window <= 0:
        return None
    cpu = (last.cumulative_cpu - prev.cumulative_cpu) / window
    return Usage(int(cpu), last.memory, last.timestamp, window)


class Storage:
    """Every node's and pod's last two points, replaced by each scrape's batch."""

    def __init__(self, metric_resolution: float) -> None:
        self.metric_resolution = metric_resolution
        self._nodes_last: dict[str, Point] = {}
        self._nodes_prev: dict[str, Point] = {}
        self._pods_last: dict[tuple[str, str], dict[str, Point]] = {}
        self._pods_prev: dict[tuple[str, str], dict[str, Point]] = {}

    def store(self, batch: Batch) -> None:
        self._store_nodes(batch.nodes)
        self._store_pods(batch.pods)

    def _store_nodes(self, nodes: dict[str, Point]) -> None:
        prev: dict[str, Point] = {}
        for name, new in nodes.items():
            last = self._nodes_last.get(name)
            if last is None:
                continue
            if new.timestamp > last.timestamp:
                prev[name] = last
            elif (before := self._nodes_prev.get(name)) and before.timestamp < new.timestamp:
                prev[name] = before
        self._nodes_last, self._nodes_prev = dict(nodes), prev

    def _store_pods(self, pods: dict[tuple[str, str], dict[str, Point]]) -> None:
        last_pods: dict[tuple[str, str], dict[str, Point]] = {}
        prev_pods: dict[tuple[str, str], dict[str, Point]] = {}
        for key, containers in pods.items():
            prev: dict[str, Point] = {}
            for name, new in containers.items():
                age = new.timestamp - new.start_time
                if (
                    new.start_time
                    and new.start_time < new.timestamp
                    and FRESH_CONTAINER_MIN_RESOLUTION <= age < self.metric_resolution
                ):
                    prev[name] = replace(new, timestamp=new.start_time, cumulative_cpu=0)
                    continue
                last = self._pods_last.get(key, {}).get(name)
                if last is None or not new.start_time < last.timestamp:
                    continue  # new, or restarted since the last point
                if new.timestamp > last.timestamp:
                    prev[name] = last
                elif (before := self._pods_prev.get(key, {}).get(name)) is not None:
                    if before.timestamp < new.timestamp:
                        prev[name] = before
            if prev:
                prev_pods[key] = prev
            last_pods[key] = dict(containers)
        self._pods_last, self._pods_prev = last_pods, prev_pods

    def node(self, name: str) -> Usage | None:
        last, prev = self._nodes_last.get(name), self._nodes_prev.get(name)
        return usage(last, prev) if last is not None and prev is not None else None

    def pod(self, namespace: str, name: str) -> tuple[Usage, dict[str, Usage]] | None:
        """The pod's earliest container usage (its timestamp and window) and each container's;
        None unless every container has two points."""
        last = self._pods_last.get((namespace, name))
        prev = self._pods_prev.get((namespace, name))
        if last is None or prev is None:
            return None
        out: dict[str, Usage] = {}
        earliest: Usage | None = None
        for container, point in last.items():
            before = prev.get(container)
            if before is None:
                return None
            found = usage(point, before)
            if found is None:
                continue
            out[container] = found
            if earliest is None or found.timestamp < earliest.timestamp:
                earliest = found
        return (earliest, out) if earliest is not None else None
