"""podplane-bench autoscaling's readings and report: the metrics API's CPU quantities, the
HPA's current utilization, each moment's median and maximum over the runs, the kubeconfig it
finds, and its flags."""

from __future__ import annotations

import argparse

import pytest

from bench.__main__ import build_parser
from bench.autoscaling import benchmark, reaction
from bench.autoscaling.rest import kubeconfig_path


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("1562923n", 1.562923), ("250u", 0.25), ("93m", 93.0), ("1", 1000.0), ("0", 0.0)],
)
def test_a_cpu_quantity_of_the_metrics_api_in_millicores(quantity: str, expected: float) -> None:
    assert reaction.millicores(quantity) == pytest.approx(expected)


def test_the_hpa_current_utilization_is_read_from_its_status() -> None:
    assert reaction.current_utilization({}) is None
    assert reaction.current_utilization({"status": {"currentMetrics": None}}) is None
    hpa = {
        "status": {
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageValue": "2m"}},
                },
                {"resource": {"current": {"averageUtilization": 4, "averageValue": "2m"}}},
            ]
        }
    }
    assert reaction.current_utilization(hpa) == 4


def test_each_moment_has_its_median_and_maximum_over_the_runs_that_reached_it() -> None:
    runs = [
        reaction.Run("a", metrics_above_s=15.0, hpa_desired_s=30.0, scaled_s=30.0),
        reaction.Run("b", metrics_above_s=9.0, hpa_desired_s=20.0, scaled_s=21.0),
        reaction.Run("c", metrics_above_s=12.0, errors=["not every moment within 300 s"]),
    ]
    summary = reaction.summary(runs)
    assert summary["metrics_above_s"] == {"median": 12.0, "max": 15.0, "runs": 3}
    assert summary["scaled_s"] == {"median": 25.5, "max": 30.0, "runs": 2}
    table = reaction.report({"runs": [vars(r) for r in runs], "summary": summary}).splitlines()
    assert table[2].startswith("| 1 | None % | 15.0 | 30.0 (wants 0) | 30.0 |")
    assert table[4].startswith("| 3 | None % | 12.0 | - (wants 0) | - |")
    assert table[-2] == "| median | | 12.0 | 25.0 | 25.5 |"


def test_the_kubeconfig_is_the_flag_then_the_environment_then_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KUBECONFIG", "/a/config:/b/config")
    assert kubeconfig_path("given") == "given"
    assert kubeconfig_path(None) == "/a/config"
    monkeypatch.delenv("KUBECONFIG")
    assert kubeconfig_path(None) == "build/kubeconfig"


def parse(*words: str) -> argparse.Namespace:
    return build_parser().parse_args(["autoscaling", *words])


def test_the_flags_make_the_options() -> None:
    options = benchmark.options_from(parse("--phases", "reaction", "--runs", "2"))
    assert options.phases == ("reaction",)
    assert options.runs == 2
    assert options.pods == 30
    with pytest.raises(SystemExit, match="--phases"):
        benchmark.options_from(parse("--phases", "kubelet,idle"))
    with pytest.raises(SystemExit, match="--seconds"):
        benchmark.options_from(parse("--seconds", "0"))
