"""The /metrics body: Prometheus' text format 0.0.4, whatever the scraper's Accept header offers,
as Kubernetes' components answer (component-base's handler leaves promhttp's OpenMetrics off).

The text is prometheus_client's generate_latest's, byte for byte (tests/unit/componentbase/
test_exposition.py compares them), written faster: generate_latest escapes every label name of
every sample a character at a time, and the OpenMetrics encoder a scraper's Accept picks costs
twice the text's. The apiserver's half a megabyte of metrics, scraped every 15 s, was most of
its CPU at rest."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from prometheus_client.openmetrics.exposition import escape_label_name, escape_metric_name
from prometheus_client.registry import Collector
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


def text(registry: Collector) -> bytes:
    """Every metric the registry collects, in the text format."""
    out: list[str] = []
    for metric in registry.collect():
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
    return "".join(out).encode("utf-8")
