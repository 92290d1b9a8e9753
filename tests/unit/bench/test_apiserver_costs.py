"""bench.apiserver.costs: the in-process part (a pod Create's own work) and the report."""

from __future__ import annotations

from bench.apiserver import costs


def test_each_step_of_a_create_is_timed_over_valid_pods() -> None:
    steps = costs.create_steps_cpu(20)  # raises if the load test's pod were invalid
    assert list(steps) == [
        "decode",
        "defaults",
        "managed fields",
        "prepare for create",
        "validate",
        "encode",
    ]
    assert all(us > 0 for us in steps.values())


def test_the_report_gives_each_figure() -> None:
    text = costs.report(
        {
            "etcd_txn_cpu_us": 171.4,
            "etcd_watch_event_cpu_us": 108.6,
            "etcd_watch_events_per_response": 1.04,
            "pod_create_steps_cpu_us": {"decode": 1.5, "defaults": 10.0, "validate": 30.5},
        }
    )
    assert text.splitlines() == [
        "etcd Txn (create), the apiserver's client, 24 in flight: 171 µs CPU per call",
        "etcd watch, the apiserver's stream: 109 µs CPU per event (1.0 events per response)",
        "a pod Create's own work: 42 µs (decode 1.5, defaults 10.0, validate 30.5)",
    ]
