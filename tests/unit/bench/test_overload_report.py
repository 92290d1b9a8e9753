"""The overload benchmark's verdicts and markdown: accepted and client-seen p99 against 1 s per
cell, refusals counted with their latency, renewals against their deadlines, a row per cell and
verb, and API Priority and Fairness' rejections by level and reason."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench.apiserver import overload, overload_report


def summary(count: int, p99: float | None, p50: float | None = None) -> dict[str, Any]:
    return {
        "count": count,
        "seconds": 10.0,
        "per_second": count / 10,
        "p50": p50 if p50 is not None else p99,
        "p90": p99,
        "p99": p99,
        "max": p99,
        "errors": 0,
    }


def verb(
    p99: float, refused: int = 0, refused_p99: float | None = None, seen_p99: float | None = None
) -> dict[str, Any]:
    return {
        "accepted": summary(100, p99, p99 / 2),
        "refused": summary(refused, refused_p99),
        "client_seen": summary(100, seen_p99 if seen_p99 is not None else p99),
        "unfinished": 0,
        "errors_by_code": {},
    }


def renewals(count: int, max_seconds: float, missed: int = 0) -> dict[str, Any]:
    return {
        **summary(count, max_seconds),
        "deadline_seconds": 10.0,
        "missed": missed,
        "errors_by_code": {},
    }


WRITERS = "flow_schema=kube-controller-manager,priority_level=workload-high"


def cell(
    guard: str, clients: int, create: dict[str, Any], update: dict[str, Any], missed: int = 0
) -> dict[str, Any]:
    return {
        "guard": guard,
        "clients": clients,
        "nodes": 100,
        "cluster_watchers": 2,
        "electors": 4,
        "worker_processes": 4,
        "create": create,
        "update": update,
        "leader_election": renewals(40, 0.05),
        "node_heartbeat": renewals(200, 2.5 if missed else 0.08, missed),
        "watch": {"events": 1000, "events_per_second": 100.0, "errors_by_code": {}},
        "cpu_percent": {"apiserver": 95.0, "etcd": 30.0, "clients": 60.0, "host": 199.0},
        "flowcontrol": {
            "apiserver_flowcontrol_rejected_requests": {
                f"{WRITERS},reason=queue-full": 30,
                f"{WRITERS},reason=time-out": 5,
            }
        },
    }


CELLS = [
    cell("apf", 100, verb(0.3), verb(0.4)),
    cell("max-inflight", 100, verb(0.1, 500, 0.02, 1.6), verb(0.1, 300, 0.03, 1.5), missed=3),
]


def test_verdicts_take_the_worse_verb_per_cell() -> None:
    v = overload.verdicts(CELLS)
    assert v["apf@100"] == {
        "mutating_p99_seconds": 0.4,
        "p99_under_1s": True,
        "client_seen_p99_seconds": 0.4,
        "refused": 0,
        "refused_p99_seconds": None,
        "renewals_in_time": True,
        "renewal_max_seconds": 0.08,
    }
    guard = v["max-inflight@100"]
    assert guard["p99_under_1s"] and guard["client_seen_p99_seconds"] == 1.6
    assert guard["refused"] == 800 and guard["refused_p99_seconds"] == 0.03
    assert not guard["renewals_in_time"] and guard["renewal_max_seconds"] == 2.5


def test_markdown_has_a_row_per_cell_and_verb_and_the_renewals() -> None:
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
            "guards": ["apf", "max-inflight"],
            "clients": [100],
            "nodes": 100,
            "cluster_watchers": 2,
            "electors": 4,
            "heartbeat_interval": 10.0,
            "client_processes": 4,
            "warmup": 5.0,
            "duration": 15.0,
        },
        "cells": CELLS,
        "verdicts": overload.verdicts(CELLS),
    }
    text = overload_report.markdown(result)
    assert "| apf, 100 writers | create | 10 | 150.0 | 300.0 | 300.0 | 0 | – | – | 0 |" in text
    assert (
        "| max-inflight, 100 writers | update | 10 | 50.0 | 100.0 | 1500.0 | 300 | 30.0 | 30.0 |"
        in text
    )
    assert "| apf, 100 writers | node heartbeat | 10 s | 200 | 80.0 | 80.0 | 80.0 | 0 |" in text
    assert "- apf, 100 writers: accepted mutating p99 **400.0 ms** (under 1 s)" in text
    assert "nothing refused; every lease renewal and heartbeat in time" in text
    assert "800 refusals (p99 30.0 ms); **renewals or heartbeats missed" in text
    assert "- apf, 100 writers: workload-high queue-full 30, workload-high time-out 5" in text


@pytest.mark.parametrize(
    "value, expected",
    [("apf,max-inflight", ("apf", "max-inflight")), ("none", ("none",)), (" apf ", ("apf",))],
)
def test_guards(value: str, expected: tuple[str, ...]) -> None:
    assert overload._guards(value) == expected


@pytest.mark.parametrize("value", ["", "apf,fast", "max_inflight"])
def test_bad_guards(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        overload._guards(value)


@pytest.mark.parametrize("value, expected", [("100,800", (100, 800)), ("2", (2,))])
def test_client_counts(value: str, expected: tuple[int, ...]) -> None:
    assert overload._counts(value) == expected


@pytest.mark.parametrize("value", ["", "0", "a,b", "100,-1"])
def test_bad_client_counts(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        overload._counts(value)
