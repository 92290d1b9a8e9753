"""`podctl addon-manager`: one process keeps the add-ons applied, pass after pass, as
kube-addon-manager's `kubectl apply` loop does: ready once a pass succeeds, a deleted add-on put
back at the next pass, each change logged once, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from podctl.__main__ import build_parser
from podctl.cmd.addon_manager import run_addon_manager
from podctl.options import global_options
from tests.unit.podctl.fakes import FakeClient

PROXY_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: kube-proxy-x, namespace: kube-system}
spec:
  containers: [{name: proxy, image: podplane/addons:dev}]
"""


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def test_addons_kept_applied_in_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeClient()
    (tmp_path / "addons").mkdir()
    (tmp_path / "addons" / "proxy.yaml").write_text(PROXY_POD)
    ready = tmp_path / "applied"
    argv = ["addon-manager", "-f", str(tmp_path / "addons"), "--interval", "0.05"]
    args = build_parser().parse_args([*argv, "--ready-file", str(ready)])
    manager = asyncio.create_task(
        run_addon_manager(args, global_options(args, cluster.connector()))
    )

    await _until(ready.exists)
    key = ("kube-system", "kube-proxy-x")
    assert key in cluster.pods.store
    del cluster.pods.store[key]  # someone deletes the add-on
    await _until(lambda: key in cluster.pods.store)

    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(10):
        assert await manager == 0
    assert capsys.readouterr().err == (
        "addon-manager: pod/kube-proxy-x created\n"
        f"addon-manager: add-ons applied: {tmp_path / 'addons'}\n"
        "addon-manager: pod/kube-proxy-x created\n"
    )
