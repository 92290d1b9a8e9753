"""bench.apiserver.grpc_costs: a unary call's CPU at each end, measured against a real echo server
process."""

from __future__ import annotations

import grpc

from bench.apiserver import grpc_costs


def test_both_ends_of_real_calls_are_measured_with_the_installed_grpcio() -> None:
    result = grpc_costs.measure(300)  # raises if the echo server answered anything else
    assert result["grpcio"] == grpc.__version__
    assert result["calls"] == 300
    assert result["server_cpu_us_per_call"] > 0 and result["client_cpu_us_per_call"] > 0
    assert result["calls_per_second"] > 0


def test_the_report_names_the_version_and_each_end() -> None:
    text = grpc_costs.report(
        {
            "grpcio": "1.78.2",
            "calls": 10000,
            "message_bytes": 800,
            "in_flight": 32,
            "connections": 4,
            "calls_per_second": 5036.4,
            "server_cpu_us_per_call": 226.2,
            "client_cpu_us_per_call": 133.9,
        }
    )
    assert text == (
        "grpcio 1.78.2: a unary call costs its server 226 µs and its client 134 µs "
        "of CPU (10000 calls, 800-byte messages, 32 in flight over 4 connections, "
        "5036 calls/s)"
    )
