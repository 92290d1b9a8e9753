"""`podplane-bench service-programming`: on a running cluster, how long a new Service takes to
be reachable by its cluster IP from a pod on every node (created -> reachable), p50/p90/p99
over SERVICES Services created one after another.

Each node runs a backend pod (busybox httpd, label app=bench-backend) and a client pod. The
Services get cluster IPs chosen up front (spec.clusterIP, in a random /24 of 10.96.0.0/12), so
the clients know them before they exist: each client tries the next IP with a new connection
every 100 ms (busybox wget) and prints `reached IP` once one succeeds. A reach's time is the
one its node's Docker engine stamped on that log line (kubectl logs --timestamps): the Docker
engines must share this machine's clock (the compose cluster on this host does). The Service's
latency is from just before its Create call to the last node's reach; it covers the
EndpointSlice controller, the watches and kube-proxy's sync (at most one per
--iptables-min-sync-period, 1 s, after a burst of two)."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import os
import random
import secrets
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common.results import write_json
from bench.common.stats import percentile
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client
from podplane.client.credentials import credentials_from
from podplane.componentbase import client_flags

SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
BACKEND_LABEL = "bench-backend"
REACH_TIMEOUT = 60.0
POD_TIMEOUT = 180.0


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "service-programming",
        help="Service created -> reachable from a pod on every node, p50/p99 (running cluster)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client_flags.add_server_flag(p, default="localhost:6443", help="the apiserver (host:port)")
    p.add_argument("--services", type=positive, default=50, help="Services (default 50, <= 250)")
    p.add_argument("--out", default="build/bench/service-programming.json", help="the JSON result")


# ------------------------------------------------------------------ the objects
def _pod(name: str, namespace: str, node: str, labels: dict[str, str], script: str) -> core_pb2.Pod:
    spec: JSONObject = {
        "nodeName": node,
        "terminationGracePeriodSeconds": 0,
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", script],
            }
        ],
    }
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec,
        },
        core_pb2.Pod,
    )


def backend_pod(namespace: str, node: str) -> core_pb2.Pod:
    script = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"
    return _pod(f"backend-{node}", namespace, node, {"app": BACKEND_LABEL}, script)


def client_script(ips: list[str]) -> str:
    """Per IP in turn: a new connection every 100 ms until one succeeds, then `reached IP`.
    (Debian's static busybox wget crashes with -T, hence timeout(1).)"""
    return (
        f"for ip in {' '.join(ips)}; do "
        'while [ ! -s "/tmp/$ip" ]; do '
        '(timeout 2 wget -qO /dev/null "http://$ip/" && echo ok >"/tmp/$ip") 2>/dev/null & '
        "usleep 100000; done; "
        'echo "reached $ip"; done; exec sleep 3600'
    )


def client_pod(namespace: str, node: str, ips: list[str]) -> core_pb2.Pod:
    return _pod(f"client-{node}", namespace, node, {"app": "bench-client"}, client_script(ips))


def service(name: str, namespace: str, cluster_ip: str) -> service_pb2.Service:
    svc = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "clusterIP": cluster_ip,
                "selector": {"app": BACKEND_LABEL},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            },
        },
        service_pb2.Service,
    )
    assert isinstance(svc, service_pb2.Service)
    return svc


def pick_ips(count: int, rng: random.Random) -> list[str]:
    """`count` addresses of a random /24 of the service CIDR (not its first one, where the
    apiserver allocates from the bottom)."""
    subnets = SERVICE_CIDR.num_addresses // 256
    base = SERVICE_CIDR.network_address + 256 * rng.randrange(16, subnets)
    return [str(base + 1 + i) for i in range(count)]


def docker_timestamp(line: str) -> tuple[float, str]:
    """("2026-11-22T12:30:00.123456789Z reached 10.100.3.1") -> (epoch seconds, the rest)."""
    stamp, _, rest = line.partition(" ")
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    when = datetime.datetime.fromisoformat(seconds).replace(tzinfo=datetime.UTC)
    return when.timestamp() + float(f"0.{fraction or '0'}"), rest


# ------------------------------------------------------------------ the run
@dataclass
class Reaches:
    nodes: list[str]
    times: dict[str, dict[str, float]] = field(default_factory=dict)  # ip -> node -> epoch
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reached(self, ip: str, node: str, when: float) -> None:
        self.times.setdefault(ip, {})[node] = when
        self.changed.set()

    async def everywhere(self, ip: str, timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while len(self.times.get(ip, {})) < len(self.nodes):
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"{ip} not reachable from every node after {timeout:.0f}s "
                    f"(reached from {sorted(self.times.get(ip, {}))})"
                )
            try:
                async with asyncio.timeout(left):
                    await self.changed.wait()
            except TimeoutError:
                pass
        return self.times[ip]


