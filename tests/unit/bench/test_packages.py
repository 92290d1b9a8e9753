"""bench's packages point one way: common/ at the bottom, the benchmarks over it, no cycle between
them (today: common <- scheduler <- apiserver, common <- pod_startup; __main__ over them all)."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"
PACKAGES = sorted(p.name for p in BENCH.iterdir() if (p / "__init__.py").is_file())


def package_imports() -> dict[str, set[str]]:
    """For each package of bench, the other packages of bench its modules import."""
    out: dict[str, set[str]] = {name: set() for name in PACKAGES}
    for name in PACKAGES:
        for path in (BENCH / name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                modules: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                elif isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                for module in modules:
                    parts = module.split(".")
                    if parts[0] == "bench" and len(parts) > 1 and parts[1] in PACKAGES:
                        out[name].add(parts[1])
            out[name].discard(name)
    return out


def test_common_imports_no_benchmark() -> None:
    assert package_imports()["common"] == set()


def test_no_cycle_between_packages() -> None:
    graph = package_imports()
    assert {"common", "scheduler"} <= set(graph)
    order: list[str] = []
    while len(order) < len(graph):
        ready = sorted(n for n in graph if n not in order and graph[n] <= set(order))
        assert ready, f"a cycle among {sorted(set(graph) - set(order))}: {graph}"
        order += ready
    assert order.index("common") == 0
