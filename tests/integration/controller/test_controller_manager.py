"""`python -m controller`, the controller-manager, against the real apiserver over real etcd: it
serves health and metrics, deletes a namespace's content when the namespace is deleted, refuses a
bad setting with a line naming it, stops cleanly on SIGTERM, and holds one watch per kind for all
its controllers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc

from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.support import ComponentProcess, eventually, free_port, new_namespace

ROOT = Path(__file__).resolve().parents[3]
# Every kind some controller reads (events are written, never watched).
WATCHED_KINDS = (
    "namespaces",
    "pods",
    "nodes",
    "leases",
    "replicasets",
    "replicationcontrollers",
    "deployments",
    "daemonsets",
    "controllerrevisions",
    "jobs",
    "services",
    "endpoints",
    "endpointslices",
    "persistentvolumes",
    "persistentvolumeclaims",
    "storageclasses",
)


def controller_manager(tmp_path: Path, *args: str) -> ComponentProcess:
    return ComponentProcess(tmp_path / "controller-manager.log", "controller", *args)


def test_an_unknown_controller_is_refused_by_name(tmp_path: Path) -> None:
    proc = controller_manager(
        tmp_path, "--server", "127.0.0.1:1", "--controllers", "namespace,bogus"
    )
    assert proc.proc.wait(timeout=20) == 2
    assert "--controllers: unknown controller(s) ['bogus']; known: namespace" in proc.output()


async def test_it_empties_and_removes_a_deleted_namespace(client: Client, tmp_path: Path) -> None:
    health_port, metrics_port = free_port(), free_port()
    proc = controller_manager(
        tmp_path,
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
        await delete_namespace_and_wait(client, ns)
        assert not (await client.configmaps.list(ns)).items
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        assert 'workqueue_adds_total{name="namespace"}' in metrics
    finally:
        code = await asyncio.to_thread(proc.stop, 15)
    output = proc.output()
    assert code == 0, output
    assert f"namespace {ns}: empty; finalized" in output


async def delete_namespace_and_wait(client: Client, ns: str) -> None:
    await client.namespaces.delete(ns)

    async def namespace_gone() -> bool:
        try:
            await client.namespaces.get(ns)
            return False
        except grpc.aio.AioRpcError as e:
            return bool(e.code() == grpc.StatusCode.NOT_FOUND)

    await eventually(namespace_gone, timeout=20, what=f"namespace {ns} to be deleted")


async def test_all_its_controllers_share_one_watch_per_kind(tmp_path: Path) -> None:
    """Eleven controllers read pods; the process opens one pod watch (and one of every other
    kind), counted by an apiserver of the test's own, which no other client watches."""
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            proc = controller_manager(
                tmp_path,
                "--server",
                client.target,
                "--health-port",
                "0",
                "--metrics-bind-address",
                "",
            )
            try:

                def watches() -> dict[str, int]:
                    return {k: len(server.cachers[k].watchers()) for k in WATCHED_KINDS}

                async def every_kind_watched() -> bool:
                    return all(watches().values())

                await eventually(every_kind_watched, timeout=30, what="a watch of every kind")
                # The controllers are past their caches' sync: the namespace controller has acted.
                await delete_namespace_and_wait(client, await new_namespace(client))
                assert watches() == dict.fromkeys(WATCHED_KINDS, 1)
            finally:
                code = await asyncio.to_thread(proc.stop, 15)
                await client.close()
    assert code == 0, proc.output()
