"""The controller folders point one way: framework/ imports no other part of controller/;
history/ (the ControllerRevisions the DaemonSet and StatefulSet controllers share) imports
framework/ only; each controller's folder imports those libraries and itself only; the list of
controllers and the command import the folders."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "controller"
# The libraries controllers share, each importing only those before it.
LIBRARIES = ("framework", "history")
CONTROLLERS = (
    "daemon",
    "deployment",
    "replicaset",
    "statefulset",
    "job",
    "nodelifecycle",
    "nodeipam",
    "podgc",
    "garbagecollector",
    "namespace",
    "persistentvolume",
    "pvcprotection",
    "pvprotection",
    "localpath",
    "endpointslice",
    "endpoint",
    "serviceaccount",
    "rootcacertpublisher",
    "tokencleaner",
    "podautoscaler",
    "servicelb",
)


def part_of(module: str) -> str:
    """The folder (or top-level module) of controller/ that a dotted name belongs to."""
    return module.split(".")[1] if module.count(".") else ""


def imported_parts() -> dict[str, set[str]]:
    """For each module of controller/, the parts of controller/ it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update(f"{node.module}.{a.name}" for a in node.names)
        parts = {part_of(n) for n in names if n.split(".")[0] == "controller"}
        out[str(path.relative_to(PACKAGE))] = parts - {""}
    return out


def test_every_controller_has_a_folder() -> None:
    assert all((PACKAGE / name / "controller.py").is_file() for name in CONTROLLERS)


def test_framework_imports_no_controller() -> None:
    offenders = {
        m: parts - {"framework"}
        for m, parts in imported_parts().items()
        if m.startswith("framework/") and parts - {"framework"}
    }
    assert offenders == {}


def test_history_imports_only_the_framework() -> None:
    offenders = {
        m: parts - {"framework", "history"}
        for m, parts in imported_parts().items()
        if m.startswith("history/") and parts - {"framework", "history"}
    }
    assert offenders == {}


def test_controllers_import_only_the_libraries_and_themselves() -> None:
    offenders = {}
    for module, parts in imported_parts().items():
        folder = module.split("/")[0]
        if folder in CONTROLLERS and parts - {*LIBRARIES, folder}:
            offenders[module] = parts - {*LIBRARIES, folder}
    assert offenders == {}
