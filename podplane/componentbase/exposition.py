"""The /metrics body: Prometheus' text format 0.0.4, whatever the scraper's Accept header offers,
as Kubernetes' components answer (component-base's handler leaves promhttp's OpenMetrics off).

The text is prometheus_client's generate_latest's, byte for byte (tests/unit/componentbase/
test_exposition.py compares them), written faster: generate_latest escapes every label name of
every sample a character at a time, and the OpenMetrics encoder a scraper's Accept picks costs
twice the text's. The apiserver's half a megabyte of metrics, scraped every 15 s, was most of
its CPU at rest.

Most of that half megabyte is histogram buckets (etcd's and the requests' latencies: 24 lines a
series), and between two scrapes of a cluster at rest few of them have changed. A labelled
histogram's series is rendered again only when its count or sum has moved since the last
scrape; otherwise its lines from then are reused (what collect() would have built them from is
the same)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable
from typing import cast

from prometheus_client import metrics as client_metrics
from prometheus_client.metrics import Histogram
from prometheus_client.openmetrics.exposition import escape_label_name, escape_metric_name
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# The OpenMetrics types' names in the text format.
_TEXT_TYPES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram"}
_TEXT_TYPES["unknown"] = "untyped"
# Samples generate_latest moves after their family, each as a gauge of its own.
_MOVED_SUFFIXES = ("_created", "_gsum", "_gcount")


@functools.cache
def _label_name(name: str) -> str:
    text: str = escape_label_name(name)
    return text


@functools.cache
def _metric_name(name: str) -> str:
    text: str = escape_metric_name(name)
    return text


def _label_value(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def _value(value: float) -> str:
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


def _documentation(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _sample_line(sample: Sample) -> str:
    labels = sample.labels
    if labels:
        pairs = ",".join(f'{_label_name(k)}="{_label_value(v)}"' for k, v in sorted(labels.items()))
        label_text = "{" + pairs + "}"
    else:
        label_text = ""
    timestamp = ""
    if sample.timestamp is not None:
        timestamp = f" {int(float(sample.timestamp) * 1000):d}"
    return f"{_metric_name(sample.name)}{label_text} {_value(sample.value)}{timestamp}\n"


def _family(name: str, documentation: str, kind: str) -> Iterable[str]:
    escaped = _metric_name(name)
    yield f"# HELP {escaped} {_documentation(documentation)}\n"
    yield f"# TYPE {escaped} {kind}\n"


# A labelled histogram's series (a child) -> its (count, sum) and its lines when last rendered.
_rendered: weakref.WeakKeyDictionary[object, tuple[float, float, str]] = weakref.WeakKeyDictionary()


def _collectors(registry: Collector) -> list[Collector]:
    """The registry's collectors in collect()'s order, or the registry itself when it is not a
    plain CollectorRegistry (a restricted one, a custom collector, one with target info)."""
    if type(registry) is not CollectorRegistry or registry._target_info:
        return [registry]
    with registry._lock:
        return list(registry._collector_to_names)


def _cacheable(collector: Collector) -> bool:
    return (
        type(collector) is Histogram
        and bool(collector._labelnames)
        and collector._labelvalues == ()
        and not client_metrics._use_created
        and collector._upper_bounds[0] >= 0
    )


def _histogram(histogram: Histogram) -> Iterable[str]:
    """The family's lines, as collect() and _sample_line would render them, each series'
    reused while its count and sum are those it was rendered with."""
    yield from _family(histogram._name, histogram._documentation, "histogram")
    with histogram._lock:
        children = cast(list[tuple[tuple[str, ...], Histogram]], list(histogram._metrics.items()))
    for values, child in children:
        count = sum(bucket.get() for bucket in child._buckets)
        total = child._sum.get()
        cached = _rendered.get(child)
        if cached is not None and cached[0] == count and cached[1] == total:
            yield cached[2]
            continue
        series = list(zip(histogram._labelnames, values, strict=True))
        lines = "".join(
            _sample_line(
                Sample(histogram._name + suffix, dict(series + list(labels.items())), value, ts)
            )
            for suffix, labels, value, ts, *_ in child._samples()
        )
        _rendered[child] = (count, total, lines)
        yield lines


def text(registry: Collector) -> bytes:
    """Every metric the registry collects, in the text format."""
    out: list[str] = []
    for collector in _collectors(registry):
        if _cacheable(collector):
            out.extend(_histogram(collector))  # type: ignore[arg-type]
        else:
            _collected(collector, out)
    return "".join(out).encode("utf-8")


def _collected(collector: Collector, out: list[str]) -> None:
    for metric in collector.collect():
        name, kind = metric.name, metric.type
        if kind == "counter":
            name += "_total"
        elif kind == "info":
            name += "_info"
        out.extend(_family(name, metric.documentation, _TEXT_TYPES.get(kind, kind)))
        moved: dict[str, list[str]] = {}
        for sample in metric.samples:
            suffix = sample.name[len(metric.name) :]
            if suffix in _MOVED_SUFFIXES and sample.name.startswith(metric.name):
                moved.setdefault(suffix, []).append(_sample_line(sample))
            else:
                out.append(_sample_line(sample))
        for suffix, lines in sorted(moved.items()):
            out.extend(_family(metric.name + suffix, metric.documentation, "gauge"))
            out.extend(lines)
