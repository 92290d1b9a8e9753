"""podplane-bench idle-channels: its variants of the channel options and its readings of a
process's threads."""

from __future__ import annotations

from pathlib import Path

from bench.cluster_idle.channels import Reading, Result, Summary, rate, read_process, variants


def test_each_option_but_the_sizes_is_left_out_once_and_the_former_one_added() -> None:
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", 1),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.min_reconnect_backoff_ms", 2_000),
    ]
    assert variants(options) == {
        "grpc defaults": [],
        "podplane": options,
        "podplane without keepalive_time_ms": [options[0], options[2]],
        "podplane without min_reconnect_backoff_ms": [options[0], options[1]],
        "podplane with a 2 s minimum connect timeout": [
            *options,
            ("grpc.min_reconnect_backoff_ms", 2_000),
        ],
    }


def _thread(proc: Path, tid: int, run_ns: int, switches: int) -> None:
    task = proc / "42" / "task" / str(tid)
    task.mkdir(parents=True)
    (task / "schedstat").write_text(f"{run_ns} 100 7\n")
    (task / "status").write_text(
        f"Name:\tpython\nvoluntary_ctxt_switches:\t{switches}\nnonvoluntary_ctxt_switches:\t9\n"
    )


def test_a_process_is_the_sum_of_its_threads(tmp_path: Path) -> None:
    _thread(tmp_path, 42, 3_000_000, 10)
    _thread(tmp_path, 43, 2_000_000, 5)
    (tmp_path / "42" / "task" / "44").mkdir()  # a thread that ended meanwhile: no files
    assert read_process(42, tmp_path) == Reading(5_000_000, 15)


def test_rates_and_the_summary_per_variant() -> None:
    assert rate(Reading(0, 0), Reading(40_000_000, 400), 40.0) == Result(1.0, 10.0)
    summary = Summary.of([Result(0.5, 12.0), Result(0.3, 9.0), Result(0.4, 30.0)])
    assert summary.as_json() == {
        "processes": 3,
        "cpu_percent_of_a_core_median": 0.04,
        "cpu_percent_of_a_core": [0.03, 0.04, 0.05],
        "wakeups_per_s_median": 12.0,
        "wakeups_per_s": [9.0, 12.0, 30.0],
    }
