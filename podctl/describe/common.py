"""Pieces every describer shares: timestamps, labels, annotations, events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from podctl.describe.writer import LEVEL_0, LEVEL_1, PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.events import event_sort_key

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION_LEN = 140
# Go's zero time.Time as RFC 1123 with a numeric zone, which kubectl prints for unset timestamps.
_ZERO_TIME = "Mon, 01 Jan 0001 00:00:00 +0000"


def format_time(value: str) -> str:
    """RFC 1123 with a numeric zone in local time: `Sat, 21 Nov 2026 15:04:05 +0100`."""
    t = parse(value)
    if t is None:
        return _ZERO_TIME
    return t.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def age(value: str, now: datetime) -> str:
    return human_age(value, now) if value else "<unknown>"


def utc_now() -> datetime:
    return datetime.now(UTC)


def write_labels(w: PrefixWriter, title: str, labels: Mapping[str, str]) -> None:
    w.write(LEVEL_0, f"{title}:\t")
    if not labels:
        w.write_line("<none>")
        return
    for i, key in enumerate(sorted(labels)):
        if i:
            w.write(LEVEL_0, "\t")
        w.write(LEVEL_0, f"{key}={labels[key]}\n")


def _shorten(text: str, limit: int) -> str:
    return text[:limit] + "..." if len(text) > limit else text


def write_annotations(w: PrefixWriter, title: str, annotations: Mapping[str, str]) -> None:
    w.write(LEVEL_0, f"{title}:\t")
    keys = sorted(k for k in annotations if k != LAST_APPLIED_ANNOTATION)
    if not keys:
        w.write_line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(LEVEL_0, "\t")
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(LEVEL_0, f"{key}:\n")
            for part in value.split("\n"):
                w.write(LEVEL_0, f"\t  {_shorten(part, MAX_ANNOTATION_LEN - 2)}\n")
        else:
            w.write(LEVEL_0, f"{key}: {value}\n")


def event_interval(event: core_pb2.Event, now: datetime) -> str:
    """`5s`, or `2m (x4 over 10m)` for an event seen several times."""
    first = age(event.first_timestamp, now)
    if event.count > 1:
        return f"{age(event.last_timestamp, now)} (x{event.count} over {first})"
    return first


def write_events(w: PrefixWriter, events: Iterable[core_pb2.Event], now: datetime) -> None:
    ordered = sorted(events, key=event_sort_key)
    if not ordered:
        w.write(LEVEL_0, "Events:\t<none>\n")
        return
    w.flush()
    w.write(LEVEL_0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(LEVEL_1, "----\t------\t----\t----\t-------\n")
    for e in ordered:
        source = e.source.component or e.reporting_component
        message = e.message.strip()
        if e.involved_object.field_path:
            message = f"{e.involved_object.field_path}: {message}"
        w.write(LEVEL_1, f"{e.type}\t{e.reason}\t{event_interval(e, now)}\t{source}\t{message}\n")
