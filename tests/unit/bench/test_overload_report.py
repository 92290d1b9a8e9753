"""The overload benchmark's verdicts and markdown: accepted p99 against 1 s per limit, refusals
counted with their latency, and a row per limit and verb."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench.apiserver import overload, overload_report


def verb(
    p50: float | None, p99: float | None, refused: int = 0, refused_p99: float | None = None
) -> dict[str, Any]:
    return {
        "accepted": {
            "count": 100,
            "seconds": 10.0,
            "per_second": 10.0,
            "p50": p50,
            "p90": p99,
            "p99": p99,
            "max": p99,
            "errors": 0,
        },
        "refused": {
            "count": refused,
            "seconds": 10.0,
            "per_second": refused / 10,
            "p50": refused_p99,
            "p90": refused_p99,
            "p99": refused_p99,
            "max": refused_p99,
            "errors": 0,
        },
        "errors_by_code": {},
    }


def cell(limit: int, create: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    return {
        "mutating_limit": limit,
        "clients": 800,
        "node_watchers": 100,
        "cluster_watchers": 2,
        "worker_processes": 4,
        "create": create,
        "update": update,
        "watch": {"events": 1000, "events_per_second": 100.0, "errors_by_code": {}},
        "cpu_percent": {"apiserver": 95.0, "etcd": 30.0, "clients": 60.0, "host": 199.0},
    }


CELLS = [
    cell(100, verb(0.1, 0.3, 500, 0.02), verb(0.1, 0.4, 300, 0.03)),
    cell(0, verb(1.0, 2.5), verb(1.1, 2.0)),
]


def test_verdicts_take_the_worse_verb_per_limit() -> None:
    v = overload.verdicts(CELLS)
    assert v["100"] == {
        "mutating_p99_seconds": 0.4,
        "p99_under_1s": True,
        "refused": 800,
        "refused_p99_seconds": 0.03,
    }
    assert v["0"]["mutating_p99_seconds"] == 2.5 and not v["0"]["p99_under_1s"]
    assert v["0"]["refused"] == 0 and v["0"]["refused_p99_seconds"] is None


def test_markdown_has_a_row_per_limit_and_verb() -> None:
    result = {
        "command": "podplane-bench apiserver-overload",
        "started_at": "t",
        "code": "abc",
        "wall_seconds": 60.0,
        "load_average_at_end": [1.0, 1.0, 1.0],
        "host": {
            "cpus": 2,
            "platform": "Linux",
            "python": "3.11",
            "grpcio": "1.x",
            "etcd_version": "3.4.23",
            "load_average_at_start": 0.5,
        },
        "settings": {
            "clients": 800,
            "node_watchers": 100,
            "cluster_watchers": 2,
            "client_processes": 4,
            "warmup": 5.0,
            "duration": 15.0,
        },
        "cells": CELLS,
        "verdicts": overload.verdicts(CELLS),
    }
    text = overload_report.markdown(result)
    assert "| 100 | create | 10 | 100.0 | 300.0 | 500 | 20.0 | 20.0 | 0 |" in text
    assert "| none | update | 10 | 1100.0 | 2000.0 | 0 | – | – | 0 |" in text
    assert (
        "- limit 100: mutating p99 of accepted calls **400.0 ms** (under 1 s); 800 refused" in text
    )
    assert "- no guard: mutating p99 of accepted calls **2500.0 ms** (over 1 s)" in text


@pytest.mark.parametrize("value, expected", [("100,0", (100, 0)), ("2", (2,)), (" 5 , 0 ", (5, 0))])
def test_limits(value: str, expected: tuple[int, ...]) -> None:
    assert overload._limits(value) == expected


@pytest.mark.parametrize("value", ["", "-1", "a,b"])
def test_bad_limits(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        overload._limits(value)
