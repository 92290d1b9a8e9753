"""Prometheus' text format (0.0.4) as client_golang's registry writes a collector's constant
metrics: families sorted by name, each with its HELP (prefixed with the stability level, as
component-base's metrics are) and TYPE, samples sorted by their labels (sorted by name), values
as Go formats floats, and a timestamp in milliseconds where the reading has one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from prometheus_client import utils

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_python_to_go = cast(Callable[[float], str], utils.floatToGoString)


def float_to_go(value: float) -> str:
    """Go's strconv.FormatFloat(f, 'g', -1, 64), as client_golang writes values: 3, not 3.0."""
    text = _python_to_go(value)
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    value: float
    timestamp_ms: int | None = None


@dataclass
class Family:
    name: str
    help: str
    kind: str  # counter or gauge
    samples: list[Sample] = field(default_factory=list)

    def add(
        self, value: float, labels: Mapping[str, str] | None = None, timestamp_ns: int = 0
    ) -> None:
        ms = timestamp_ns // 1_000_000 if timestamp_ns > 0 else None
        self.samples.append(Sample(labels or {}, value, ms))


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _line(name: str, sample: Sample) -> str:
    labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(sample.labels.items()))
    text = f"{name}{{{labels}}}" if labels else name
    text += f" {float_to_go(sample.value)}"
    if sample.timestamp_ms is not None:
        text += f" {sample.timestamp_ms}"
    return text


def render(families: Iterable[Family]) -> str:
    out: list[str] = []
    for family in sorted(families, key=lambda f: f.name):
        if not family.samples:
            continue  # a family with no metric is not written
        help_text = family.help.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {family.name} {help_text}")
        out.append(f"# TYPE {family.name} {family.kind}")
        samples = sorted(family.samples, key=lambda s: sorted(s.labels.items()))
        out.extend(_line(family.name, s) for s in samples)
    return "\n".join(out) + "\n" if out else ""
