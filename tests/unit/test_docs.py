"""The README and docs/ stay true to the repository: the README stays short, every repository path
and Python module they cite exists, every `make` target they show is the Makefile's, every
`podctl` and `podplane-bench` command line they show parses with the real command-line parser, and
every gRPC service or method they name is in protos/. Code moves often; this is what tells the
mover which sentence still points at the old place."""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import inspect
import io
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NoReturn
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_LINES = 200
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]

# A cited file is recognised by its extension, or by a first folder that is the repository's.
FILE_EXTENSIONS = (
    ".py",
    ".pyi",
    ".sh",
    ".yaml",
    ".yml",
    ".md",
    ".txt",
    ".toml",
    ".proto",
    ".json",
    ".cfg",
    ".ini",
    ".Dockerfile",
)
# Output of the build and of runs (build/pki, build/bench/...), and the user's home: not in git.
NOT_IN_REPOSITORY = ("build/", ".venv/", "~", "/")
CLIS = {"podctl": "podctl.__main__", "podplane-bench": "bench.__main__"}
SHELL_BLOCKS = ("sh", "shell", "bash")


# ------------------------------------------------------------------ reading markdown
@dataclass(frozen=True)
class Block:
    lang: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Markdown:
    prose: str  # the text outside fenced code blocks
    blocks: tuple[Block, ...]
    headings: tuple[str, ...]


def parse_markdown(text: str) -> Markdown:
    prose: list[str] = []
    blocks: list[Block] = []
    headings: list[str] = []
    fence: str | None = None
    lang = ""
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence, lang, body = stripped[:3], stripped[3:].strip().lower(), []
        elif fence is not None and stripped.startswith(fence):
            blocks.append(Block(lang, tuple(body)))
            fence = None
        elif fence is not None:
            body.append(line)
        else:
            prose.append(line)
            if line.startswith("#"):
                headings.append(line.lstrip("#").strip())
    return Markdown("\n".join(prose), tuple(blocks), tuple(headings))


def code_spans(prose: str) -> list[str]:
    """Inline code, which may wrap onto the next line, with its whitespace normalised."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: Markdown) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for heading in markdown.headings:
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        out.add(anchor if count == 0 else f"{anchor}-{count}")
    return out


def commands(markdown: Markdown) -> Iterator[str]:
    """Each command line shown: every line of a shell block, the `$ ` lines of other blocks
    (the rest is output), continuation lines joined."""
    for block in markdown.blocks:
        pending = ""
        for line in block.lines:
            if block.lang not in SHELL_BLOCKS:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            line = pending + line.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            if line and not line.startswith("#"):
                yield line


def simple_commands(line: str) -> Iterator[list[str]]:
    """The words of each simple command of a shell line (split at ;, |, &&; comments dropped;
    leading VAR=value assignments skipped)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";|&")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    for token in lexer:
        if token and set(token) <= set(";|&"):
            yield from _without_assignments(words)
            words = []
        else:
            words.append(token)
    yield from _without_assignments(words)


def _without_assignments(words: list[str]) -> Iterator[list[str]]:
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    if words:
        yield words


# ------------------------------------------------------------------ what the repository has
@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    return frozenset(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE))


@cache
def top_level_folders() -> frozenset[str]:
    return frozenset(
        p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in {".git", ".venv", "build"}
    )


@cache
def python_packages() -> frozenset[str]:
    return frozenset(p.parent.name for p in ROOT.glob("*/__init__.py"))


@cache
def proto_names() -> dict[str, dict[str, set[str]]]:
    """Proto package -> message or service name -> its rpc methods (empty for messages)."""
    packages: dict[str, dict[str, set[str]]] = {}
    for path in (ROOT / "protos").rglob("*.proto"):
        text = path.read_text()
        package = re.search(r"^package\s+([\w.]+)\s*;", text, re.MULTILINE)
        if package is None:
            continue
        names = packages.setdefault(package.group(1), {})
        for kind, name, body in re.findall(
            r"^(message|service)\s+(\w+)\s*\{(.*?)^\}", text, re.MULTILINE | re.DOTALL
        ):
            names.setdefault(name, set()).update(
                re.findall(r"\brpc\s+(\w+)", body) if kind == "service" else ()
            )
    return packages


