"""Real `python -m scheduler` processes against a cluster of their own (a real etcd and the real
apiserver, hollow nodes: Node objects with capacity and Ready=True), their logs, their /metrics,
and a watch that records every pod's nodeName over time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity
from podplane.client.clientset import Client
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.support import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]
LEASE = "kube-scheduler"


@contextlib.asynccontextmanager
async def own_cluster() -> AsyncIterator[Client]:
    """An etcd and an apiserver for one test: a scheduler sees every node and pending pod of its
    cluster, so other tests' objects would change its decisions and messages."""
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            try:
                yield client
            finally:
                await client.close()


async def add_node(
    client: Client,
    name: str,
    *,
    cpu: str,
    memory: str = "8Gi",
    pods: int = 110,
    taints: list[dict[str, str]] | None = None,
    seen_by: SchedulerProcess | None = None,
) -> Any:
    """A Node, created and then given its capacity, as a kubelet registers one; returned once a
    scheduler has it with its capacity, so that whatever the test writes next is decided with the
    node (the status update follows the create within the apiserver's --watch-batch-interval, so
    the node watch sends it a moment later, while another resource's idle watch would send at
    once). `seen_by`: a running scheduler, whose log says its cache has the update. Without it,
    the apiserver's watch cache has it, which a scheduler started next lists."""
    node = core_pb2.Node()
    node.metadata.name = name
    node.metadata.labels["kubernetes.io/hostname"] = name
    for t in taints or []:
        node.spec.taints.add(**t)
    created = await client.nodes.create(node)
    for resources in (created.status.capacity, created.status.allocatable):
        resources.update({"cpu": cpu, "memory": memory, "pods": str(pods)})
    created.status.conditions.add(type="Ready", status="True", reason="KubeletReady")
    updated = await client.nodes.update_status(created)
    if seen_by is not None:
        scheduler, line = seen_by, f" Update event for node node={name}\n"

        async def seen() -> bool:
            return line in scheduler.log()

        await eventually(seen, 20, interval=0.02, what=f"the scheduler to log {line.strip()!r}")
    else:

        async def cached() -> bool:
            listed, _ = await client.nodes.list_all(resource_version="0")
            rv = updated.metadata.resource_version
            return any((n.metadata.name, n.metadata.resource_version) == (name, rv) for n in listed)

        await eventually(cached, 20, interval=0.02, what=f"{name}'s status in the watch cache")
    return updated


def pod_requesting(name: str, namespace: str, cpu: str) -> core_pb2.Pod:
    pod = core_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace = name, namespace
    container = pod.spec.containers.add(name="main", image="busybox")
    container.resources.requests["cpu"] = cpu
    return pod


def milli_cpu(pod: Any) -> int:
    return sum(
        quantity.milli_cpu(c.resources.requests.get("cpu", "0")) for c in pod.spec.containers
    )


async def bound_count(client: Client, namespace: str) -> int:
    pods, _ = await client.pods.list_all(namespace, field_selector="spec.nodeName!=")
    return len(pods)


async def wait_bound(client: Client, namespace: str, count: int, timeout: float) -> None:
    async def enough() -> bool:
        return await bound_count(client, namespace) >= count

    await eventually(enough, timeout, interval=0.05, what=f"{count} pod(s) bound in {namespace}")


@dataclass
class SchedulerProcess:
    """One `python -m scheduler` with its health and metrics ports; its log goes to a file."""

    process: subprocess.Popen[bytes]
    health_port: int
    metrics_port: int
    log_path: Path

    @classmethod
    def start(cls, server: str, *extra: str) -> SchedulerProcess:
        health, metrics = free_port(), free_port()
        fd, path = tempfile.mkstemp(prefix="podplane-scheduler-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "scheduler",
                    "--server",
                    server,
                    "--health-port",
                    str(health),
                    "--metrics-bind-address",
                    f"127.0.0.1:{metrics}",
                    # Its binds are logged at debug level (kube-scheduler's -v=2).
                    "--log-level",
                    "DEBUG",
                    *extra,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return cls(process, health, metrics, Path(path))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def identity(self) -> str:
        """The identity it runs for the lease under (hostname_uuid), from its log."""

        async def logged() -> str | None:
            m = re.search(r"attempting to acquire lease \S+ as (\S+)", self.log())
            return m.group(1) if m else None

        return await eventually(
            logged, 20, interval=0.05, what="the scheduler to run for the lease"
        )

    async def serving(self) -> bool:
        result = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "podplane.componentbase.healthcheck",
                f"127.0.0.1:{self.health_port}",
            ],
            capture_output=True,
            cwd=ROOT,
        )
        return result.returncode == 0

    async def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of its /metrics: (name, labels) -> value."""

        def scrape() -> str:
            url = f"http://127.0.0.1:{self.metrics_port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())

        text = await asyncio.to_thread(scrape)
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    async def sample(self, metric: str, /, **labels: str) -> float | None:
        return (await self.metrics()).get((metric, frozenset(labels.items())))

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    async def terminate(self) -> str:
        """SIGTERM, then its whole log; it must stop within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output = self.log()
        self.log_path.unlink(missing_ok=True)
        return output


async def lease_holder(client: Client) -> str:
    lease = await client.leases.get(LEASE, "kube-system")
    return str(lease.spec.holder_identity)


@dataclass
class NodeNameHistory:
    """Watches a namespace's pods and records every nodeName each pod was seen with, in order,
    and the CPU requested on each node after every event."""

    client: Client
    namespace: str
    node_names: dict[str, list[str]] = field(default_factory=dict)
    peak_milli_cpu: dict[str, int] = field(default_factory=dict)
    _bound: dict[str, tuple[str, int]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        _, rv = await self.client.pods.list_all(self.namespace)
        stream = self.client.pods.watch(self.namespace, resource_version=rv)
        self._task = asyncio.create_task(self._follow(stream))

    async def _follow(self, stream: Any) -> None:
        try:
            async for event in stream:
                self._seen(event.type, event.object)
        finally:
            stream.cancel()

    def _seen(self, kind: str, pod: Any) -> None:
        name = pod.metadata.name
        seen = self.node_names.setdefault(name, [""])
        if pod.spec.node_name != seen[-1]:
            seen.append(pod.spec.node_name)
        if kind == "DELETED":
            self._bound.pop(name, None)
        elif pod.spec.node_name:
            self._bound[name] = (pod.spec.node_name, milli_cpu(pod))
        used: dict[str, int] = {}
        for node, cpu in self._bound.values():
            used[node] = used.get(node, 0) + cpu
        for node, cpu in used.items():
            self.peak_milli_cpu[node] = max(self.peak_milli_cpu.get(node, 0), cpu)

    def bound(self) -> int:
        """How many pods the watch has seen bound."""
        return sum(1 for seen in self.node_names.values() if seen[-1])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
