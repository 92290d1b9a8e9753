"""@kubernetes/client-node, the official JavaScript client, for the tests that drive it: npm
installs the version named here into build/client-node (once per machine, under a lock, from the
npm registry with the machine's Node.js and npm), and `node` runs the tests' scripts
(tests/integration/clients/client_node/) with it. No node or npm fails the test: never a skip."""

from __future__ import annotations

import fcntl
import shutil
import subprocess

import pytest

from tests.integration.pod_images import REPO

# 2.x needs Node.js 22 (its undici decompresses zstd); the machine has Node.js 20.
VERSION = "1.4.0"
PREFIX = REPO / "build" / "client-node"
PACKAGE = PREFIX / "node_modules" / "@kubernetes" / "client-node"
SCRIPTS = REPO / "tests" / "integration" / "clients" / "client_node"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: the client-node tests need Node.js and npm", pytrace=False)
    return path


def node() -> str:
    return _tool("node")


def module() -> str:
    """The package's entry point (dist/index.js), installed first if it is not there yet."""
    index = PACKAGE / "dist" / "index.js"
    PREFIX.mkdir(parents=True, exist_ok=True)
    with open(PREFIX / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not index.exists():
            subprocess.run(
                [
                    _tool("npm"),
                    "install",
                    "--prefix",
                    str(PREFIX),
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    f"@kubernetes/client-node@{VERSION}",
                ],
                check=True,
                timeout=600,
                capture_output=True,
            )
    return str(index)
