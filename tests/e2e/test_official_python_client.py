"""The official Python client's own e2e suite for apps and batch against the compose cluster:
kubernetes-client/python's kubernetes/e2e_test/test_apps.py and test_batch.py (commit 024658493,
in tests/e2e/official_client/kubernetes_e2e as they are there, but for the import of their
`base` module, since the wheel on PyPI does not ship them), run by their own pytest as that
repository runs them: the configuration is whatever ~/.kube/config says, here the cluster's admin
kubeconfig. Among them `test_create_daemonset`, which a cluster without DaemonSets fails with 404.
A test the suite skips (it skips all of them when it finds no cluster) fails this one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.kubectl import KUBECONFIG

SUITE = Path(__file__).parent / "official_client"
TESTS = ["test_create_deployment", "test_create_daemonset", "test_job_apis"]


def test_the_official_clients_apps_and_batch_e2e_suite_passes(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    shutil.copy(KUBECONFIG, tmp_path / ".kube" / "config")
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(SUITE)}
    env.pop("KUBECONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider",
         "--rootdir", str(SUITE), "-c", os.devnull, str(SUITE / "kubernetes_e2e")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    passed = set(re.findall(r"::\w+::(\w+) PASSED", run.stdout))
    assert passed == set(TESTS), report
    assert " skipped" not in run.stdout, report
