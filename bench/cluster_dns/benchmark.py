"""DNS query latency from a pod (`podplane-bench dns`), the figure of issue 21: a pod on the
cluster (the cluster DNS's own image, which has Python and dnspython) sends N queries, one at a
time over UDP, for a Service's name to each cluster DNS server (each replica at its pod address,
and the kube-dns Service address, which answers once kube-proxy programs it), and reports each
query's round trip; this command summarizes them (p50/p90/p99) into a JSON file.

The clock is the pod's: the latency is what a client in the cluster sees (its kernel, the pod
network, the server), without the apiserver or kubectl in the path."""

from __future__ import annotations

import asyncio
import datetime
import json
import pathlib
import secrets
import shlex
import sys
import time
from dataclasses import dataclass

from bench.common.stats import Summary, summarize
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.credentials import credentials_from

DNS_NAMESPACE, DNS_SERVICE = "kube-system", "kube-dns"
IMAGE = "podplane/clusterdns:dev"
SERVICE_LABEL = "kubernetes.io/service-name"

# Runs in the pod: argv = name, queries, timeout, server...; prints one JSON object per server:
# {"server": ..., "latencies": [seconds...], "errors": n, "seconds": wall}.
PROBE = """\
import json, sys, time
import dns.exception, dns.message, dns.query, dns.rcode
name, count, timeout, servers = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
for server in servers:
    latencies, errors, started = [], 0, time.perf_counter()
    for _ in range(count):
        query = dns.message.make_query(name, "A")
        t0 = time.perf_counter()
        try:
            response = dns.query.udp(query, server, timeout=timeout)
            ok = response.rcode() == dns.rcode.NOERROR and bool(response.answer)
        except (OSError, dns.exception.DNSException):
            ok = False
        if ok:
            latencies.append(time.perf_counter() - t0)
            continue
        errors += 1
        if errors >= 3 and not latencies:
            break  # no answer from this server: do not wait out every query
    seconds = time.perf_counter() - started
    print(json.dumps({"server": server, "latencies": latencies, "errors": errors,
                      "seconds": seconds}), flush=True)
"""


@dataclass(frozen=True)
class Options:
    server: str = "localhost:6443"
    queries: int = 2000
    name: str = "kubernetes.default.svc.cluster.local."
    timeout: float = 2.0
    pod_timeout: float = 600.0
    out: str = "build/bench/dns.json"


def probe_pod(name: str, namespace: str, options: Options, servers: list[str]) -> core_pb2.Pod:
    command = [
        "python",
        "-c",
        PROBE,
        options.name,
        str(options.queries),
        str(options.timeout),
        *servers,
    ]
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "dnsPolicy": "Default",
                "containers": [
                    {
                        "name": "probe",
                        "image": IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": command,
                    }
                ],
            },
        }
    )
    assert isinstance(pod, core_pb2.Pod)
    return pod


async def dns_servers(client: Client) -> list[str]:
    """The kube-dns Service's address, then each ready replica's."""
    svc = await client.services.get(DNS_SERVICE, DNS_NAMESPACE)
    servers = [svc.spec.cluster_ip]
    slices = await client.endpointslices.list(
        DNS_NAMESPACE, label_selector=f"{SERVICE_LABEL}={DNS_SERVICE}"
    )
    for slice_ in slices.items:
        for e in slice_.endpoints:
            if not e.conditions.HasField("ready") or e.conditions.ready:
                servers += [a for a in e.addresses if a not in servers]
    return servers


@dataclass(frozen=True)
class ServerResult:
    server: str
    via: str  # "service" (the kube-dns address) or "pod" (one replica's)
    summary: Summary

    def to_json(self) -> dict[str, object]:
        return {"server": self.server, "via": self.via, **self.summary.to_json()}

    def row(self) -> str:
        s = self.summary
        ms = [f"{v * 1000:.2f}" if s.count else "-" for v in (s.p50, s.p90, s.p99, s.max)]
        return f"| {self.server} | {self.via} | {s.count} | {s.errors} | {' | '.join(ms)} |"


async def _run(options: Options) -> list[ServerResult]:
    async with Client(options.server, timeout=30, credentials=credentials_from()) as client:
        servers = await dns_servers(client)
        namespace = f"bench-dns-{secrets.token_hex(3)}"
        await client.namespaces.create(
            core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=namespace))
        )
        try:
            await client.pods.create(probe_pod("dns-probe", namespace, options, servers))
            print(f"querying {', '.join(servers)} from a pod in {namespace} ...", file=sys.stderr)
            deadline = time.monotonic() + options.pod_timeout
            while True:
                pod = await client.pods.get("dns-probe", namespace)
                if pod.status.phase in ("Succeeded", "Failed"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the probe pod is still {pod.status.phase or 'Pending'}")
                await asyncio.sleep(1)
            text = b"".join(
                [chunk.data async for chunk in client.pod_logs(namespace, "dns-probe")]
            ).decode()
            if pod.status.phase == "Failed":
                raise RuntimeError(f"the probe pod failed:\n{text}")
        finally:
            await client.namespaces.delete(namespace)
    results: list[ServerResult] = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        raw = json.loads(line)
        summary = summarize(raw["latencies"], raw["seconds"], raw["errors"])
        via = "service" if raw["server"] == servers[0] else "pod"
        results.append(ServerResult(raw["server"], via, summary))
    return results


def run(options: Options) -> int:
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    results = asyncio.run(_run(options))
    out = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "name": options.name,
        "queries_per_server": options.queries,
        "servers": [r.to_json() for r in results],
    }
    path = pathlib.Path(options.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print("| server | via | answered | errors | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(r.row())
    print(f"written {path}", file=sys.stderr)
    return 0
