"""A scheduler load test result for the tests of its summary line."""

from __future__ import annotations

from typing import Any


def scheduler_result(**extra: Any) -> dict[str, Any]:
    """A scheduler load test result with what its summary line needs, and `extra`."""
    return {
        "workload": "basic",
        "nodes": 1000,
        "pods": 5000,
        "throughput": {"average": 412.4, "peak": 500.0},
        "latency": {"p50": 1.0, "p90": 2.0, "p99": 3.0},
        "bound": 5000,
        "unschedulable_marked": 0,
        "unschedulable_expected": 0,
        "constraint_violations": 0,
        "bound_to_other_nodes": 0,
        "etcd_ceiling": {},
        "cpu_percent_while_scheduling": {"apiserver": 77.0},
        "host": {"load_average_before": [0.5, 1.0, 1.5]},
        "complete": True,
        **extra,
    }