class _ParserBuilt(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__("parser built")
        self.parser = parser


@cache
def cli_parser(module_name: str) -> argparse.ArgumentParser:
    """The CLI's real parser: from its build_parser() if it has one, else caught as main() is
    about to parse (main() then stops there and runs nothing)."""
    module = importlib.import_module(module_name)
    build = getattr(module, "build_parser", None)
    if callable(build):
        parser = build()
        assert isinstance(parser, argparse.ArgumentParser)
        return parser

    def caught(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> NoReturn:
        raise _ParserBuilt(self)

    main = module.main
    with mock.patch.object(argparse.ArgumentParser, "parse_args", caught):
        try:
            main([]) if inspect.signature(main).parameters else main()
        except _ParserBuilt as built:
            return built.parser
    raise AssertionError(f"{module_name}.main() parsed no command line")


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parse_error(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """None when the command line parses, else what argparse says about it."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as e:
        if e.code not in (0, None):
            return stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue() else str(e)
    return None


# ------------------------------------------------------------------ the checks
def is_repository_path(span: str) -> bool:
    if not re.fullmatch(r"[\w.\-/*]+", span) or "://" in span or span.startswith(NOT_IN_REPOSITORY):
        return False
    if span.endswith(FILE_EXTENSIONS):
        return True
    return "/" in span and span.split("/")[0] in top_level_folders()


def missing_path(path: str) -> bool:
    if "*" in path:
        return not any(ROOT.glob(path))
    return not (ROOT / path).exists()


def defines(path: Path, qualname: str) -> bool:
    """Whether the module at `path` defines `qualname` (a function, class, method or name)."""
    scope: list[ast.stmt] = ast.parse(path.read_text()).body
    for part in qualname.split("."):
        found = next((node for node in scope if part in _names_defined(node)), None)
        if found is None:
            return False
        scope = found.body if isinstance(found, ast.ClassDef) else []
    return True


def _names_defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, ast.AnnAssign)
        else []
    )
    return {t.id for t in targets if isinstance(t, ast.Name)}


def path_problems(markdown: Markdown, source: Path) -> list[str]:
    """Cited paths (`kubelet/pod_sync.py`, `apiserver/registry/`, `tests/e2e/test_faults_*.py`),
    definitions in them (`kubelet/pod_sync.py::PodSyncer.sync`) and relative links."""
    problems = []
    for span in code_spans(markdown.prose):
        path, _, qualname = span.partition("::")
        if not is_repository_path(path):
            continue
        if missing_path(path):
            problems.append(f"`{span}`: {path} does not exist")
        elif qualname and not defines(ROOT / path, qualname):
            problems.append(f"`{span}`: {path} defines no {qualname}")
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", markdown.prose):
        if re.match(r"^[a-z]+:", target):
            continue  # http:, https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (source.parent / file).resolve()
        if file and not linked.exists():
            problems.append(f"link ({target}): {file} does not exist")
        elif anchor and (not file or linked.suffix == ".md"):
            headings = anchors(parse_markdown(linked.read_text()) if file else markdown)
            if anchor not in headings:
                problems.append(
                    f"link ({target}): no heading #{anchor} in "
                    f"{linked.name if file else source.name}"
                )
    return problems


def module_problems(markdown: Markdown) -> list[str]:
    """`python -m X` and dotted names of the project's modules (podplane.client.clientset,
    scheduler.framework.registry.Registry) must import; a proto package's services and messages
    (podplane.core.v1.Pods/Get) must be in protos/."""
    text = markdown.prose + "\n" + "\n".join("\n".join(b.lines) for b in markdown.blocks)
    problems = []
    dotted = set(re.findall(r"python3? -m ([\w.]+)", text))
    dotted |= {
        span
        for span in code_spans(markdown.prose)
        if re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", span)
    }
    for name in sorted(dotted):
        if name.split(".")[0] in python_packages() and not _proto_package_of(name):
            problem = _import_problem(name)
            if problem:
                problems.append(problem)
    for package, name, method in re.findall(
        r"\b(podplane(?:\.[a-z0-9]+)+|etcdserverpb)"
        r"\.([A-Z]\w*)(?:/(\w+))?",
        text,
    ):
        known = proto_names().get(package)
        if known is None:
            problems.append(f"proto package {package} is not in protos/")
        elif name not in known:
            problems.append(f"{package}.{name} is not in protos/")
        elif method and method not in known[name]:
            problems.append(f"{package}.{name}/{method}: no such rpc in protos/")
    return problems


def _proto_package_of(name: str) -> str | None:
    return next((p for p in proto_names() if name == p or name.startswith(p + ".")), None)


def _import_problem(name: str) -> str | None:
    """None when `name` is a module, or a module's attribute, of the project."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            spec = importlib.util.find_spec(module_name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        obj: object = importlib.import_module(module_name)
        for attribute in parts[split:]:
            if not hasattr(obj, attribute):
                return f"`{name}`: {module_name} has no {'.'.join(parts[split:])}"
            obj = getattr(obj, attribute)
        return None
    return f"`{name}`: no such module"


def command_problems(markdown: Markdown) -> list[str]:
    """Command lines in code blocks must parse as written; `make X` and `podctl VERB` in the
    prose must name a real target or verb."""
    problems = []
    for line in commands(markdown):
        for words in simple_commands(line):
            problems += _check_command(words, full=True)
    for span in code_spans(markdown.prose):
        words = span.split()
        if words and (words[0] == "make" or words[0] in CLIS):
            problems += _check_command(words, full=False)
    return problems


def _check_command(words: list[str], *, full: bool) -> list[str]:
    shown = " ".join(words)
    if words[0] == "make":
        targets = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        return [
            f"`{shown}`: no target {t} in the Makefile" for t in targets if t not in make_targets()
        ]
    if words[0] not in CLIS:
        return []
    parser = cli_parser(CLIS[words[0]])
    argv = words[1:]
    if "--" in argv:  # what follows is the container's command (podctl exec, debug)
        argv = argv[: argv.index("--")]
    if not full:
        verbs = subcommands(parser)
        if argv and not argv[0].startswith("-") and argv[0] not in verbs:
            return [f"`{shown}`: {words[0]} has no command {argv[0]}"]
        return []
    error = parse_error(parser, argv)
    return [f"`{shown}`: {error}"] if error else []


# ------------------------------------------------------------------ the tests
def test_the_readme_is_short() -> None:
    lines = README.read_text().count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_paths_exist(document: Path) -> None:
    problems = path_problems(parse_markdown(document.read_text()), document)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_modules_and_grpc_methods_exist(document: Path) -> None:
    problems = module_problems(parse_markdown(document.read_text()))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_shown_are_real(document: Path) -> None:
    problems = command_problems(parse_markdown(document.read_text()))
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the folder maps
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# The README's map names every top-level folder, and the second-level folders of these.
README_MAPS_INSIDE = ("podplane", "tests")


def tracked_folders(root: Path = ROOT) -> set[str]:
    """The repository's folders down to the second level, as `top/` and `top/second/` (git's
    files: a folder only builds or runs leave is not the repository's)."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    return {
        "/".join(parts[:depth]) + "/"
        for parts in (f.split("/") for f in files)
        for depth in (1, 2)
        if len(parts) > depth
    }


def section(markdown: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of that level."""
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : len(markdown) if end < 0 else end]


def folders_unnamed(folders: set[str], readme: str, architecture: str) -> list[str]:
    """The folders a map leaves out: the architecture's folder map must name each second-level
    folder, the README's each top-level one and those inside README_MAPS_INSIDE (as `second/` in
    its folder's row)."""
    folder_map = section(architecture, "Folder map")
    rows = {
        row.split("|")[1].strip().strip("`"): row
        for row in section(readme, "What exists").splitlines()
        if row.startswith("| `")
    }
    missing = []
    for folder in sorted(folders):
        top, _, second = folder.partition("/")
        if not second:
            if folder not in rows:
                missing.append(f"README.md: {folder}")
        elif f"`{folder}" not in folder_map:
            missing.append(f"docs/architecture.md: {folder}")
        elif top in README_MAPS_INSIDE and f"`{second}`" not in rows.get(f"{top}/", ""):
            missing.append(f"README.md: {folder}")
    return missing


def test_the_maps_name_every_folder() -> None:
    unnamed = folders_unnamed(tracked_folders(), README.read_text(), ARCHITECTURE.read_text())
    assert unnamed == [], "folders the maps leave out:\n" + "\n".join(unnamed)


def test_the_map_check_catches_a_folder_left_out() -> None:
    readme = "# x\n\n## What exists\n\n| `podplane/` | `client/`. |\n| `docs/` | Docs. |\n"
    architecture = "# x\n\n## Folder map\n\n| `podplane/client/` | Client. |\n"
    folders = {"podplane/", "podplane/client/", "podplane/rbac/", "docs/", "adm/"}
    assert folders_unnamed(folders, readme, architecture) == [
        "README.md: adm/",
        "docs/architecture.md: podplane/rbac/",
    ]
    folders = {"podplane/", "podplane/client/", "podplane/rbac/", "docs/"}
    assert folders_unnamed(folders, readme, architecture + "`podplane/rbac/`\n") == [
        "README.md: podplane/rbac/"
    ]


def test_every_doc_is_linked_from_the_readme() -> None:
    linked = set(re.findall(r"\]\((docs/[\w\-]+\.md)", README.read_text()))
    assert {str(d.relative_to(ROOT)) for d in DOCUMENTS[1:]} <= linked


BAD_DOCUMENT = """\
# Title

The sync loop is `kubelet/pod_sink.py` (`kubelet/pod_sync.py::PodSyncer.sink`), the plugins live
in `scheduler/plugin/`, the faults in `tests/e2e/test_fault_*.py`; see [the guide](docs/nowhere.md)
and [that part](#no-such-part).
The client is `podplane.client.clientsets`; the API `podplane.core.v1.Pods/Bnd`.
Run `make bench-nothing` or `podctl frobnicate`.

```sh
podctl get pods --no-such-flag
podplane-bench scheduler --nodes 10 | tail -1; make up
python -m scheduler.nothing --help
```
"""


def test_the_checks_catch_what_is_wrong(tmp_path: Path) -> None:
    source = tmp_path / "bad.md"
    markdown = parse_markdown(BAD_DOCUMENT)
    problems = (
        path_problems(markdown, source) + module_problems(markdown) + command_problems(markdown)
    )
    for wrong in (
        "kubelet/pod_sink.py",
        "PodSyncer.sink",
        "scheduler/plugin/",
        "tests/e2e/test_fault_*.py",
        "docs/nowhere.md",
        "#no-such-part",
        "podplane.client.clientsets",
        "Pods/Bnd",
        "bench-nothing",
        "frobnicate",
        "--no-such-flag",
        "scheduler.nothing",
    ):
        assert any(wrong in p for p in problems), (wrong, problems)
    assert not any("make up" in p or "--nodes 10" in p for p in problems), problems
