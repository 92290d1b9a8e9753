"""`podctl addon-manager`: one process keeps the add-ons applied, pass after pass, as
kube-addon-manager's `kubectl apply` loop does: ready once a pass succeeds, a deleted add-on put
back at the next pass, each change logged once, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from podctl.__main__ import build_parser
from podctl.cmd.addon_manager import run_addon_manager
from podctl.errors import connection_refused
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


async def test_an_apiserver_not_answering_yet_is_waited_for_not_an_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `docker compose up` the apiserver starts beside the addon-manager: its first
    connections are refused. An exit there made the container restart, which `up --wait` takes
    for a failed service."""
    monkeypatch.setattr("podctl.cmd.addon_manager.RETRY_SECONDS", 0.01)
    cluster = FakeClient()
    refusals = 3

    @asynccontextmanager
    async def connect(server: str) -> AsyncIterator[Any]:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise connection_refused(server)
        yield cluster

    (tmp_path / "proxy.yaml").write_text(PROXY_POD)
    ready = tmp_path / "applied"
    argv = ["addon-manager", "-f", str(tmp_path / "proxy.yaml"), "--ready-file", str(ready)]
    args = build_parser().parse_args(["--server", "apiserver:6443", *argv])
    manager = asyncio.create_task(run_addon_manager(args, global_options(args, connect)))

    await _until(ready.exists)
    assert refusals == 0
    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(10):
        assert await manager == 0
    assert capsys.readouterr().err == (
        "addon-manager: apply failed (again every 0.01s until it succeeds):\n"
        "The connection to the server apiserver:6443 was refused - "
        "did you specify the right host or port?\n"
        "addon-manager: pod/kube-proxy-x created\n"
        f"addon-manager: add-ons applied: {tmp_path / 'proxy.yaml'}\n"
    )
