"""End-to-end fixtures: the compose cluster brought up by `make up` (apiserver on localhost:6443,
three Docker-in-Docker nodes). Nothing here is faked: pods run on the nodes' own Docker engines."""
from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from tests.support import new_namespace

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("PODPLANE_SERVER", "localhost:6443")
NODES = ("node-1", "node-2", "node-3")
# The cluster's PKI (make up writes it): the tests act as the admin (O=system:masters).
PKI = Path(os.environ.get("PODPLANE_PKI", ROOT / "build" / "pki"))
ADMIN = Credentials(str(PKI / "ca.crt"), str(PKI / "admin.crt"), str(PKI / "admin.key"))
ADMIN_ENV = {"PODPLANE_CA": ADMIN.ca_file, "PODPLANE_CERT": str(ADMIN.cert_file),
             "PODPLANE_KEY": str(ADMIN.key_file)}


def compose(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "compose", *args], cwd=ROOT, check=check, text=True,
                          capture_output=True, timeout=timeout)


def node_docker(node: str, *args: str) -> str:
    """Runs `docker ...` against a node's own engine, inside the node container."""
    return compose("exec", "-T", node, "docker", *args).stdout


def podctl(*args: str, stdin: str | None = None, check: bool = True,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ADMIN_ENV, "PODPLANE_SERVER": SERVER}
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "podctl"), *args], input=stdin,
                            text=True, capture_output=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podctl {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


@pytest_asyncio.fixture(scope="session")
async def client() -> AsyncIterator[Client]:
    c = Client(SERVER, timeout=20, credentials=ADMIN)
    try:
        nodes = await c.nodes.list()
    except Exception as e:  # the cluster must be up: failing loudly, never skipping
        raise RuntimeError(f"no cluster at {SERVER}: run `make up` first ({e})") from e
    assert {n.metadata.name for n in nodes.items} >= set(NODES), "not every node registered"
    yield c
    await c.close()


@pytest_asyncio.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    """A fresh namespace per test keeps tests independent on the shared cluster; deleting it
    afterwards deletes its pods (the controller-manager's namespace controller), so that nodes
    are not left running them."""
    name = await new_namespace(client, "e2e-")
    yield name
    await client.namespaces.delete(name)
