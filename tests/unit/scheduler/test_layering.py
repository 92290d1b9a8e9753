"""The scheduler's folders in layers, as kube-scheduler's: the framework at the bottom, the queue
and the cache (backend) and the plugins on it, the loop on top. A part imports only parts of lower
layers (and itself), so there are no cycles between folders."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Lowest first; the parts of one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("scheduler.framework", "scheduler.pod_status"),
    (
        "scheduler.plugins.helper",
        "scheduler.backend.queue",
        "scheduler.backend.cache",
        "scheduler.algorithm",
    ),
    ("scheduler.plugins.noderesources", "scheduler.event_handlers", "scheduler.metrics"),
    ("scheduler.plugins", "scheduler.failure_handler"),
    ("scheduler.scheduler",),
    ("scheduler.__main__",),
)
LAYER_OF = {part: i for i, parts in enumerate(LAYERS) for part in parts}
# Packages that only hold parts.
CONTAINERS = {"scheduler", "scheduler.backend"}


def part_of(module: str) -> str | None:
    """The longest part that `module` is or is inside of."""
    for part in sorted(LAYER_OF, key=len, reverse=True):
        if module == part or module.startswith(part + "."):
            return part
    return None


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path) -> set[str]:
    """The scheduler modules `path` imports (for `from a import b`, a.b when that is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                out.add(name if is_module(name) else node.module)
    return {m for m in out if m == "scheduler" or m.startswith("scheduler.")}


def test_every_scheduler_module_belongs_to_a_part() -> None:
    orphans = [
        module_name(p)
        for p in sorted((ROOT / "scheduler").rglob("*.py"))
        if module_name(p) not in CONTAINERS and part_of(module_name(p)) is None
    ]
    assert orphans == []


def test_parts_import_only_lower_layers() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "scheduler").rglob("*.py")):
        importer = part_of(module_name(path))
        if importer is None:
            continue
        for imported in imported_modules(path):
            target = part_of(imported)
            if target is None or target == importer:
                continue
            if LAYER_OF[target] >= LAYER_OF[importer]:
                offenders.setdefault(module_name(path), []).append(imported)
    assert offenders == {}
