"""The layers point one way: CLI and services -> podplane (machinery) -> podplane.api (generated).
Services talk to each other over gRPC only, so none imports another. Tests import helper modules,
never another test module or a conftest."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = (
    "apiserver",
    "scheduler",
    "kubelet",
    "controller",
    "proxy",
    "podctl",
    "bench",
    "clusterdns",
)


def imported_top_levels(package: str) -> dict[str, set[str]]:
    """For each module of `package`, the top-level packages it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "api" in path.relative_to(ROOT).parts[:2] and package == "podplane":
            continue  # generated code
        tree = ast.parse(path.read_text(), str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


# The exceptions: benchmarks that time a service's own code in process, as kubernetes'
# scheduler_perf and storage benchmarks do, without a cluster.
IN_PROCESS = {
    "bench/scheduler/decision.py": {"scheduler"},
    "bench/apiserver/costs.py": {"apiserver"},
    "bench/kube_proxy/sync.py": {"proxy"},
}


@pytest.mark.parametrize("service", [s for s in SERVICES if (ROOT / s).is_dir()])
def test_services_do_not_import_each_other(service: str) -> None:
    others = set(SERVICES) - {service}
    offenders = {
        module: sorted(names & others - IN_PROCESS.get(module, set()))
        for module, names in imported_top_levels(service).items()
        if names & others - IN_PROCESS.get(module, set())
    }
    assert offenders == {}


def test_machinery_imports_no_service() -> None:
    offenders = {
        module: sorted(names & set(SERVICES))
        for module, names in imported_top_levels("podplane").items()
        if names & set(SERVICES)
    }
    assert offenders == {}


# ---------------------------------------------------------------- folders inside a component

COMPONENTS = ("podplane", *SERVICES)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path, component: str) -> set[str]:
    """The modules of `component` a file imports (for `from pkg import x`, both pkg and pkg.x:
    x may be a module or a name)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == component}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == component:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def folder_cycles(component: str) -> list[list[str]]:
    """Cycles between sibling folders (packages with the same parent) of a component, at any
    depth: folder A depends on sibling B when a module anywhere under A imports one under B."""
    packages = {
        _module_name(p.parent / "__init__.py")
        for p in (ROOT / component).rglob("__init__.py")
        if "api" not in p.relative_to(ROOT).parts[1:2] or component != "podplane"
    }
    edges: dict[str, set[str]] = {p: set() for p in packages}
    for path in (ROOT / component).rglob("*.py"):
        if component == "podplane" and path.relative_to(ROOT).parts[1] == "api":
            continue
        source = _module_name(path)
        for target in _imports_of(path, component):
            # The two sibling folders the import crosses between, if it crosses any.
            s, t = source.split("."), target.split(".")
            common = 0
            while common < min(len(s), len(t)) and s[common] == t[common]:
                common += 1
            a, b = ".".join(s[: common + 1]), ".".join(t[: common + 1])
            if a != b and a in packages and b in packages:
                edges[a].add(b)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(edges):  # a cycle is found from each of its members; reported once
        stack = [(start, [start])]
        while stack:
            node, path_ = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start and frozenset(path_) not in seen:
                    seen.add(frozenset(path_))
                    cycles.append([*path_, start])
                elif nxt not in path_ and nxt > start:
                    stack.append((nxt, [*path_, nxt]))
    return cycles


@pytest.mark.parametrize("component", COMPONENTS)
def test_no_cycles_between_folders(component: str) -> None:
    assert folder_cycles(component) == []


# ---------------------------------------------------------------- tests

# `tests.x.test_y` or `tests.x.conftest`, as imported or as named in a `python -c` string.
_TEST_OR_CONFTEST = re.compile(r"\btests(?:\.\w+)*\.(?:test_\w+|conftest)\b")


def test_tests_import_no_test_module_and_no_conftest() -> None:
    """Helpers shared by tests live in helper modules and fixtures in conftest.py, where pytest
    finds them: a test module imported by another ties the two together (a test function it
    hands over runs twice), and a fixture imported by name needs a `# noqa` to pass the linter."""
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        found: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                modules = _TEST_OR_CONFTEST.findall(node.value)
            else:
                continue
            found += [m for m in modules if _TEST_OR_CONFTEST.fullmatch(m)]
        if found:
            offenders[str(path.relative_to(ROOT))] = sorted(set(found))
    assert offenders == {}
