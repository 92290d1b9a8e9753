"""bench.common.results: a benchmark's JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common.results import write_json


def test_the_result_is_written_with_its_folder_sorted_and_ending_in_a_newline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "build" / "bench" / "run.json"
    write_json(str(path), {"b": 2, "a": {"d": 1, "c": [1, 2]}})
    text = path.read_text()
    assert json.loads(text) == {"a": {"c": [1, 2], "d": 1}, "b": 2}
    assert text.index('"a"') < text.index('"b"') and text.endswith("}\n")
