"""The layers point one way: CLI and services -> podplane (machinery) -> podplane.api (generated).
Services talk to each other over gRPC only, so none imports another."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("apiserver", "scheduler", "kubelet", "controller", "podctl", "bench")


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
IN_PROCESS = {"bench/scheduler/decision.py": {"scheduler"},
              "bench/apiserver/costs.py": {"apiserver"}}


@pytest.mark.parametrize("service", [s for s in SERVICES if (ROOT / s).is_dir()])
def test_services_do_not_import_each_other(service: str) -> None:
    others = set(SERVICES) - {service}
    offenders = {module: sorted(names & others - IN_PROCESS.get(module, set()))
                 for module, names in imported_top_levels(service).items()
                 if names & others - IN_PROCESS.get(module, set())}
    assert offenders == {}


def test_machinery_imports_no_service() -> None:
    offenders = {module: sorted(names & set(SERVICES))
                 for module, names in imported_top_levels("podplane").items()
                 if names & set(SERVICES)}
    assert offenders == {}
