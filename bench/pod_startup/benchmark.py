"""Pod start-up latency on a running cluster (`podplane-bench pods`), measured as clusterloader2's
PodStartupLatency measurement does for Kubernetes' pod start-up SLO (p99 <= 5 s for stateless
pods whose image is present): every time is when a watch delivered the pod, `create` its first
event, `schedule` the first with spec.nodeName set, `run` the first in phase Running; pod start-up
is create -> run, split into create -> schedule and schedule -> run.

Each cell creates N busybox pods (image present, pull policy IfNotPresent) in a fresh namespace,
either at a steady rate (clusterloader2 creates its latency pods at 5 per second, "Uniform5qps")
or as a burst (as fast as `concurrency` Create calls in flight allow), waits for them to run,
deletes the namespace and waits until it is gone; before the next cell, until the nodes have
removed its pods' sandboxes (their CPU back at rest), so that it starts on idle nodes."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import secrets
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, replace

from bench.common.stats import summarize
from bench.pod_startup import node_cpu
from bench.pod_startup.report import SLO_SECONDS, STRETCH_SECONDS, Cell, markdown
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_not_found
from podplane.client.credentials import credentials_from

BURST = 0.0  # a rate of 0: all pods at once
NAMESPACE_GONE_TIMEOUT = 180.0


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    pods: int = 100
    # Pods per second of each cell, in order; BURST (0) for a burst.
    rates: tuple[float, ...] = (2.0, BURST)
    concurrency: int = 20
    timeout: float = 300.0
    cpu_request: str = "1m"
    out: str = "build/bench/pods.json"
    # The compose project whose node containers' CPU is read per cell ("": none).
    project: str = "podplane"


def startup_pod(name: str, namespace: str, cpu_request: str) -> core_pb2.Pod:
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "3600"],
                        "resources": {"requests": {"cpu": cpu_request}},
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return pod


@dataclass
class PodTimes:
    """Monotonic times of one pod: the Create call, and the watch's create/schedule/run."""

    called: float | None = None
    created: float | None = None
    scheduled: float | None = None
    running: float | None = None


@dataclass
class Timeline:
    pods: dict[str, PodTimes] = field(default_factory=dict)

    def observe(self, pod: core_pb2.Pod, now: float) -> None:
        times = self.pods.setdefault(pod.metadata.name, PodTimes())
        if times.created is None:
            times.created = now
        if pod.spec.node_name and times.scheduled is None:
            times.scheduled = now
        if pod.status.phase == "Running" and times.running is None:
            times.running = now

    def running_count(self) -> int:
        return sum(1 for t in self.pods.values() if t.running is not None)


async def _create_all(
    options: Options,
    rate: float,
    client: Client,
    namespace: str,
    timeline: Timeline,
    errors: list[str],
) -> None:
    gate = asyncio.Semaphore(options.concurrency if rate == BURST else options.pods)
    start = time.monotonic()

    async def create(i: int) -> None:
        name = f"startup-{i:05d}"
        if rate != BURST:  # open loop: each pod at its time, however slow the earlier ones are
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        async with gate:
            called = time.monotonic()
            try:
                await client.pods.create(startup_pod(name, namespace, options.cpu_request))
            except Exception as e:  # noqa: BLE001 - counted and reported, never fatal to the run
                errors.append(f"{name}: {e}")
                return
            timeline.pods.setdefault(name, PodTimes()).called = called

    await asyncio.gather(*(create(i) for i in range(options.pods)))


async def measure_cell(options: Options, rate: float, client: Client, namespace: str) -> Cell:
    listed = await client.pods.list(namespace)
    watch = client.pods.watch(namespace, resource_version=listed.metadata.resource_version)
    timeline = Timeline()
    errors: list[str] = []
    all_running = asyncio.Event()

    async def follow() -> None:
        async for event in watch:
            timeline.observe(event.object, time.monotonic())
            if timeline.running_count() >= options.pods - len(errors):
                all_running.set()

    follower = asyncio.create_task(follow())
    nodes = node_cpu.node_containers(options.project) if options.project else []
    before = node_cpu.sample(nodes) if nodes else None
    start = time.monotonic()
    try:
        await _create_all(options, rate, client, namespace, timeline, errors)
        create_seconds = time.monotonic() - start
        if len(errors) < options.pods:
            try:
                async with asyncio.timeout(options.timeout):
                    await all_running.wait()
            except TimeoutError:
                pass  # reported as pods that never ran
    finally:
        watch.cancel()
        follower.cancel()
    cell = _cell(rate, namespace, timeline, errors, create_seconds)
    if before is not None:
        after = node_cpu.sample(nodes)
        cell = replace(cell, node_cpu_ms=node_cpu.per_pod_ms(before, after, cell.pod_startup.count))
    return cell


