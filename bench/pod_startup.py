"""Pod start-up latency on a running cluster (`podplane-bench pods`): creates N busybox pods in a
fresh namespace and measures, per pod, the time from its Create call to the Running phase as a
watch delivers it (the scheduler's bind, the kubelet's sandbox and container start, its status
write); then p50/p90/p99 and the throughput, as Kubernetes' pod start-up SLI measures them."""
from __future__ import annotations

import asyncio
import datetime
import json
import math
import os
import secrets
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.stats import Summary, summarize
from podplane import manifest
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import Client


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    pods: int = 100
    concurrency: int = 20
    timeout: float = 300.0
    cpu_request: str = "1m"
    out: str = "build/bench/pods.json"


def startup_pod(name: str, namespace: str, cpu_request: str) -> core_pb2.Pod:
    pod = manifest.from_dict({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": "busybox", "imagePullPolicy": "IfNotPresent",
            "command": ["sleep", "3600"],
            "resources": {"requests": {"cpu": cpu_request}}}]}})
    assert isinstance(pod, core_pb2.Pod)
    return pod


async def _measure(options: Options, client: Client, namespace: str) -> dict[str, Any]:
    listed = await client.pods.list(namespace)
    watch = client.pods.watch(namespace, resource_version=listed.metadata.resource_version)
    created: dict[str, float] = {}
    running: dict[str, float] = {}
    all_running = asyncio.Event()

    async def follow() -> None:
        async for event in watch:
            pod = event.object
            if pod.status.phase == "Running" and pod.metadata.name not in running:
                running[pod.metadata.name] = time.monotonic()
                if len(running) == options.pods:
                    all_running.set()
                    return

    errors: list[str] = []
    gate = asyncio.Semaphore(options.concurrency)

    async def create(i: int) -> None:
        name = f"startup-{i:05d}"
        async with gate:
            sent = time.monotonic()
            try:
                await client.pods.create(startup_pod(name, namespace, options.cpu_request))
            except Exception as e:  # counted and reported, never fatal to the run
                errors.append(f"{name}: {e}")
                return
            created[name] = sent

    follower = asyncio.create_task(follow())
    start = time.monotonic()
    try:
        await asyncio.gather(*(create(i) for i in range(options.pods)))
        created_seconds = time.monotonic() - start
        if created:
            try:
                await asyncio.wait_for(all_running.wait(), options.timeout)
            except asyncio.TimeoutError:
                pass  # reported as pods that never ran
    finally:
        watch.cancel()
        follower.cancel()
    latencies = [running[n] - t for n, t in created.items() if n in running]
    last = max((running[n] for n in created if n in running), default=start)
    summary = summarize(latencies, last - start, errors=len(errors))
    return {"summary": summary, "created_seconds": created_seconds,
            "not_running": sorted(n for n in created if n not in running),
            "errors": errors[:10]}


def _seconds(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def markdown(summary: Summary, options: Options, not_running: int) -> str:
    header = ["pods", "Running", "never Running", "create errors", "p50 s", "p90 s", "p99 s",
              "max s", "pods/s"]
    row = [str(options.pods), str(summary.count), str(not_running), str(summary.errors),
           _seconds(summary.p50), _seconds(summary.p90), _seconds(summary.p99),
           _seconds(summary.max), _seconds(summary.per_second)]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
                      "| " + " | ".join(row) + " |"]) + "\n"


async def _run(options: Options) -> dict[str, Any]:
    async with Client(options.server, timeout=30) as client:
        namespace = f"bench-pods-{secrets.token_hex(3)}"
        await client.namespaces.create(core_pb2.Namespace(
            metadata=meta_pb2.ObjectMeta(name=namespace)))
        try:
            measured = await _measure(options, client, namespace)
        finally:
            # Its pods go with it (the namespace controller); their containers stop at once.
            await client.namespaces.delete(namespace)
        measured["namespace"] = namespace
        return measured


def run(options: Options) -> int:
    started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"creating {options.pods} pods against {options.server} "
          f"({options.concurrency} at a time) ...", file=sys.stderr)
    measured = asyncio.run(_run(options))
    summary: Summary = measured["summary"]
    result = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]), "started_at": started_at,
        "settings": asdict(options), "namespace": measured["namespace"],
        "create_to_running": summary.to_json(),
        "create_seconds": measured["created_seconds"],
        "never_running": len(measured["not_running"]), "create_errors": measured["errors"],
    }
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    sys.stdout.write("## Pod start-up: create -> Running (seen through a watch)\n\n")
    sys.stdout.write(markdown(summary, options, len(measured["not_running"])))
    sys.stdout.write("\n" + json.dumps(result, indent=2) + "\n")
    print(f"written: {options.out}", file=sys.stderr)
    complete = summary.count == options.pods and not measured["errors"]
    return 0 if complete else 1
