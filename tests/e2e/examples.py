"""Deploying an example of examples/ as its README says: its deploy.sh, with the project's
kubectl first on PATH and the cluster's kubeconfig (the admin's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import tools
from tests.e2e.compose_cluster import ROOT

EXAMPLES = ROOT / "examples"


def deploy(name: str, timeout: float = 600) -> None:
    """examples/NAME/deploy.sh, to its end (the Deployment rolled out)."""
    env = {
        **os.environ,
        "PATH": f"{Path(tools.kubectl()).parent}:{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(ROOT / "build" / "kubeconfig"),
        "PYTHON": sys.executable,  # the examples that download wheels for their image
    }
    done = subprocess.run(
        ["bash", str(EXAMPLES / name / "deploy.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"examples/{name}/deploy.sh: {done.stdout}\n{done.stderr}"
