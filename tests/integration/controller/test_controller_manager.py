"""`python -m controller`, the controller-manager, against the real apiserver over real etcd: it
serves health and metrics, deletes a namespace's content when the namespace is deleted, refuses a
bad setting with a line naming it, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc

from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.support import eventually, free_port, new_namespace

ROOT = Path(__file__).resolve().parents[3]


def controller_manager(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "controller", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_an_unknown_controller_is_refused_by_name() -> None:
    proc = controller_manager("--server", "127.0.0.1:1", "--controllers", "namespace,bogus")
    output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "--controllers: unknown controller(s) ['bogus']; known: namespace" in output.decode()


async def test_it_empties_and_removes_a_deleted_namespace(client: Client) -> None:
    health_port, metrics_port = free_port(), free_port()
    proc = controller_manager(
        "--server",
        client.target,
        "--health-port",
        str(health_port),
        "--metrics-bind-address",
        f"127.0.0.1:{metrics_port}",
    )
    try:

        async def serving() -> bool:
            result = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "podplane.componentbase.healthcheck",
                    f"127.0.0.1:{health_port}",
                ],
                capture_output=True,
                cwd=ROOT,
            )
            return result.returncode == 0

        await eventually(serving, timeout=20, what="the controller-manager's health")

        ns = await new_namespace(client)
        await client.configmaps.create(
            manifest.from_dict(
                {  # type: ignore[arg-type]
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "settings", "namespace": ns},
                    "data": {"a": "b"},
                }
            )
        )
        await client.namespaces.delete(ns)

        async def namespace_gone() -> bool:
            try:
                await client.namespaces.get(ns)
                return False
            except grpc.aio.AioRpcError as e:
                return bool(e.code() == grpc.StatusCode.NOT_FOUND)

        await eventually(namespace_gone, timeout=20, what=f"namespace {ns} to be deleted")
        assert not (await client.configmaps.list(ns)).items
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        assert 'workqueue_adds_total{name="namespace"}' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(proc.communicate, timeout=15)
    assert proc.returncode == 0, output.decode()
    assert f"namespace {ns}: empty; finalized" in output.decode()
