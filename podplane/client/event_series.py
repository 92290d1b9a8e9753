"""The EventSeries an events.k8s.io recorder keeps (client-go tools/events, event_broadcaster.go:
its eventCache, recordToSink, refreshExistingEventSeries and finishSeries): which events are one
series, what each counts since it was last written, and which have ended. The writing is the
recorder's (podplane.client.events.EventRecorder with `series=True`); this is its bookkeeping.

The first occurrence of an event is created, the second turns it into a series written once, later
ones only count here until the recorder's refresh writes them (REFRESH_INTERVAL), and a series
unobserved for FINISH_TIME is written a last time and forgotten."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

# client-go tools/events (event_broadcaster.go, unchanged since 2018 and in 1.31): a series
# unobserved for finishTime (6 min) is written a last time and forgotten, checked every
# finishTime; the cached series are written every refreshTime, which is 30 minutes, not seconds.
FINISH_TIME = 6 * 60.0
REFRESH_INTERVAL = 30 * 60.0

# Which events are one series (client-go's getKey): type, action, reason, and the regarding
# reference whole, resourceVersion included; not the note, so a series keeps its first note. The
# reporting controller and instance, and the related object (none here), are the recorder's own.
SeriesKey = tuple[str, str, str, str, str, str, str, str, str]


def series_key(type_: str, action: str, reason: str, ref: core_pb2.ObjectReference) -> SeriesKey:
    return (
        type_,
        action,
        reason,
        ref.kind,
        ref.api_version,
        ref.namespace,
        ref.name,
        ref.uid,
        ref.resource_version,
    )


@dataclass
class _Series:
    """An event the recorder has sent, and what it knows about it since."""

    event: core_pb2.Event  # the event with the series as observed (count, lastObservedTime)
    observed: float  # the clock's time of the last occurrence
    written: int  # the series count last written (1: the event as created)


class SeriesCache:
    """The series a recorder has sent, by SeriesKey. Times are the recorder's clock (seconds since
    the epoch)."""

    def __init__(self) -> None:
        self._series: dict[SeriesKey, _Series] = {}

    def observe(
        self, key: SeriesKey, now: float, new_event: Callable[[str], core_pb2.Event]
    ) -> core_pb2.Event | None:
        """One occurrence counted (recordToSink): the event to write, the first and the second
        time, or None when the series it repeats only counts it until the next refresh.
        `new_event` makes the event of a first occurrence, given its eventTime."""
        known = self._series.get(key)
        if known is None:
            event = new_event(timeutil.micro_time(now))
            self._series[key] = _Series(event, now, written=1)
            return _copy(event)
        first_repeat = not known.event.HasField("series")
        known.observed = now
        series = known.event.series
        series.count = 2 if first_repeat else series.count + 1
        series.last_observed_time = timeutil.micro_time(now)
        return _copy(known.event) if first_repeat else None

    def event(self, key: SeriesKey) -> core_pb2.Event:
        """The series' event as observed, to write."""
        return _copy(self._series[key].event)

    def changed(self, among: Iterable[SeriesKey] | None = None) -> list[SeriesKey]:
        """The series (of `among`, or all) counted on since they were last written."""
        keys = self._series if among is None else among
        return [key for key in keys if _changed(self._series[key])]

    def ended(self, before: float) -> list[SeriesKey]:
        """The series last observed before `before`: now less finishTime, those that ended."""
        return [key for key, known in self._series.items() if known.observed < before]

    def written(self, key: SeriesKey, event: core_pb2.Event) -> None:
        """`event` was written: the series it counts, if still the one cached, has its count."""
        known = self._series.get(key)
        if known is not None and known.event.metadata.name == event.metadata.name:
            known.written = max(known.written, event.series.count)

    def forget(self, keys: Iterable[SeriesKey], before: float) -> None:
        """Forgets those of `keys` still last observed before `before` (not observed again
        meanwhile): the next occurrence starts a new event."""
        for key in keys:
            known = self._series.get(key)
            if known is not None and known.observed < before:
                del self._series[key]


def _changed(known: _Series) -> bool:
    return known.event.HasField("series") and known.event.series.count != known.written


def _copy(event: core_pb2.Event) -> core_pb2.Event:
    """What is written is a copy: the cached event counts on while it is in flight."""
    out = core_pb2.Event()
    out.CopyFrom(event)
    return out
