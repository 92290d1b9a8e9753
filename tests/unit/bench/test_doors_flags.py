"""`podplane-bench apiserver-doors`' flags: the full run's defaults, --quick's shorter cells, what
is given explicitly winning over both, phases skipped by "" or 0, and bad values refused."""

from __future__ import annotations

import argparse

import pytest

import bench.__main__ as cli
from bench.apiserver_doors import benchmark


def parse(*argv: str) -> benchmark.Options:
    parser = argparse.ArgumentParser()
    benchmark.add_parser(parser.add_subparsers(dest="command"))
    return benchmark.options_from(parser.parse_args(["apiserver-doors", *argv]))


def test_full_run_defaults() -> None:
    o = parse()
    assert (o.clients, o.client_processes, o.warmup, o.duration) == ((1, 10, 100), 4, 2.0, 8.0)
    assert (o.watchers, o.watch_doors, o.watch_rate, o.watch_duration) == (
        100,
        ("http", "grpc"),
        20.0,
        10.0,
    )
    assert (o.list_pods, o.list_repetitions, o.kubectl) == (1000, 5, "/usr/bin/kubectl")
    assert o.out == "build/bench/apiserver-doors.json"
    assert o.markdown_out == "build/bench/apiserver-doors.md"


def test_quick_shortens_cells_but_keeps_the_client_counts_and_the_pods() -> None:
    o = parse("--quick")
    assert (o.warmup, o.duration, o.watch_duration, o.list_repetitions) == (1.0, 3.0, 4.0, 2)
    assert (o.clients, o.watchers, o.list_pods) == ((1, 10, 100), 100, 1000)


def test_explicit_values_win_over_quick() -> None:
    o = parse(
        "--quick",
        "--duration",
        "5",
        "--warmup",
        "0",
        "--list-repetitions",
        "7",
        "--clients",
        "2, 20",
        "--watch-doors",
        "http",
        "--watchers",
        "50",
    )
    assert (o.duration, o.warmup, o.list_repetitions) == (5.0, 0.0, 7)
    assert (o.clients, o.watch_doors, o.watchers) == ((2, 20), ("http",), 50)


def test_phases_can_be_skipped() -> None:
    o = parse("--clients", "", "--watchers", "0", "--list-pods", "0")
    assert (o.clients, o.watchers, o.list_pods) == ((), 0, 0)


@pytest.mark.parametrize(
    "argv",
    [
        ("--clients", "1,x"),
        ("--clients", "0,10"),
        ("--watch-doors", "http,rest"),
        ("--watchers", "-1"),
        ("--list-pods", "many"),
    ],
)
def test_bad_values_are_refused_by_the_parser(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ("--duration", "0"),
        ("--warmup", "-1"),
        ("--client-processes", "0"),
        ("--list-repetitions", "0"),
        ("--watch-rate", "0"),
    ],
)
def test_bad_settings_are_refused_before_anything_starts(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit, match="must be"):
        parse(*argv)


def test_the_verb_runs_the_benchmark_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[benchmark.Options] = []

    def run(options: benchmark.Options) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(benchmark, "run", run)
    assert cli.main(["apiserver-doors", "--quick", "--clients", "1,100"]) == 0
    assert [o.clients for o in seen] == [(1, 100)]


def test_create_cells_alternate_which_door_goes_first() -> None:
    assert [benchmark.door_order(i) for i in range(3)] == [
        ("grpc", "http"),
        ("http", "grpc"),
        ("grpc", "http"),
    ]
