"""The layers point one way, as declared in LAYERS and checked as import-linter's layers contract
checks them: CLI and services -> podplane's machinery, in its own order -> podplane.api (generated).
Services talk to each other over gRPC only, so none imports another. Inside a component, no two
sibling folders or modules import each other, directly or round a longer cycle. Tests import
helper modules, never another test module or a conftest."""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Collection, Iterator
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
    "metricsserver",
    "adm",
    "netpol",
    "ingress",
)

# The layers, highest first, as an import-linter layers contract lists them: a module may import
# from the layers below its own, never from one above, and the names in one layer are
# independent: none imports another.
LAYERS: tuple[tuple[str, ...], ...] = (
    SERVICES,
    # A process's plumbing (component-base), kinds' tables (pkg/printers), the stream protocols,
    # the node agents' iptables commands (pkg/util/iptables), a machine's routes to the other
    # nodes' pods (flannel's host-gw: the nodes' network agent and the apiserver's machine).
    (
        "podplane.componentbase",
        "podplane.printers",
        "podplane.streaming",
        "podplane.iptables",
        "podplane.podroutes",
    ),
    # Talking to the apiserver (client-go); what every component knows of volumes, of RBAC
    # (cluster role aggregation) and of bootstrap tokens (k8s.io/cluster-bootstrap).
    ("podplane.client", "podplane.volume", "podplane.rbac", "podplane.bootstraptoken"),
    ("podplane.apimachinery",),
    ("podplane.api",),  # generated from protos/
)
PACKAGES = tuple(sorted({name.split(".")[0] for layer in LAYERS for name in layer}))
# Modules in no layer: podplane's own __init__, which imports no layer.
UNLAYERED = {"podplane"}

# The exceptions: benchmarks that time a service's own code in process, as kubernetes'
# scheduler_perf and storage benchmarks do, without a cluster.
IN_PROCESS = {
    "bench.scheduler.decision": {"scheduler"},
    "bench.apiserver.costs": {"apiserver"},
    "bench.apiserver.authorization": {"apiserver"},
    "bench.apiserver.admission_policy": {"apiserver"},
    "bench.apiserver.admission_webhooks": {"apiserver"},
    "bench.kube_proxy.sync": {"proxy"},
    "bench.netpol.sync": {"netpol"},
}


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path, packages: Collection[str]) -> set[str]:
    """The modules under `packages` a file imports (for `from pkg import x`, both pkg and pkg.x:
    x may be a module or a name)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] in packages}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in packages:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _sources(package: str, root: Path = ROOT) -> Iterator[Path]:
    return iter(sorted((root / package).rglob("*.py")))


def layer_of(module: str) -> tuple[int, str] | None:
    """The index of the layer `module` is in, and the layer's name it falls under."""
    for index, layer in enumerate(LAYERS):
        for name in layer:
            if module == name or module.startswith(f"{name}."):
                return index, name
    return None


def unlayered_modules(root: Path = ROOT) -> list[str]:
    """Modules of the project's packages in no layer (a new package must be given its place)."""
    names = [_module_name(path, root) for package in PACKAGES for path in _sources(package, root)]
    return [name for name in names if layer_of(name) is None and name not in UNLAYERED]


def layer_violations(root: Path = ROOT) -> dict[str, list[str]]:
    """Per module, the imports the layers forbid: of a higher layer, or of another name in its
    own layer. Every module is in a layer (test_every_module_is_in_a_layer), so an indirect
    chain upwards has a direct step upwards, and checking each import is enough."""
    out: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in _sources(package, root):
            source = _module_name(path, root)
            found = layer_of(source)
            if found is None:
                continue
            index, name = found
            bad: set[str] = set()
            for target in _imports_of(path, PACKAGES):
                to = layer_of(target)
                if to is None or to[1] in IN_PROCESS.get(source, set()):
                    continue
                if to[0] < index or (to[0] == index and to[1] != name):
                    bad.add(f"{target} ({to[1]})")
            if bad:
                out[source] = sorted(bad)
    return out


def test_every_module_is_in_a_layer() -> None:
    assert unlayered_modules() == []
    # podplane/__init__.py runs before every podplane module: a layer it imported, every layer
    # would import.
    assert _imports_of(ROOT / "podplane" / "__init__.py", PACKAGES) == set()


def top_level_packages(root: Path = ROOT) -> set[str]:
    """The repository's top-level Python packages (a folder with an __init__.py), tests aside."""
    return {p.parent.name for p in root.glob("*/__init__.py")} - {"tests"}


