"""The markdown the README quotes and the verdicts against the issue's targets."""

from __future__ import annotations

from typing import Any

import pytest

from bench.apiserver import report


def op(per_second: float, p99: float) -> dict[str, Any]:
    return {
        "count": int(per_second * 8),
        "seconds": 8.0,
        "per_second": per_second,
        "p50": p99 / 4,
        "p90": p99 / 2,
        "p99": p99,
        "max": p99 * 2,
        "errors": 0,
        "errors_by_code": {},
        "failed_compares": 0,
        "cpu_percent": {"apiserver": 97.6, "etcd": 40.2, "clients": 30.0, "host": 190.0},
    }


def result(
    *, p99_at_100: float = 0.25, update_rate: float = 900.0, etcd: bool = True
) -> dict[str, Any]:
    return {
        "command": "podplane-bench apiserver",
        "started_at": "2025-01-01T00:00:00+00:00",
        "wall_seconds": 150.2,
        "host": {
            "cpus": 2,
            "platform": "Linux 6.1",
            "python": "3.11.7",
            "grpcio": "1.85.1",
            "etcd_version": "3.4.23",
            "etcd_data_fs": "ext4",
        },
        "cluster": {"description": "started here"},
        "settings": {
            "warmup": 2.0,
            "duration": 8.0,
            "etcd_warmup": 1.0,
            "etcd_duration": 5.0,
            "watchers_per_connection": 1,
            "watch_rate": 20.0,
            "watch_duration": 10.0,
        },
        "etcd": (
            {
                "workers": 2,
                "inflight_per_worker": 64,
                "value_bytes": 512,
                "create": op(1500.0, 0.05),
                "cas": op(1600.0, 0.04),
            }
            if etcd
            else {"skipped": "no etcd endpoint"}
        ),
        "writes": [
            {
                "clients": 1,
                "worker_processes": 1,
                "create": op(400.0, 0.004),
                "update": op(300.0, 0.005),
            },
            {
                "clients": 100,
                "worker_processes": 4,
                "create": op(700.0, 0.2),
                "update": op(update_rate, p99_at_100),
            },
        ],
        "watch": [
            {
                "watchers": 1000,
                "worker_processes": 4,
                "deliveries": 200000,
                "from_write_start": op(0, 0.5),
                "from_ack": op(0, 0.3),
                "missed_total": 0,
                "write_latency": op(20, 0.1),
                "cpu_percent": {"apiserver": 99.0, "etcd": 2.0, "host": 199.0},
            }
        ],
        "notes": ["Load generation: test."],
    }


@pytest.mark.parametrize(("p99", "met"), [(0.25, True), (0.999, True), (1.0, False), (3.2, False)])
def test_p99_verdict_takes_the_slower_mutation_at_the_most_clients(p99: float, met: bool) -> None:
    v = report.verdicts(result(p99_at_100=p99))["mutating_p99"]
    assert (v["clients"], v["seconds"], v["met"]) == (100, max(p99, 0.2), met)


@pytest.mark.parametrize(
    ("update_rate", "ratio", "met"), [(800.0, 0.5, True), (799.0, 0.499, False)]
)
def test_throughput_verdict_compares_peak_updates_with_raw_cas(
    update_rate: float, ratio: float, met: bool
) -> None:
    v = report.verdicts(result(update_rate=update_rate))["write_throughput"]
    assert v["ratio"] == pytest.approx(ratio, abs=1e-3)
    assert v["met"] is met
    assert v["create_ratio"] == pytest.approx(700 / 1500)


def test_markdown_has_the_verdicts_and_one_row_per_measurement() -> None:
    r = result()
    r["verdicts"] = report.verdicts(r)
    text = report.markdown(r)
    assert "- mutating p99 at 100 clients < 1 s: **yes** (250.0 ms" in text
    assert "- apiserver write throughput / raw etcd CAS: **56%** (target ≥ 50%: met)" in text
    assert (
        "| CAS (mod_revision = expected, put) | 1,600 | 10.0 | 40.0 | 0 | 98 / 40 / 30 / 190 |"
        in text
    )
    assert "| 100 | 4 | update | 900 | 62.5 | 125.0 | 250.0 | 0 | 98 / 40 / 30 / 190 |" in text
    assert (
        "| 1000 | 4 | 200,000 | 125.0 | 500.0 | 75.0 | 300.0 | 0 | 100.0 | 99 / 2 / – / 199 |"
    ) in text
    assert "2 CPUs" in text and "etcd 3.4.23" in text and "Python 3.11.7" in text


def test_markdown_says_why_the_etcd_ceiling_was_skipped() -> None:
    r = result(etcd=False)
    r["verdicts"] = report.verdicts(r)
    text = report.markdown(r)
    assert "**Raw etcd ceiling**: skipped: no etcd endpoint." in text
    assert "not measured (no etcd phase)" in text


def test_table_rows_line_up_with_the_header() -> None:
    assert report.table(["a", "b"], [["1", "2"]]).splitlines() == [
        "| a | b |",
        "|---|---|",
        "| 1 | 2 |",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.0123, "12.3"), (None, "–"), (float("nan"), "–"), (-0.0005, "-0.5")]
)
def test_milliseconds(seconds: float | None, text: str) -> None:
    assert report.ms(seconds) == text
