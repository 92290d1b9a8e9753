"""pyproject.toml lists what the code imports, and requirements.txt pins the same: every
third-party package the project's own modules import at run time is a dependency of the project
(an optional one if only the host's benchmarks import it) and pinned where the images or the
venv install it from; nothing is declared that no module imports or that is not pinned."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "podplane",
    "apiserver",
    "scheduler",
    "kubelet",
    "controller",
    "proxy",
    "podctl",
    "bench",
    "clusterdns",
    "metricsserver",
    "netpol",
    "ingress",
)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement lines (`aiohttp>=3.14`, `numpy==2.4.6; ...`)."""
    return {_normalized(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]) for line in requirements}


def _pinned(path: Path) -> set[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return _names([line for line in lines if line and not line.startswith(("#", "-r"))])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_by_name(node: ast.AST) -> str:
    """The module of `importlib.import_module("name")`, or ""."""
    match node:
        case ast.Call(
            func=ast.Attribute(attr="import_module"), args=[ast.Constant(value=str(module))]
        ):
            return module
    return ""


def _runtime_imports(tree: ast.AST) -> set[str]:
    """Top-level names a module imports when it runs (not under `if TYPE_CHECKING:`)."""
    out: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            out |= set().union(*(_runtime_imports(n) for n in node.orelse))
            continue
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
        elif _imported_by_name(node):  # the Docker SDK, untyped, is imported so
            out.add(_imported_by_name(node).split(".")[0])
        out |= _runtime_imports(node)
    return out


@cache
def third_party_imports() -> dict[str, set[str]]:
    """Per third-party top-level name, the project's modules that import it."""
    out: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _runtime_imports(ast.parse(path.read_text(), str(path))):
                if name not in PACKAGES and name not in sys.stdlib_module_names:
                    out.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return out


def _declared() -> tuple[set[str], set[str]]:
    """pyproject.toml's dependencies, and its optional ones (every extra)."""
    extras = PYPROJECT.get("optional-dependencies", {}).values()
    return _names(PYPROJECT["dependencies"]), _names([r for extra in extras for r in extra])


def distributions_of(name: str) -> set[str]:
    """The installed distributions that provide top-level `name` (`yaml`: PyYAML)."""
    return {_normalized(d) for d in importlib.metadata.packages_distributions().get(name, [])}


def test_every_import_is_a_dependency() -> None:
    declared, optional = _declared()
    undeclared = {
        name: sorted(modules)
        for name, modules in third_party_imports().items()
        if not distributions_of(name) & (declared | optional)
    }
    assert undeclared == {}


def test_every_dependency_is_imported() -> None:
    imported = set().union(*(distributions_of(name) for name in third_party_imports()))
    declared, optional = _declared()
    assert sorted((declared | optional) - imported) == []


def test_dependencies_are_pinned_where_they_are_installed() -> None:
    """The images install requirements.txt; the host's venv requirements-dev.txt on top."""
    declared, optional = _declared()
    runtime = _pinned(ROOT / "requirements.txt")
    assert sorted(declared ^ runtime) == []
    assert sorted(optional - _pinned(ROOT / "requirements-dev.txt")) == []
