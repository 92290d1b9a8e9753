"""The apiserver's folders point one way: each imports only the layers below it (the front door
over the registry, the registry over admission, validation and storage, and so on), so no two
folders depend on each other and a second front door can sit beside the gRPC one."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "apiserver"

# Top to bottom: a package or top-level module may import only those of the layers below its own.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("server",),  # the assembly
    ("endpoints", "controlplane"),  # the front doors, and what the apiserver keeps up about itself
    # The aggregation layer: its proxy under the REST door, over the registry's watch caches
    # and stores and the webhook library's resolution.
    ("aggregator",),
    # The command line's option groups and the serving configuration they make: over the
    # registry's defaults and pools, under the front doors that serve with them.
    ("options",),
    ("registry",),
    ("admission", "flowcontrol"),
    ("auth", "validation"),
    ("defaulting", "storage"),
    # Calling webhooks (admission, conversion, aggregation), on JSON and plain dataclasses.
    ("webhook",),
    # The vocabulary every layer speaks.
    ("errors", "objects"),
)


def _imported_modules(path: Path) -> set[str]:
    """The apiserver modules a file imports (for `from apiserver import x`, apiserver.x)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "apiserver"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "apiserver":
                out |= {f"apiserver.{a.name}" for a in node.names}
            elif node.module.split(".")[0] == "apiserver":
                out.add(node.module)
    return out


def _top(dotted: str) -> str:
    """apiserver.registry.pod.proxy -> registry; apiserver.errors -> errors."""
    return dotted.split(".")[1]


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _folder(dotted: str, modules: dict[str, Path]) -> str:
    """The folder a module is in; a module at the top of apiserver stands for itself."""
    path = modules.get(dotted)
    if path is None:  # a name imported from a package: the package is the folder
        return dotted.replace(".", "/")
    folder = path.parent.relative_to(ROOT).as_posix()
    return dotted if folder == "apiserver" and path.name != "__init__.py" else folder


def test_every_package_has_a_layer() -> None:
    listed = {name for layer in LAYERS for name in layer}
    present = {_top(m) for m in _modules() if m != "apiserver"}
    assert present - listed == set(), "add the new package or module to LAYERS"


def test_each_layer_imports_only_the_layers_below() -> None:
    rank = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    upward: dict[str, list[str]] = {}
    for module, path in _modules().items():
        if module == "apiserver":
            continue
        own = _top(module)
        wrong = sorted(
            m
            for m in _imported_modules(path)
            if _top(m) != own and rank.get(_top(m), -1) <= rank[own]
        )
        if wrong:
            upward[module] = wrong
    assert upward == {}


def test_no_two_folders_import_each_other() -> None:
    """Folders at every depth (registry/pod/ and registry/, endpoints/grpc/ and endpoints/)."""
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        source = _folder(module, modules)
        for imported in _imported_modules(path):
            target = _folder(imported, modules)
            if target != source:
                edges[source].add(target)
    # Depth-first search for a path that comes back to where it started.
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(folder: str) -> None:
        if folder in visiting:
            cycles.append([*visiting[visiting.index(folder) :], folder])
            return
        if folder in done:
            return
        visiting.append(folder)
        for target in sorted(edges[folder]):
            visit(target)
        visiting.pop()
        done.add(folder)

    for folder in sorted(edges):
        visit(folder)
    assert cycles == []
