"""`kubectl run -i --rm` many times on the compose cluster with the container still
running when kubectl attaches: its output comes through the attach, exactly once, and the run
deletes its pod (apart from test_kubectl_run.py, so that the two loops run side by side)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.kubectl_run import RUNS, lines, run_and_remove, web_service

SIDE_BY_SIDE = 5


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return web_service(kubectl_namespace)


def test_an_attached_run_prints_a_backends_page_once_every_time(k: Kubectl) -> None:
    """kubectl prints the log before it attaches, and the attach gives the output from then on (as
    a CRI runtime's does): a line written in between, by a container still running at the
    attach, is lost, on Kubernetes as here, so each run waits to be attached rather than race it:
    its shell reads a line from the standard input, which only the attach delivers. The runs go
    SIDE_BY_SIDE at a time, each in a pod of its own name, one run after another."""

    def runs(slot: int) -> None:
        for i in range(RUNS // SIDE_BY_SIDE):
            out = run_and_remove(
                k, "sh", "-c", "read -r go && wget -qO- http://web", stdin="go\n",
                name=f"client-{slot}",
            )  # fmt: skip
            what = f"run {i + 1} of client-{slot}"
            assert out.out.startswith("hello from web-"), f"{what}: {out}"
            assert len(lines(out.out, "hello from web-")) == 1, f"{what}: {out}"
            assert "falling back" not in out.err, f"{what}: {out}"

    with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        for done in [pool.submit(runs, slot) for slot in range(SIDE_BY_SIDE)]:
            done.result()
