"""The /metrics body: prometheus_client's text format, byte for byte, and only that format, as
Kubernetes' components answer whatever a scraper's Accept offers."""

from __future__ import annotations

import asyncio
import gzip
import urllib.request

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    Summary,
)
from prometheus_client.core import GaugeHistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from podplane.client.workqueue_metrics import WORKQUEUE_DEPTH
from podplane.componentbase import exposition
from podplane.componentbase.metrics import serve_metrics


class _GaugeHistograms(Collector):
    def collect(self) -> list[GaugeHistogramMetricFamily]:
        family = GaugeHistogramMetricFamily("queued_bytes", "Bytes queued.", labels=["queue"])
        family.add_metric(["a"], [("1.0", 2.0), ("+Inf", 5.0)], gsum_value=7.0)
        return [family]


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter(
        "requests", "Requests.\nBy code \\ verb.", ["code", "verb"], registry=registry
    )
    requests.labels("200", "GET").inc(3)
    requests.labels('4"0\\4', "line\nbreak").inc()
    Gauge("depth", "Depth.", registry=registry).set(1e-7)
    Gauge("big", "Big.", registry=registry).set(123456789.0)
    Gauge("nothing", "Nothing.", registry=registry).set(float("nan"))
    latency = Histogram(
        "etcd_request_duration_seconds",
        "Etcd request latency.",
        ["operation", "type"],
        buckets=(0.005, 0.025, 1.25, 60),
        registry=registry,
    )
    for i in range(5):
        latency.labels("get", f"/registry/pods{i}").observe(0.01 * i)
    Summary("sizes", "Sizes.", ["kind"], registry=registry).labels("x").observe(4.5)
    Info("build", "Build.", registry=registry).info({"version": "v1.31.0"})
    Enum("state", "State.", states=["up", "down"], registry=registry).state("down")
    registry.register(_GaugeHistograms())
    return registry


def test_the_text_is_prometheus_clients() -> None:
    registry = _registry()
    assert exposition.text(registry) == prometheus_client.generate_latest(registry)


def test_a_histogram_series_is_rendered_again_once_it_moves() -> None:
    """The series rendered at the last scrape are reused only while their count and sum stand:
    an observation of 0 (the count moves, not the sum), a new series, a removed one, each
    shows at the next scrape as prometheus_client renders it."""
    registry = _registry()
    latency = Histogram("watch_seconds", "Watch.", ["kind"], buckets=(1, 5), registry=registry)
    latency.labels("pods").observe(2)
    assert exposition.text(registry) == prometheus_client.generate_latest(registry)
    latency.labels("pods").observe(0)
    latency.labels("nodes").observe(7)
    first = exposition.text(registry)
    assert first == prometheus_client.generate_latest(registry)
    assert b'watch_seconds_bucket{kind="pods",le="1.0"} 1.0\n' in first
    assert b'watch_seconds_count{kind="pods"} 2.0\n' in first
    latency.remove("pods")
    second = exposition.text(registry)
    assert second == prometheus_client.generate_latest(registry)
    assert b'kind="pods"' not in second


class _Frozen(Collector):
    """What a registry held at one moment (the default registry changes as other tests run)."""

    def __init__(self, registry: Collector) -> None:
        self.families = list(registry.collect())

    def collect(self) -> list[Metric]:
        return self.families


def test_every_metric_of_the_process_renders_as_prometheus_client_does() -> None:
    WORKQUEUE_DEPTH.labels("rendered").set(2)
    frozen = _Frozen(prometheus_client.REGISTRY)
    rendered = exposition.text(frozen)
    assert rendered == prometheus_client.generate_latest(frozen)
    assert b'workqueue_depth{name="rendered"} 2.0\n' in rendered


async def test_an_openmetrics_accept_gets_the_text_format_gzipped() -> None:
    WORKQUEUE_DEPTH.labels("negotiated").set(4)
    server = serve_metrics("127.0.0.1:0")
    assert server is not None
    # Prometheus 2.42's Accept and Accept-Encoding.
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/metrics",
        headers={
            "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "Accept-Encoding": "gzip",
        },
    )

    def scrape() -> tuple[str, str, bytes]:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.headers["Content-Type"], reply.headers["Content-Encoding"], reply.read()

    try:
        content_type, encoding, body = await asyncio.to_thread(scrape)
    finally:
        await server.aclose()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert encoding == "gzip"
    text = gzip.decompress(body).decode()
    assert 'workqueue_depth{name="negotiated"} 4.0\n' in text
    assert "# EOF" not in text  # OpenMetrics' last line
