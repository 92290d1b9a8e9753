"""apiserver-doors' judgement: the HTTP door's creates/s over the gRPC door's at each client count
measured on both, met at 0.8; and the markdown that shows it, a row per door and client count,
with the notes that qualify it."""

from __future__ import annotations

from typing import Any

import pytest

from bench.apiserver_doors import benchmark, report


def create_cell(
    door: str, clients: int, per_second: float, cpu_ms: float | None = 1.0
) -> dict[str, Any]:
    return {
        "door": door,
        "clients": clients,
        "worker_processes": 4,
        "created": 100,
        "create": {
            "count": int(per_second * 8),
            "seconds": 8.0,
            "per_second": per_second,
            "p50": 0.002,
            "p90": 0.004,
            "p99": 0.010,
            "max": 0.02,
            "errors": 0,
            "errors_by_code": {},
        },
        "cpu_percent": {"apiserver": 90.0, "etcd": 20.0, "clients": 30.0, "host": 190.0},
        "apiserver_cpu_ms_per_create": cpu_ms,
    }


@pytest.mark.parametrize(
    "grpc_rate, http_rate, ratio, met",
    [
        (1000.0, 900.0, 0.9, True),
        (1000.0, 800.0, 0.8, True),  # the target itself is met
        (1000.0, 799.0, 0.799, False),
        (500.0, 600.0, 1.2, True),
        (0.0, 100.0, None, False),  # nothing to compare with: not met
    ],
)
def test_ratio_per_client_count(
    grpc_rate: float, http_rate: float, ratio: float | None, met: bool
) -> None:
    [r] = report.door_ratios(
        [create_cell("grpc", 10, grpc_rate), create_cell("http", 10, http_rate)]
    )
    assert r["clients"] == 10 and r["met"] is met
    assert r["ratio"] == (pytest.approx(ratio) if ratio is not None else None)


def test_verdict_needs_every_client_count_to_meet_the_target() -> None:
    cells = [
        create_cell("grpc", 1, 300.0),
        create_cell("http", 1, 290.0),
        create_cell("http", 100, 400.0),
        create_cell("grpc", 100, 1000.0),
    ]
    verdict = report.throughput_verdict(cells)
    assert verdict is not None
    assert [(r["clients"], r["met"]) for r in verdict["by_clients"]] == [(1, True), (100, False)]
    assert verdict["met"] is False and verdict["target"] == 0.8


def test_client_counts_measured_on_one_door_only_are_not_judged() -> None:
    cells = [
        create_cell("grpc", 1, 300.0),
        create_cell("http", 1, 300.0),
        create_cell("grpc", 10, 500.0),
    ]
    verdict = report.throughput_verdict(cells)
    assert verdict is not None and [r["clients"] for r in verdict["by_clients"]] == [1]
    assert report.throughput_verdict([create_cell("grpc", 10, 500.0)]) is None


def result(writes: list[dict[str, Any]]) -> dict[str, Any]:
    verdict = report.throughput_verdict(writes)
    return {
        "command": "podplane-bench apiserver-doors --quick",
        "started_at": "t",
        "wall_seconds": 90.0,
        "host": {
            "cpus": 2,
            "platform": "Linux",
            "python": "3.11",
            "grpcio": "1.78",
            "aiohttp": "3.14",
            "etcd_version": "3.4",
            "etcd_data_fs": "ext4",
            "kubectl": "v1.32",
            "load_average_at_start": 0.5,
        },
        "cluster": {"description": "started here"},
        "settings": {
            "client_processes": 4,
            "warmup": 2.0,
            "duration": 8.0,
            "watch_rate": 20.0,
            "watch_duration": 10.0,
        },
        "writes": writes,
        "verdicts": {"http_over_grpc": verdict} if verdict else {},
        "watch": [
            {
                "door": "http",
                "watchers": 100,
                "deliveries": 20000,
                "from_write_start": {"p50": 0.005, "p99": 0.030},
                "from_ack": {"p50": 0.001, "p99": 0.020},
                "missed_total": 0,
                "write_latency": {"p50": 0.003, "p99": 0.012},
                "cpu_percent": {"apiserver": 50.0, "etcd": 5.0, "clients": 40.0, "host": 120.0},
            }
        ],
        "listing": {
            "pods": 1000,
            "repetitions": 5,
            "kubectl_over_podctl": 0.5,
            "kubectl": {
                "median": 0.25,
                "min": 0.2,
                "max": 0.3,
                "cpu_seconds_median": 0.15,
                "rows": [1000],
            },
            "podctl": {
                "median": 0.5,
                "min": 0.4,
                "max": 0.6,
                "cpu_seconds_median": 0.35,
                "rows": [1000],
            },
        },
        "notes": ["a note"],
    }


def test_markdown_shows_the_ratio_on_the_http_rows() -> None:
    text = report.markdown(
        result([create_cell("grpc", 100, 1000.0, 0.9), create_cell("http", 100, 700.0, None)])
    )
    assert (
        "- HTTP / gRPC create throughput ≥ 0.8 at every client count: **not met** "
        "(100 clients 0.70)" in text
    )
    assert "| 100 | grpc | 1,000 | 2.0 | 10.0 | 0 |  |  | 0.90 | 90 / 20 / 30 / 190 |" in text
    assert "| 100 | http | 700 | 2.0 | 10.0 | 0 | 0.70 | no | – | 90 / 20 / 30 / 190 |" in text


def test_markdown_shows_watch_delivery_and_the_get_pods_times() -> None:
    text = report.markdown(result([create_cell("grpc", 1, 300.0), create_cell("http", 1, 290.0)]))
    assert "**met** (1 clients 0.97)" in text
    assert (
        "| http | 100 | 20,000 | 5.0 | 30.0 | 1.0 | 20.0 | 0 | 3.0 / 12.0 | 50 / 5 / 40 / 120 |"
        in text
    )
    assert "| `kubectl get pods` | 0.25 | 0.20 | 0.30 | 0.15 | 1000 |" in text
    assert "kubectl over the REST door is 0.50× podctl over gRPC" in text
    assert text.endswith("- a note\n")


def test_markdown_without_creates_says_the_ratio_was_not_measured() -> None:
    text = report.markdown(result([]))
    assert "- HTTP / gRPC create throughput: not measured (both doors are needed)" in text
    assert "**Creates**" not in text


@pytest.mark.parametrize("load, called_out", [(24.7, True), (1.5, False)])
def test_a_host_busy_before_the_run_is_called_out(load: float, called_out: bool) -> None:
    options = benchmark.Options(
        out="o.json",
        markdown_out="o.md",
        clients=(1, 10),
        client_processes=4,
        warmup=2.0,
        duration=8.0,
        watchers=100,
        watch_doors=("http",),
        watch_processes=4,
        watch_rate=20.0,
        watch_duration=10.0,
        list_pods=1000,
        list_repetitions=5,
        kubectl="kubectl",
    )
    notes = benchmark.notes(options, {"host": {"cpus": 2, "load_average_at_start": load}})
    assert any(n.startswith("The host was busy") for n in notes) is called_out
    assert (
        "Create cells alternate which door runs first: 1 clients grpc then http, 10 clients "
        "http then grpc." in notes
    )
