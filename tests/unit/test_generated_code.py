"""podplane/api is exactly what scripts/gen-protos.sh produces from protos/ (never hand-edited)."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "gen-protos.sh"), str(tmp_path)],
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    fresh, committed = tmp_path / "podplane" / "api", ROOT / "podplane" / "api"
    diffs: list[str] = []

    def compare(cmp: filecmp.dircmp[str], rel: str) -> None:
        diffs.extend(
            f"{rel}{n}"
            for n in cmp.left_only + cmp.right_only + cmp.diff_files
            if n != "__pycache__"
        )
        for name, sub in cmp.subdirs.items():
            if name != "__pycache__":
                compare(sub, f"{rel}{name}/")

    compare(filecmp.dircmp(fresh, committed), "")
    assert diffs == [], f"regenerate with `make protos`: {diffs}"
