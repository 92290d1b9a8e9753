"""`podplane-bench kube-proxy-sync`: how long kube-proxy's syncs take with SERVICES ClusterIP
Services of ENDPOINTS ready endpoints each (on other nodes), through the proxier's own sync path
(Proxier.sync_proxy_rules: the maps' snapshot, the rules generated, one iptables-restore).

- the first full sync, into empty tables (kube-proxy's start on a fresh node);
- full syncs over tables that hold the rules already (a restart, or the canary found a flush);
- partial syncs after one Service's endpoints changed (an endpoint flips ready/not ready): only
  that Service's chains are rewritten, with KUBE-SERVICES.

--mode netns (default) runs the real iptables-restore and iptables-save inside a network
namespace of its own (root); --mode generate times the rule generation alone (no iptables).
Each sync's time is split into rule generation and iptables (iptables-save and -restore)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from bench.common.results import write_json
from bench.common.stats import percentile
from bench.kube_proxy.netns import NetnsError, network_namespace
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest
from podplane.apimachinery.json_types import JSONObject
from podplane.iptables.runner import ExecIptables, Iptables
from proxy.iptables.proxier import Proxier
from proxy.iptables.rules import RulesConfig
from proxy.state.tracker import ProxyState

NAMESPACE = "bench"
SERVICE_BASE = ipaddress.IPv4Address("10.96.16.0")
POD_BASE = ipaddress.IPv4Address("10.244.16.0")
CONFIG = RulesConfig(cluster_cidr="10.244.0.0/16", masquerade_mark="0x004000")


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "kube-proxy-sync",
        help="kube-proxy's full and partial sync time, N Services x M endpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--services", type=positive, default=1000, help="Services (default 1000)")
    p.add_argument(
        "--endpoints", type=positive, default=10, help="ready endpoints per Service (default 10)"
    )
    p.add_argument(
        "--mode",
        choices=("netns", "generate"),
        default="netns",
        help="netns: real iptables in a namespace of its own (root); generate: rules only",
    )
    p.add_argument(
        "--iptables",
        choices=("system", "nft", "legacy"),
        default="system",
        help="netns mode: the system's iptables (update-alternatives), iptables-nft or "
        "iptables-legacy",
    )
    p.add_argument("--syncs", type=positive, default=5, help="full and partial syncs measured")
    p.add_argument("--out", default="build/bench/kube-proxy-sync.json", help="the JSON result")


# ------------------------------------------------------------------ the objects
def service(i: int) -> service_pb2.Service:
    """bench/svc-N, as the apiserver stores it (defaulted, a cluster IP allocated)."""
    ip = str(SERVICE_BASE + i)
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"svc-{i:05d}", "namespace": NAMESPACE},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": ip,
                "clusterIPs": [ip],
                "ports": [{"name": "http", "port": 80, "targetPort": "8080", "protocol": "TCP"}],
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
            },
        },
        service_pb2.Service,
    )


def endpoint_slice(i: int, endpoints: int, not_ready: int = -1) -> discovery_pb2.EndpointSlice:
    """The slice the EndpointSlice controller writes for svc-N: `endpoints` pods on other nodes,
    all ready but the one at index `not_ready`."""
    return manifest.from_dict(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"svc-{i:05d}-abcde",
                "namespace": NAMESPACE,
                "labels": {"kubernetes.io/service-name": f"svc-{i:05d}"},
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": [str(POD_BASE + i * endpoints + e)],
                    "conditions": {
                        "ready": e != not_ready,
                        "serving": e != not_ready,
                        "terminating": False,
                    },
                    "nodeName": f"node-{2 + e % 2}",
                }
                for e in range(endpoints)
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
        discovery_pb2.EndpointSlice,
    )


# ------------------------------------------------------------------ timing iptables
class TimedIptables:
    """Wraps an Iptables and adds up the time its commands take."""

    def __init__(self, inner: Iptables) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.restored_bytes = 0

    @contextmanager
    def _timed(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start

    @property
    def random_fully(self) -> bool:
        return self.inner.random_fully

    def restore(self, data: str) -> None:
        self.restored_bytes = len(data.encode())
        with self._timed():
            self.inner.restore(data)

    def chains(self, table: str) -> set[str]:
        with self._timed():
            return self.inner.chains(table)

    def ensure_chain(self, table: str, chain: str) -> None:
        with self._timed():
            self.inner.ensure_chain(table, chain)

    def ensure_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        with self._timed():
            self.inner.ensure_rule(table, chain, args)

    def chain_exists(self, table: str, chain: str) -> bool:
        with self._timed():
            return self.inner.chain_exists(table, chain)


class NoIptables:
    """--mode generate: the rules are generated and dropped."""

    random_fully = True

    def restore(self, data: str) -> None:
        pass

    def chains(self, table: str) -> set[str]:
        return set()

    def ensure_chain(self, table: str, chain: str) -> None:
        pass

    def ensure_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        pass

    def chain_exists(self, table: str, chain: str) -> bool:
        return True


# ------------------------------------------------------------------ the syncs
@dataclass
class Sync:
    kind: str  # first, full, partial
    seconds: float
    iptables_seconds: float
    restore_bytes: int

    def to_json(self) -> JSONObject:
        return {
            "kind": self.kind,
            "seconds": round(self.seconds, 4),
            "generate_seconds": round(self.seconds - self.iptables_seconds, 4),
            "iptables_seconds": round(self.iptables_seconds, 4),
            "restore_bytes": self.restore_bytes,
        }


@dataclass
class Result:
    syncs: list[Sync] = field(default_factory=list)
    nat_rules: int = 0  # as iptables-save lists them after the first sync (netns mode)
    filter_rules: int = 0

    def of(self, kind: str) -> list[Sync]:
        return [s for s in self.syncs if s.kind == kind]


def _sync(proxier: Proxier, iptables: TimedIptables, kind: str) -> Sync:
    iptables.seconds = 0.0
    start = time.perf_counter()
    if not proxier.sync_proxy_rules():
        raise RuntimeError(f"the {kind} sync failed (see the log above)")
    return Sync(kind, time.perf_counter() - start, iptables.seconds, iptables.restored_bytes)


def _count_rules(prefix: list[str], variant: str, table: str) -> int:
    save = f"iptables-{variant}-save" if variant else "iptables-save"
    out = subprocess.run(
        [*prefix, save, "-t", table], capture_output=True, text=True, check=True
    ).stdout
    return sum(1 for line in out.splitlines() if line.startswith("-A "))


def measure(
    services: int, endpoints: int, syncs: int, prefix: list[str] | None, variant: str = ""
) -> Result:
    """`prefix` runs iptables in the benchmark's namespace; None: generation only."""
    inner: Iptables = ExecIptables(prefix, variant=variant) if prefix is not None else NoIptables()
    iptables = TimedIptables(inner)
    config = RulesConfig(
        cluster_cidr=CONFIG.cluster_cidr,
        masquerade_mark=CONFIG.masquerade_mark,
        random_fully=inner.random_fully,
    )
    proxier = Proxier(ProxyState("node-1"), iptables, config, min_sync_period=0.0)
    for i in range(services):
        proxier.on_service(service(i))
        proxier.on_slice(endpoint_slice(i, endpoints))
    proxier.services_synced()
    proxier.slices_synced()
    result = Result()
    result.syncs.append(_sync(proxier, iptables, "first"))
    if prefix is not None:
        result.nat_rules = _count_rules(prefix, variant, "nat")
        result.filter_rules = _count_rules(prefix, variant, "filter")
    for n in range(syncs):
        proxier.force_full_sync()
        result.syncs.append(_sync(proxier, iptables, "full"))
        changed = (n * 7919) % services  # a different Service each time
        proxier.on_slice(endpoint_slice(changed, endpoints, not_ready=n % endpoints))
        result.syncs.append(_sync(proxier, iptables, "partial"))
    return result


