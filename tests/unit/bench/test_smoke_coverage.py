"""Every `podplane-bench` command has a smoke test in one of the stages that can run it, and the
smoke tests' figure check fails on a figure that is missing, zero or not a number."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench.__main__ import build_parser
from tests.bench_smoke import zero_figures
from tests.bench_smoke_cases import E2E, E2E_HA, INTEGRATION


def subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("podplane-bench has no subcommands")


def test_every_benchmark_has_one_smoke_test() -> None:
    names = [s.name for stage in (INTEGRATION, E2E, E2E_HA) for s in stage]
    assert sorted(names) == sorted(subcommands())


RESULT: dict[str, Any] = {
    "writes": [{"create": {"per_second": 410.0}}, {"create": {"per_second": 0}}],
    "etcd": {"create": {"per_second": 6000}, "skipped": "no"},
    "costs": {"decode": 2.5, "encode": 3.0},
    "flag": True,
    "watch": [],
}


@pytest.mark.parametrize(
    ("figures", "bad"),
    [
        (["etcd.create.per_second", "costs.*"], []),
        (["writes.*.create.per_second"], ["writes.1.create.per_second = 0"]),
        (["etcd.cas.per_second"], ["etcd.cas: missing"]),
        (["writes.*.update"], ["writes.0.update: missing", "writes.1.update: missing"]),
        (["watch.*.deliveries"], ["watch.*.deliveries: missing"]),
        (["none.*"], ["none: missing"]),
        (["etcd.skipped"], ["etcd.skipped = 'no'"]),
        (["flag"], ["flag = True"]),
    ],
)
def test_a_figure_must_be_a_number_above_zero(figures: list[str], bad: list[str]) -> None:
    assert zero_figures(RESULT, figures) == bad
