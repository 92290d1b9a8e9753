"""The highly available profile's benchmark (`podplane-bench high-availability`, after
`make up-ha`) runs as its documentation says, at a tiny size: one etcd leader loss, one apiserver
loss, two seconds of writes through 3 and then 1 apiservers. It exits 0 and its headline figures
are above zero (tests/bench_smoke.py; the command: tests/bench_smoke_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import bench_smoke
from tests.bench_smoke import Smoke
from tests.bench_smoke_cases import E2E_HA


# A machine killed, started again and caught up, an apiserver killed and restarted by its
# kubelet, two apiservers stopped and started again: a few minutes on two cores.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("smoke", E2E_HA, ids=lambda smoke: smoke.name)
def test_benchmark_runs_and_measures(smoke: Smoke, tmp_path: Path) -> None:
    bench_smoke.run(smoke, tmp_path, timeout=840)
