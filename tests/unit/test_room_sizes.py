"""The hand-written code's rooms stay small: no module over 500 lines, no function over 100, and
`typing.Any` (the word, as `git grep -wo Any` counts it) at most 200 times outside the tests and
the generated code. A room that grows past them is split by what it does; JSON and other loose
values get the aliases of podplane/apimachinery/json_types.py, not Any."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100
MAX_ANY = 200


def hand_written_modules(root: Path = ROOT) -> list[Path]:
    """The Python files git knows, but the tests and the generated protobuf code."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return [
        root / name
        for name in listed
        if name and not name.startswith("tests/") and "_pb2" not in name and (root / name).exists()
    ]


def long_modules(paths: list[Path], root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}: {lines} lines"
        for path in paths
        if (lines := path.read_text().count("\n")) > MAX_MODULE_LINES
    ]


def long_functions(paths: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}::{node.name}: {lines} lines")
    return found


def any_count(paths: list[Path]) -> int:
    return sum(len(re.findall(r"\bAny\b", path.read_text())) for path in paths)


def test_no_module_over_500_lines() -> None:
    assert long_modules(hand_written_modules()) == []


def test_no_function_over_100_lines() -> None:
    assert long_functions(hand_written_modules()) == []


def test_any_at_most_200_times() -> None:
    assert any_count(hand_written_modules()) <= MAX_ANY


def test_the_measures_find_what_they_look_for(tmp_path: Path) -> None:
    """The checks above can fail: a long module, a long function and Any are each found."""
    module = tmp_path / "fat.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    module.write_text(
        "from typing import Any\n\n\ndef long(a: Any) -> None:\n" + body + "\n" * MAX_MODULE_LINES
    )
    assert long_modules([module], tmp_path) == [
        f"fat.py: {4 + MAX_FUNCTION_LINES + MAX_MODULE_LINES} lines"
    ]
    assert long_functions([module], tmp_path) == [f"fat.py::long: {MAX_FUNCTION_LINES + 1} lines"]
    assert any_count([module]) == 2