def _iptables_version(variant: str) -> str:
    command = f"iptables-{variant}" if variant else "iptables"
    return subprocess.run([command, "--version"], capture_output=True, text=True).stdout.strip()


def _summary(syncs: list[Sync]) -> dict[str, float]:
    def ms(values: list[float], q: float) -> float:
        return round(1000 * percentile(sorted(values), q), 1)

    total = [s.seconds for s in syncs]
    generate = [s.seconds - s.iptables_seconds for s in syncs]
    iptables = [s.iptables_seconds for s in syncs]
    return {
        "count": len(syncs),
        "p50_ms": ms(total, 50),
        "max_ms": round(1000 * max(total), 1),
        "generate_p50_ms": ms(generate, 50),
        "iptables_p50_ms": ms(iptables, 50),
        "restore_kib": round(syncs[0].restore_bytes / 1024, 1),
    }


def markdown(result: Result, mode: str) -> str:
    rows = [
        "| sync | syncs | p50 (ms) | max (ms) | generation p50 (ms) | iptables p50 (ms) | "
        "restore input (KiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label in (
        ("first", "first full (empty tables)"),
        ("full", "full (rules in place)"),
        ("partial", "partial (one Service's endpoints)"),
    ):
        s = _summary(result.of(kind))
        iptables = "-" if mode == "generate" else f"{s['iptables_p50_ms']:.1f}"
        rows.append(
            f"| {label} | {s['count']} | {s['p50_ms']:.1f} | {s['max_ms']:.1f} | "
            f"{s['generate_p50_ms']:.1f} | {iptables} | {s['restore_kib']:.1f} |"
        )
    return "\n".join(rows) + "\n"


def run(args: argparse.Namespace) -> int:
    variant = "" if args.iptables == "system" else args.iptables
    where = (
        f"{args.iptables} iptables in a network namespace of its own"
        if args.mode == "netns"
        else "no iptables"
    )
    print(
        f"kube-proxy syncs: {args.services} Services x {args.endpoints} endpoints, {where}",
        file=sys.stderr,
    )
    try:
        with network_namespace() if args.mode == "netns" else nullcontext(None) as prefix:
            result = measure(args.services, args.endpoints, args.syncs, prefix, variant)
    except NetnsError as e:
        print(f"podplane-bench kube-proxy-sync: {e}", file=sys.stderr)
        return 2
    out = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "settings": {
            "services": args.services,
            "endpoints": args.endpoints,
            "mode": args.mode,
            "iptables": args.iptables,
            "syncs": args.syncs,
        },
        "iptables_version": _iptables_version(variant) if args.mode == "netns" else None,
        "load_average": list(os.getloadavg()),
        "iptables_rules": {"nat": result.nat_rules, "filter": result.filter_rules},
        "summary": {kind: _summary(result.of(kind)) for kind in ("first", "full", "partial")},
        "syncs": [s.to_json() for s in result.syncs],
    }
    write_json(args.out, out)
    sys.stdout.write(markdown(result, args.mode))
    if args.mode == "netns":
        print(f"iptables-save: {result.nat_rules} nat rules, {result.filter_rules} filter rules")
    print(f"written: {args.out}", file=sys.stderr)
    return 0
