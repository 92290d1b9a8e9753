"""The benchmark targets run what docs/benchmarks.md says they run: `make -n TARGET` (which prints
the recipe without running it) names the node count the page gives for `make TARGET`. Two
targets once read one `NODES ?=` set twice, and the first assignment silently won."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
TARGETS = ("bench-scheduler", "loadtest", "loadtest-quick", "bench-overload", "bench-decision")
# Variables a developer may have exported; the test reads the Makefile's own defaults.
OVERRIDES = ("NODES", "OVERLOAD_NODES", "PODS", "WORKLOAD", "RATE", "GUARDS", "CLIENTS")


def dry_run_bench_command(target: str) -> str:
    """The `podplane-bench` command line `make -n TARGET` prints, continuation lines joined."""
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES and not k.startswith("MAKE")}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.replace("\\\n", " ")
    commands = [line for line in out.splitlines() if "podplane-bench " in line]
    assert len(commands) == 1, out
    return commands[0]


def documented_node_counts(target: str) -> set[int]:
    """The `--nodes N` docs/benchmarks.md gives where it names `make TARGET`: the first within
    the next few lines, before another make target is named."""
    text = BENCHMARKS.read_text()
    counts: set[int] = set()
    for mention in re.finditer(rf"make {re.escape(target)}(?![\w-])", text):
        after = text[mention.end() :]
        window = "\n".join(re.split(r"make [a-z]", after, maxsplit=1)[0].splitlines()[:3])
        found = re.search(r"--nodes (\d+)", window)
        if found:
            counts.add(int(found.group(1)))
    return counts


@pytest.mark.parametrize("target", TARGETS)
def test_benchmark_target_runs_the_documented_node_count(target: str) -> None:
    documented = documented_node_counts(target)
    assert len(documented) == 1, f"docs/benchmarks.md: {documented or 'no'} --nodes for {target}"
    ran = re.findall(r"--nodes (\d+)", dry_run_bench_command(target))
    assert [int(n) for n in ran] == sorted(documented)