def where_unknown(package: str, root: Path = ROOT) -> list[str]:
    """The places that must know every top-level package and do not know this one: the layers,
    packaging (`pip install .` takes only the packages it finds), isort's first party, mypy."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    found = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    first_party = pyproject["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    mypy = re.search(r"/mypy (.*)", (root / "Makefile").read_text())
    places = {
        "tests/unit/test_layering.py LAYERS": package in PACKAGES,
        "pyproject.toml packages.find": f"{package}*" in found,
        "pyproject.toml known-first-party": package in first_party,
        "Makefile lint's mypy": mypy is not None and package in mypy[1].split(),
    }
    return [place for place, known in places.items() if not known]


def test_every_top_level_package_is_layered_packaged_and_linted() -> None:
    assert top_level_packages() == set(PACKAGES)
    assert {package: where_unknown(package) for package in sorted(PACKAGES)} == {
        package: [] for package in sorted(PACKAGES)
    }
    # The tests are linted and first party, neither packaged nor layered.
    assert where_unknown("tests") == [
        "tests/unit/test_layering.py LAYERS",
        "pyproject.toml packages.find",
    ]


def test_layers_point_one_way() -> None:
    assert layer_violations() == {}


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_layers_catch_an_import_upwards_or_across(tmp_path: Path) -> None:
    _write_tree(
        tmp_path,
        {
            "podplane/__init__.py": "",
            "podplane/api/core_pb2.py": "",
            "podplane/apimachinery/quantity.py": "from podplane.api import core_pb2\n",
            "podplane/client/informers.py": "import podplane.apimachinery.quantity\n",
            # Upwards: machinery -> a service, the generated code -> the machinery.
            "podplane/volume/helpers.py": "from scheduler import framework\n",
            "podplane/api/meta_pb2.py": "from podplane import client\n",
            # Across one layer: client and volume are independent.
            "podplane/client/pv.py": "from podplane.volume.helpers import x\n",
            # Across services, allowed only for the benchmarks that time a service in process.
            "kubelet/kubelet.py": "import podplane.client.informers\nimport apiserver\n",
            "bench/scheduler/decision.py": "import scheduler.framework\n",
            "scheduler/framework.py": "import podplane.api.core_pb2\n",
        },
    )
    assert layer_violations(tmp_path) == {
        "podplane.volume.helpers": ["scheduler (scheduler)", "scheduler.framework (scheduler)"],
        "podplane.api.meta_pb2": ["podplane.client (podplane.client)"],
        "podplane.client.pv": [
            "podplane.volume.helpers (podplane.volume)",
            "podplane.volume.helpers.x (podplane.volume)",
        ],
        "kubelet.kubelet": ["apiserver (apiserver)"],
    }
    _write_tree(tmp_path, {"podplane/informers/factory.py": ""})
    assert unlayered_modules(tmp_path) == ["podplane.informers.factory"]


# ---------------------------------------------------------------- folders inside a component

COMPONENTS = ("podplane", *SERVICES)


def sibling_cycles(component: str, root: Path = ROOT) -> list[list[str]]:
    """Cycles between siblings (folders and modules with the same parent) of a component, at
    any depth: sibling A depends on sibling B when a module in or under A imports one in or
    under B. A folder and a module beside it (kubelet/pod/ and kubelet/kubelet.py) are
    siblings, as two folders are."""
    paths = [
        p
        for p in _sources(component, root)
        if component != "podplane" or p.relative_to(root).parts[1] != "api"
    ]
    # Every module and every folder (a folder without an __init__.py too).
    nodes = {
        ".".join(parts[:n])
        for parts in (_module_name(p, root).split(".") for p in paths)
        for n in range(1, len(parts) + 1)
    }
    edges: dict[str, set[str]] = {n: set() for n in nodes}
    for path in paths:
        source = _module_name(path, root)
        for target in _imports_of(path, {component}):
            # The two siblings the import crosses between, if it crosses any (an import of an
            # enclosing package's __init__ crosses none).
            s, t = source.split("."), target.split(".")
            common = 0
            while common < min(len(s), len(t)) and s[common] == t[common]:
                common += 1
            if common == len(s) or common == len(t):
                continue
            a, b = ".".join(s[: common + 1]), ".".join(t[: common + 1])
            if b in nodes:
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
def test_no_cycles_between_siblings(component: str) -> None:
    assert sibling_cycles(component) == []


def test_a_cycle_between_a_folder_and_a_sibling_module_is_found(tmp_path: Path) -> None:
    _write_tree(
        tmp_path,
        {
            "kubelet/kubelet.py": "from kubelet.pod import workers\n",
            "kubelet/pod/__init__.py": "",
            "kubelet/pod/workers.py": "from kubelet.pod.sync import sync\n",
            # Deep inside the folder, an import of the module beside the folder.
            "kubelet/pod/sync.py": "import kubelet.kubelet\nimport kubelet.pod\n",
            "kubelet/node/lease.py": "from kubelet import pod\n",
        },
    )
    assert sibling_cycles("kubelet", tmp_path) == [
        ["kubelet.kubelet", "kubelet.pod", "kubelet.kubelet"]
    ]
    _write_tree(tmp_path, {"kubelet/pod/sync.py": "import kubelet.pod.workers\n"})
    assert sibling_cycles("kubelet", tmp_path) == [
        ["kubelet.pod.sync", "kubelet.pod.workers", "kubelet.pod.sync"]
    ]


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