async def _follow(client: Client, namespace: str, node: str, reaches: Reaches) -> None:
    buffer = ""
    async for chunk in client.pod_logs(namespace, f"client-{node}", follow=True, timestamps=True):
        buffer += chunk.data.decode()
        *lines, buffer = buffer.split("\n")
        for line in lines:
            when, rest = docker_timestamp(line)
            if rest.startswith("reached "):
                reaches.reached(rest.split()[1], node, when)


async def _wait_running(client: Client, namespace: str, names: set[str]) -> None:
    deadline = time.monotonic() + POD_TIMEOUT
    while True:
        pods = await client.pods.list(namespace)
        running = {p.metadata.name for p in pods.items if p.status.phase == "Running"}
        if names <= running:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"pods not Running after {POD_TIMEOUT:.0f}s: {names - running}")
        await asyncio.sleep(0.5)


@dataclass
class Sample:
    name: str
    cluster_ip: str
    per_node: dict[str, float]  # node -> seconds from create to reach

    @property
    def everywhere(self) -> float:
        return max(self.per_node.values())


async def measure(client: Client, namespace: str, count: int) -> list[Sample]:
    nodes = sorted(
        n.metadata.name
        for n in (await client.nodes.list()).items
        if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
    )
    if not nodes:
        raise RuntimeError("no Ready node")
    ips = pick_ips(count, random.Random())
    for node in nodes:
        await client.pods.create(backend_pod(namespace, node))
        await client.pods.create(client_pod(namespace, node, ips))
    await _wait_running(
        client, namespace, {f"{role}-{n}" for n in nodes for role in ("backend", "client")}
    )
    reaches = Reaches(nodes)
    followers = [asyncio.create_task(_follow(client, namespace, n, reaches)) for n in nodes]
    samples = []
    try:
        for i, ip in enumerate(ips):
            name = f"svc-{i:03d}"
            created = time.time()
            await client.services.create(service(name, namespace, ip))
            times = await reaches.everywhere(ip, REACH_TIMEOUT)
            per_node = {node: when - created for node, when in times.items()}
            if min(per_node.values()) < 0:
                raise RuntimeError(
                    f"{ip} reached before it was created ({per_node}): the nodes' Docker "
                    "engines do not share this machine's clock"
                )
            samples.append(Sample(name, ip, per_node))
            print(f"{name} {ip}: every node in {samples[-1].everywhere:.2f}s", file=sys.stderr)
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    return samples


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(percentile(ordered, 50), 3),
        "p90": round(percentile(ordered, 90), 3),
        "p99": round(percentile(ordered, 99), 3),
        "max": round(ordered[-1], 3),
    }


async def _run(server: str, count: int) -> list[Sample]:
    async with Client(server, timeout=30, credentials=credentials_from()) as client:
        namespace = f"bench-svc-{secrets.token_hex(3)}"
        await client.namespaces.create(
            core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
        )
        try:
            return await measure(client, namespace, count)
        finally:
            for svc in (await client.services.list(namespace)).items:
                await client.services.delete(svc.metadata.name, namespace)
            await client.namespaces.delete(namespace)


def run(args: argparse.Namespace) -> int:
    if args.services > 250:
        print("podplane-bench service-programming: --services: at most 250", file=sys.stderr)
        return 2
    print(f"service programming against {args.server}: {args.services} Services", file=sys.stderr)
    samples = asyncio.run(_run(args.server, args.services))
    nodes = sorted({node for s in samples for node in s.per_node})
    every = summary([s.everywhere for s in samples])
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "settings": {"server": args.server, "services": args.services},
        "load_average": list(os.getloadavg()),
        "every_node_seconds": every,
        "per_node_seconds": {n: summary([s.per_node[n] for s in samples]) for n in nodes},
        "samples": [
            {"name": s.name, "cluster_ip": s.cluster_ip, "per_node": s.per_node} for s in samples
        ],
    }
    write_json(args.out, result)
    print(
        f"created -> reachable from a pod on every node ({len(nodes)} nodes), "
        f"{every['count']} Services: p50 {every['p50']:.2f}s, p90 {every['p90']:.2f}s, "
        f"p99 {every['p99']:.2f}s, max {every['max']:.2f}s"
    )
    print(f"written: {args.out}", file=sys.stderr)
    return 0
