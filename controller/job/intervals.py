"""Index lists as ordered intervals (kubernetes pkg/controller/job orderedIntervals):
status.completedIndexes, status.failedIndexes and a success policy's succeededIndexes are
written "1,3-5,7": single indexes, two adjacent ones as "3,4", three or more as a range."""

from __future__ import annotations

from collections.abc import Iterable

# Ordered, disjoint, non-adjacent (first, last) intervals.
Intervals = list[tuple[int, int]]


def parse_indexes(text: str, completions: int) -> Intervals:
    """parseIndexesFromString: what the text lists below `completions`; a corrupted part is
    skipped (the server validated what it stored)."""
    out: Intervals = []
    if not text:
        return out
    for part in text.split(","):
        limits = part.split("-")
        try:
            first = int(limits[0])
            last = int(limits[1]) if len(limits) > 1 else first
        except ValueError:
            continue
        if first >= completions:
            break
        last = min(last, completions - 1)
        if out and out[-1][1] == first - 1:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def merge(a: Intervals, b: Intervals) -> Intervals:
    out: Intervals = []
    for first, last in sorted(a + b):
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def with_indexes(intervals: Intervals, indexes: Iterable[int]) -> Intervals:
    return merge(intervals, [(i, i) for i in sorted(set(indexes))])


def total(intervals: Intervals) -> int:
    return sum(last - first + 1 for first, last in intervals)


def has(intervals: Intervals, index: int) -> bool:
    return any(first <= index <= last for first, last in intervals)


def text(intervals: Intervals) -> str:
    parts = []
    for first, last in intervals:
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
    return ",".join(parts)
