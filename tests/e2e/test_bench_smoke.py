"""Every benchmark of the compose cluster (`make up`) runs as its documentation says, at a tiny
size that keeps the shared cluster's load small (a few pods, a few seconds each): it exits 0 and
its headline figures are above zero (tests/bench_smoke.py; the commands:
tests/bench_smoke_cases.py). The benchmarks that start a cluster of their own are smoke-tested in
tests/integration/bench."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import bench_smoke
from tests.bench_smoke import Smoke
from tests.bench_smoke_cases import E2E
from tests.e2e.compose_cluster import ADMIN_ENV


@pytest.mark.parametrize("smoke", E2E, ids=lambda smoke: smoke.name)
def test_benchmark_runs_and_measures(smoke: Smoke, tmp_path: Path) -> None:
    bench_smoke.run(smoke, tmp_path, env=ADMIN_ENV)