def _cell(
    rate: float, namespace: str, timeline: Timeline, errors: list[str], create_seconds: float
) -> Cell:
    pods = [t for t in timeline.pods.values() if t.called is not None]
    ran = [t for t in pods if t.running is not None and t.created is not None]
    first = min((t.called for t in pods if t.called is not None), default=0.0)
    last = max((t.running for t in ran if t.running is not None), default=first)
    window = last - first

    def phase(start: str, end: str) -> list[float]:
        values = [(getattr(t, end), getattr(t, start)) for t in pods]
        return [e - s for e, s in values if e is not None and s is not None]

    return Cell(
        mode="burst" if rate == BURST else "steady",
        rate=rate,
        namespace=namespace,
        pods=len(pods) + len(errors),
        pod_startup=summarize(phase("created", "running"), window, errors=len(errors)),
        create_to_scheduled=summarize(phase("created", "scheduled"), window),
        scheduled_to_running=summarize(phase("scheduled", "running"), window),
        call_to_running=summarize(phase("called", "running"), window),
        create_seconds=create_seconds,
        never_running=sorted(
            n for n, t in timeline.pods.items() if t.called is not None and t.running is None
        ),
        create_errors=errors[:10],
    )


async def _delete_namespace(client: Client, namespace: str) -> None:
    """Deletes the namespace (its pods go with it) and waits until it is gone."""
    await client.namespaces.delete(namespace)
    deadline = time.monotonic() + NAMESPACE_GONE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            await client.namespaces.get(namespace)
        except Exception as e:
            if is_not_found(e):
                return
            raise
        await asyncio.sleep(1.0)
    print(
        f"namespace {namespace} still there after {NAMESPACE_GONE_TIMEOUT:.0f} s", file=sys.stderr
    )


async def _run(options: Options) -> list[Cell]:
    cells = []
    # The cluster's credentials: PODPLANE_CA/CERT/KEY/TOKEN_FILE or ~/.podplane/config.
    async with Client(options.server, timeout=30, credentials=credentials_from()) as client:
        for i, rate in enumerate(options.rates):
            namespace = f"bench-pods-{secrets.token_hex(3)}"
            how = "as a burst" if rate == BURST else f"at {rate:g} pods/s"
            print(f"creating {options.pods} pods {how} in {namespace} ...", file=sys.stderr)
            await client.namespaces.create(
                core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
            )
            try:
                cells.append(await measure_cell(options, rate, client, namespace))
            finally:
                await _delete_namespace(client, namespace)
                last = i == len(options.rates) - 1
                nodes = node_cpu.node_containers(options.project) if options.project else []
                if nodes and not last:
                    waited = await node_cpu.wait_quiet(nodes)
                    print(f"the nodes were at rest {waited:.0f} s later", file=sys.stderr)
    return cells


def run(options: Options) -> int:
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print(f"pod start-up against {options.server}: {options.pods} pods per cell", file=sys.stderr)
    cells = asyncio.run(_run(options))
    result = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "settings": asdict(options),
        "load_average": list(os.getloadavg()),
        "slo": {"p99_seconds": SLO_SECONDS, "stretch_p99_seconds": STRETCH_SECONDS},
        "cells": [cell.to_json() for cell in cells],
    }
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    sys.stdout.write(markdown(cells))
    sys.stdout.write("\n" + json.dumps(result, indent=2) + "\n")
    print(f"written: {options.out}", file=sys.stderr)
    complete = all(c.pod_startup.count == c.pods and not c.create_errors for c in cells)
    return 0 if complete else 1
