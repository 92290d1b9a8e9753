"""`kubectl run -i --rm` many times in a row on the compose cluster with the container still
running when kubectl attaches: its output comes through the attach, exactly once, and the run
deletes its pod (apart from test_kubectl_run.py, so that the two loops run side by side)."""

from __future__ import annotations

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.kubectl_run import RUNS, lines, run_and_remove, web_service


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return web_service(kubectl_namespace)


def test_an_attached_run_prints_a_backends_page_once_every_time(k: Kubectl) -> None:
    """kubectl prints the log before it attaches, and the attach gives the output from then on (as
    a CRI runtime's does): a line written in between, by a container still running at the
    attach, is lost, on Kubernetes as here, so the runs wait to be attached rather than race it."""
    for i in range(RUNS):
        out = run_and_remove(k, "sh", "-c", "sleep 2 && wget -qO- http://web")
        assert out.out.startswith("hello from web-"), f"attached run {i + 1} of {RUNS}: {out}"
        assert len(lines(out.out, "hello from web-")) == 1, f"attached run {i + 1}: {out}"
        assert "falling back" not in out.err, f"attached run {i + 1}: {out}"
