"""bench.common.profiled: a module run under cProfile timed by CPU, its stats written when it
returns."""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_the_module_runs_with_its_arguments_and_its_stats_are_written(tmp_path: Path) -> None:
    out = tmp_path / "stats"
    code = "import sys; print(sum(range(10**6)), sys.argv[1:])"
    script = tmp_path / "busy.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "bench.common.profiled", str(out), "busy", "a", "b"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "499999500000 ['a', 'b']"
    stats = pstats.Stats(str(out))
    files = {file for file, _, _ in stats.stats}  # type: ignore[attr-defined]
    assert str(script) in files
