"""Pod start-up latency as clusterloader2 measures it: watch times of create, schedule and run;
the SLO verdict and the phase split in the report; the --rate flag."""

from __future__ import annotations

import argparse

import pytest

from bench.__main__ import _rates
from bench.pod_startup.benchmark import BURST, Timeline, _cell
from bench.pod_startup.report import markdown
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2


def pod(name: str, node: str = "", phase: str = "Pending") -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(name=name),
        spec=core_pb2.PodSpec(node_name=node),
        status=core_pb2.PodStatus(phase=phase),
    )


def test_each_phase_is_the_first_watch_event_that_shows_it() -> None:
    timeline = Timeline()
    timeline.observe(pod("a"), 10.0)
    timeline.observe(pod("a", node="n1"), 10.5)
    timeline.observe(pod("a", node="n1"), 10.7)  # a later event changes nothing
    timeline.observe(pod("a", node="n1", phase="Running"), 12.0)
    timeline.observe(pod("a", node="n1", phase="Running"), 13.0)
    times = timeline.pods["a"]
    assert (times.created, times.scheduled, times.running) == (10.0, 10.5, 12.0)
    assert timeline.running_count() == 1


def test_a_cell_splits_start_up_into_scheduling_and_running() -> None:
    timeline = Timeline()
    for i, (created, scheduled, running) in enumerate([(0.0, 0.1, 1.0), (0.5, 0.7, 2.5)]):
        name = f"p{i}"
        timeline.observe(pod(name), created)
        timeline.pods[name].called = created - 0.01
        timeline.observe(pod(name, node="n"), scheduled)
        timeline.observe(pod(name, node="n", phase="Running"), running)
    timeline.observe(pod("never"), 1.0)
    timeline.pods["never"].called = 0.9
    cell = _cell(2.0, "ns", timeline, errors=[], create_seconds=0.5)
    assert cell.pods == 3
    assert cell.pod_startup.count == 2
    assert cell.pod_startup.max == pytest.approx(2.0)
    assert cell.create_to_scheduled.max == pytest.approx(0.2)
    assert cell.scheduled_to_running.max == pytest.approx(1.8)
    assert cell.never_running == ["never"]
    assert not cell.meets(5.0)  # a pod that never ran fails the SLO
    report = markdown([cell])
    assert "| steady 2 pods/s | 3 | 2 |" in report
    assert "create -> scheduled" in report


def test_the_slo_verdict_follows_p99() -> None:
    timeline = Timeline()
    for i in range(10):
        timeline.observe(pod(f"p{i}"), 0.0)
        timeline.pods[f"p{i}"].called = 0.0
        timeline.observe(pod(f"p{i}", node="n", phase="Running"), 1.0 + i / 4)
    cell = _cell(BURST, "ns", timeline, errors=[], create_seconds=0.1)
    assert cell.mode == "burst"
    assert cell.meets(5.0) and not cell.meets(2.0)
    assert cell.to_json()["p99_within_slo"] is True


def test_rates_take_numbers_and_burst() -> None:
    assert _rates("5, burst") == (5.0, BURST)
    for bad in ("0", "-1", "fast", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _rates(bad)
