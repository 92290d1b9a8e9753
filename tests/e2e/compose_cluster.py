"""The compose cluster brought up by `make up` (apiserver on localhost:6443, three Docker-in-Docker
nodes): where it is, the admin's credentials, and `docker compose`, a node's own `docker` and
`podctl` run against it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from podplane.client.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("PODPLANE_SERVER", "localhost:6443")
NODES = ("node-1", "node-2", "node-3")
# The cluster's PKI (make up writes it): the tests act as the admin (O=system:masters).
PKI = Path(os.environ.get("PODPLANE_PKI", ROOT / "build" / "pki"))
ADMIN = Credentials(str(PKI / "ca.crt"), str(PKI / "admin.crt"), str(PKI / "admin.key"))
ADMIN_ENV = {
    "PODPLANE_CA": ADMIN.ca_file,
    "PODPLANE_CERT": str(ADMIN.cert_file),
    "PODPLANE_KEY": str(ADMIN.key_file),
}


def compose(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        check=check,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def node_docker(node: str, *args: str) -> str:
    """Runs `docker ...` against a node's own engine, inside the node container."""
    return compose("exec", "-T", node, "docker", *args).stdout


def podctl(
    *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ADMIN_ENV, "PODPLANE_SERVER": SERVER}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "podctl"), *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podctl {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result
