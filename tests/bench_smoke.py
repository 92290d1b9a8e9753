"""The benchmarks' smoke tests (tests/integration/bench, tests/e2e, tests/e2e_ha): each runs a
`podplane-bench` command or `python -m bench` mode as its documentation does, at a tiny size, and
fails if it exits with an error or if a headline figure of its JSON is missing or zero, so that no
benchmark rots unseen (as `podplane-bench apiserver` did, reporting 0 writes/s for refused pods)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import tools

ROOT = Path(__file__).resolve().parents[1]
OUT = "{out}"  # in a command: the JSON result's path
DIR = "{dir}"  # in a command: a folder of the test's own for the other files


@dataclass(frozen=True)
class Smoke:
    """A benchmark's command (the words after `podplane-bench`, with OUT and DIR in place of
    paths) and the JSON paths of its headline figures: keys joined with ".", "*" for every
    item of a list or every value of an object."""

    command: tuple[str, ...]
    figures: tuple[str, ...]
    python_module: bool = False  # run as `python -m bench`, as its documentation does

    @property
    def name(self) -> str:
        return self.command[0]


MISSING = object()  # a figure's value where its key is absent


def figure_values(result: Any, path: str) -> list[tuple[str, Any]]:
    """The values at `path` in `result`, each with its concrete path; MISSING where a key is
    absent (in any of the items a "*" stands for)."""
    found: list[tuple[str, Any]] = [("", result)]
    for key in path.split("."):
        step: list[tuple[str, Any]] = []
        for where, value in found:
            if value is MISSING:
                step.append((where, value))
            elif key == "*" and isinstance(value, list):
                step += [(f"{where}.{i}", v) for i, v in enumerate(value)]
            elif key == "*" and isinstance(value, dict):
                step += [(f"{where}.{k}", v) for k, v in value.items()]
            elif isinstance(value, dict) and key in value:
                step.append((f"{where}.{key}", value[key]))
            else:
                step.append((f"{where}.{key}", MISSING))
        found = step
    return [(where.lstrip("."), value) for where, value in found]


def zero_figures(result: Any, figures: Sequence[str]) -> list[str]:
    """The headline figures that are missing, not numbers, or not above zero (a "*" over no
    items at all counts as missing)."""
    bad: list[str] = []
    for path in figures:
        values = figure_values(result, path)
        if not values:
            bad.append(f"{path}: missing")
        for where, value in values:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is MISSING:
                bad.append(f"{where}: missing")
            elif not number or not value > 0:
                bad.append(f"{where} = {value!r}")
    return bad


def argv(smoke: Smoke, out: Path, folder: Path) -> list[str]:
    words = [w.replace(OUT, str(out)).replace(DIR, str(folder)) for w in smoke.command]
    if smoke.python_module:
        return [sys.executable, "-m", "bench", *words]
    return [tools.tool("podplane-bench"), *words]


def run(
    smoke: Smoke, folder: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> tuple[Any, float]:
    """Runs the benchmark, asserts it exited 0 and that its headline figures are above zero;
    its JSON result and the seconds it took."""
    out = folder / f"{smoke.name}.json"
    command = argv(smoke, out, folder)
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    said = f"$ {' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert done.returncode == 0, f"exited {done.returncode} after {seconds:.0f} s\n{said}"
    assert out.exists(), f"no JSON result at {out}\n{said}"
    result = json.loads(out.read_text())
    bad = zero_figures(result, smoke.figures)
    assert not bad, f"headline figures missing or zero: {bad}\n{said}"
    return result, seconds
