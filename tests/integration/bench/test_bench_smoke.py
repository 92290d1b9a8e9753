"""Every benchmark that starts its own etcd and apiserver (or needs no cluster) runs as its
documentation says, at a tiny size (seconds each): it exits 0 and its headline figures are above
zero (tests/bench_smoke.py; the commands: tests/bench_smoke_cases.py). The compose cluster's
benchmarks are smoke-tested in tests/e2e, the highly available profile's in tests/e2e_ha."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import bench_smoke
from tests.bench_smoke import Smoke
from tests.bench_smoke_cases import INTEGRATION


@pytest.mark.parametrize("smoke", INTEGRATION, ids=lambda smoke: smoke.name)
def test_benchmark_runs_and_measures(smoke: Smoke, tmp_path: Path) -> None:
    bench_smoke.run(smoke, tmp_path)
