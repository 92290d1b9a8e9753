"""bench.apiserver.lease_renewals: its report, and the arguments it refuses."""

from __future__ import annotations

import pytest

from bench.__main__ import main
from bench.apiserver import lease_renewals


def _phase(
    answered: float, apiserver: float, cpu_percent: float, skipped: int = 0
) -> dict[str, float]:
    return {
        "asked_per_second": 500.0,
        "answered_per_second": answered,
        "turns_skipped": skipped,
        "errors": 0,
        "apiserver_cpu_percent": cpu_percent,
        "apiserver_cpu_ms": apiserver,
        "etcd_cpu_ms": 0.456,
        "client_cpu_ms": 0.304,
    }


def test_the_report_gives_each_phase_per_call() -> None:
    text = lease_renewals.report(
        {
            "nodes": 5000,
            "interval_seconds": 10.0,
            "seconds": 20.0,
            "phases": {
                "renew": _phase(499.6, 1.251, 62.5, skipped=3),
                "read": _phase(500.2, 0.804, 40.2),
            },
        }
    )
    assert text == (
        "5000 leases, each's turn every 10 s (500 a second asked):\n"
        "  renewal (Update): 500 a second answered, 3 turns skipped, 0 failed; CPU per call: "
        "apiserver 1.25 ms (62 % of a core), etcd 0.46 ms, this client 0.30 ms\n"
        "  read (Get): 500 a second answered, 0 turns skipped, 0 failed; CPU per call: "
        "apiserver 0.80 ms (40 % of a core), etcd 0.46 ms, this client 0.30 ms"
    )


@pytest.mark.parametrize("flag", ["--interval", "--seconds"])
def test_a_phase_needs_a_positive_interval_and_span(flag: str) -> None:
    with pytest.raises(SystemExit, match="--interval and --seconds must be > 0"):
        main(["lease-renewals", flag, "0"])
