"""The metrics server's points and usage (metrics-server's decode.go and pkg/storage): a
kubelet's /metrics/resource decoded at its samples' timestamps, incomplete nodes and pods left
out; usage is the CPU's increase over the window between the last two points, in nanocores, and
the last working set; a restarted container starts over, a fresh one counts from its start; a
pod is listed only when every container has two points."""

from __future__ import annotations

import pytest

from metricsserver.scraper.decode import Point, decode
from metricsserver.storage import Storage, Usage, usage

RESOURCE = """# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="main",namespace="ns",pod="busy"} 2.5 1700000010000
container_cpu_usage_seconds_total{container="side",namespace="ns",pod="half"} 1 1700000010000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="main",namespace="ns",pod="busy"} 1048576 1700000010000
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="main",namespace="ns",pod="busy"} 1.6999e+09
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 100.25 1700000011000
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 2.097152e+09 1700000011000
"""  # noqa: E501


def test_a_kubelets_answer_is_decoded_at_its_timestamps() -> None:
    batch = decode(RESOURCE, 1700000099.0, "node-1")
    assert batch.nodes == {"node-1": Point(1700000011.0, 100_250_000_000, 2_097_152_000)}
    # half's container has no memory: the pod is left out.
    assert batch.pods == {
        ("ns", "busy"): {"main": Point(1700000010.0, 2_500_000_000, 1048576, 1.6999e9)}
    }


def test_a_node_without_memory_is_left_out_and_a_sample_without_a_time_takes_the_scrapes() -> None:
    text = "node_cpu_usage_seconds_total 3\n"
    assert decode(text, 5.0, "n").nodes == {}
    text += "node_memory_working_set_bytes 10\n"
    assert decode(text, 5.0, "n").nodes == {"n": Point(5.0, 3_000_000_000, 10)}


def test_text_that_is_not_prometheus_format_is_refused() -> None:
    with pytest.raises(ValueError):
        decode("node_cpu_usage_seconds_total{ 3\n", 1.0, "n")


def test_usage_is_the_cpu_increase_over_the_window() -> None:
    prev, last = Point(100.0, 10_000_000_000, 5), Point(115.0, 13_000_000_000, 7)
    assert usage(last, prev) == Usage(200_000_000, 7, 115.0, 15.0)
    assert usage(prev, last) is None  # the CPU went backwards
    assert usage(Point(100.0, 1, 1), Point(100.0, 0, 1)) is None  # no window


def batch_of(at: float, cpu_seconds: float, start: float = 1.0) -> dict[str, object]:
    return {"main": Point(at, int(cpu_seconds * 1e9), 4096, start)}


def test_nodes_and_pods_need_two_points_and_a_restart_starts_over() -> None:
    from metricsserver.scraper.decode import Batch

    storage = Storage(metric_resolution=15.0)
    node = {"n": Point(100.0, 50_000_000_000, 10)}
    storage.store(Batch(node, {("ns", "p"): {"main": Point(100.0, 1_000_000_000, 4096, 1.0)}}))
    assert storage.node("n") is None and storage.pod("ns", "p") is None
    storage.store(
        Batch(
            {"n": Point(110.0, 55_000_000_000, 20)},
            {("ns", "p"): {"main": Point(110.0, 2_000_000_000, 8192, 1.0)}},
        )
    )
    assert storage.node("n") == Usage(500_000_000, 20, 110.0, 10.0)
    pod = storage.pod("ns", "p")
    assert pod == (
        Usage(100_000_000, 8192, 110.0, 10.0),
        {"main": Usage(100_000_000, 8192, 110.0, 10.0)},
    )
    # The same point again keeps the previous one.
    storage.store(Batch({"n": Point(110.0, 55_000_000_000, 20)}, {}))
    assert storage.node("n") == Usage(500_000_000, 20, 110.0, 10.0)
    # Restarted at 115, after the last point: no usage until its next point.
    storage.store(Batch({}, {("ns", "p"): {"main": Point(120.0, 100_000_000, 4096, 115.0)}}))
    assert storage.pod("ns", "p") is None
    storage.store(Batch({}, {("ns", "p"): {"main": Point(130.0, 600_000_000, 4096, 115.0)}}))
    assert storage.pod("ns", "p") == (
        Usage(50_000_000, 4096, 130.0, 10.0),
        {"main": Usage(50_000_000, 4096, 130.0, 10.0)},
    )


def test_a_fresh_container_counts_from_its_start() -> None:
    from metricsserver.scraper.decode import Batch

    storage = Storage(metric_resolution=60.0)
    # Started 12 s before its first point (at least 10 s, less than a resolution).
    storage.store(Batch({}, {("ns", "p"): {"main": Point(112.0, 1_200_000_000, 4096, 100.0)}}))
    assert storage.pod("ns", "p") == (
        Usage(100_000_000, 4096, 112.0, 12.0),
        {"main": Usage(100_000_000, 4096, 112.0, 12.0)},
    )


def test_a_pod_is_listed_only_when_every_container_has_two_points() -> None:
    from metricsserver.scraper.decode import Batch

    storage = Storage(metric_resolution=15.0)
    one = {"a": Point(100.0, 1, 1, 1.0)}
    storage.store(Batch({}, {("ns", "p"): one}))
    storage.store(
        Batch({}, {("ns", "p"): {"a": Point(110.0, 2, 1, 1.0), "b": Point(110.0, 2, 1, 1.0)}})
    )
    assert storage.pod("ns", "p") is None
