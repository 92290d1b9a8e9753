"""podctl's parts import one way: the verbs (cmd) over the libraries, each library only over the
ones below it, so no two of them import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PODCTL = Path(__file__).resolve().parents[3] / "podctl"

# Lowest first: each part may import only the parts before it.
ORDER = (
    "errors",
    "connection",
    "options",
    "resource",
    "printers",
    "workloads",
    "pods",
    "describe",
    "cmd",
    "__main__",
)


def part_of(module: str) -> str:
    """podctl.printers.table -> printers; podctl.errors -> errors."""
    return module.split(".")[1]


def podctl_imports(path: Path) -> set[str]:
    """The podctl parts a file imports."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "podctl":
                parts.update(alias.name for alias in node.names)
            elif node.module.startswith("podctl."):
                parts.add(part_of(node.module))
        elif isinstance(node, ast.Import):
            parts.update(part_of(a.name) for a in node.names if a.name.startswith("podctl."))
    return parts


def test_every_part_has_a_place_in_the_order() -> None:
    parts = {
        p.stem if p.is_file() else p.name
        for p in PODCTL.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert parts == set(ORDER)


@pytest.mark.parametrize("part", ORDER)
def test_a_part_imports_only_the_parts_below_it(part: str) -> None:
    below = set(ORDER[: ORDER.index(part)])
    files = (
        sorted((PODCTL / part).rglob("*.py"))
        if (PODCTL / part).is_dir()
        else [PODCTL / f"{part}.py"]
    )
    offenders = {
        str(f.relative_to(PODCTL)): sorted(podctl_imports(f) - below - {part})
        for f in files
        if podctl_imports(f) - below - {part}
    }
    assert offenders == {}
