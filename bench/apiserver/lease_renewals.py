"""`podplane-bench lease-renewals`: what the node leases' renewals cost at a fleet's rate. etcd
and the apiserver are started here, as the scheduler load test starts them; N hollow nodes
(bench/scheduler/hollow_nodes.py) renew their Leases each at its own turn of the interval, as
kubelets and kubemark's hollow nodes do (5000 nodes every 10 s: 500 renewals a second); then the
same turns each read their lease instead (a Get), which is what serving a call at that rate
costs without the write. Each phase is measured after one whole interval of turns: the CPU of
the apiserver, of etcd and of this process (the renewals' client; kubemark's run on other
machines) per call answered.

This is the load `podplane-bench scheduler` adds with its default --lease-interval, on top of
scheduling (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable

from bench.common.processes import ApiserverProcess, CpuMeter, EtcdProcess
from bench.common.results import write_json
from bench.scheduler.hollow_nodes import RENEW_INTERVAL, HollowNodes
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client

PHASES = ("renew", "read")  # a lease's turn: an Update renewing it, a Get reading it
WARM_UP_TIMEOUT_INTERVALS = 5


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "lease-renewals",
        help="the apiserver's, etcd's and the client's CPU per node lease renewal at a "
        "fleet's rate, and per read of a lease at the same rate",
        description=__doc__,
    )
    p.add_argument("--nodes", type=positive, default=5000, help="hollow nodes, a lease each")
    p.add_argument(
        "--interval",
        type=float,
        default=RENEW_INTERVAL,
        help="seconds between a lease's turns (the kubelet's: 10)",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="seconds measured per phase")
    p.add_argument("--out", help="also write the result as JSON here")


async def _phase(
    nodes: HollowNodes, apiserver: int, etcd: int, reading: bool, seconds: float
) -> JSONObject:
    """One phase: the turns started, one interval of them let pass, then `seconds` measured."""
    nodes.start_renewing(reading=reading)
    try:
        warm = nodes.renewals + len(nodes.names)
        deadline = time.monotonic() + WARM_UP_TIMEOUT_INTERVALS * nodes.renew_interval + 60
        while nodes.renewals < warm:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{nodes.renewals - warm + len(nodes.names)} of {len(nodes.names)} "
                    "leases' first turns answered before the deadline"
                )
            await asyncio.sleep(0.1)
        meter = CpuMeter({"apiserver": apiserver, "etcd": etcd})
        before = meter.sample()
        calls0, skipped0, errors0 = nodes.renewals, nodes.renewals_skipped, nodes.renewal_errors
        await asyncio.sleep(seconds)
        after = meter.sample()
        calls = nodes.renewals - calls0
    finally:
        await nodes.stop_renewing()
    spent = {name: after[name] - before[name] for name in after}
    per_call = 1000 / max(calls, 1)
    return {
        "asked_per_second": len(nodes.names) / nodes.renew_interval,
        "answered_per_second": calls / spent["wall"],
        "turns_skipped": nodes.renewals_skipped - skipped0,
        "errors": nodes.renewal_errors - errors0,
        "apiserver_cpu_percent": 100 * spent["apiserver"] / spent["wall"],
        "apiserver_cpu_ms": spent["apiserver"] * per_call,
        "etcd_cpu_ms": spent["etcd"] * per_call,
        "client_cpu_ms": spent["client"] * per_call,
    }


async def _measure(nodes: int, interval: float, seconds: float) -> JSONObject:
    etcd = EtcdProcess.start()
    try:
        apiserver = ApiserverProcess.start(
            etcd.endpoint, tempfile.mkdtemp(prefix="podplane-bench-lease-renewals-")
        )
        try:
            async with Client(apiserver.target, credentials=None) as client:
                hollow = HollowNodes(client, "leases", nodes, "basic", renew_interval=interval)
                await hollow.register()
                phases = {
                    phase: await _phase(hollow, apiserver.pid, etcd.pid, phase == "read", seconds)
                    for phase in PHASES
                }
        finally:
            apiserver.stop()
    finally:
        etcd.stop()
    return {"nodes": nodes, "interval_seconds": interval, "seconds": seconds, "phases": phases}


def report(result: JSONObject) -> str:
    phases = result["phases"]
    lines = [
        f"{result['nodes']} leases, each's turn every {result['interval_seconds']:g} s "
        f"({phases['renew']['asked_per_second']:.0f} a second asked):"
    ]
    for phase, call in (("renew", "renewal (Update)"), ("read", "read (Get)")):
        p = phases[phase]
        lines.append(
            f"  {call}: {p['answered_per_second']:.0f} a second answered, "
            f"{p['turns_skipped']} turns skipped, {p['errors']} failed; CPU per call: "
            f"apiserver {p['apiserver_cpu_ms']:.2f} ms "
            f"({p['apiserver_cpu_percent']:.0f} % of a core), etcd {p['etcd_cpu_ms']:.2f} ms, "
            f"this client {p['client_cpu_ms']:.2f} ms"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or args.seconds <= 0:
        raise SystemExit("podplane-bench lease-renewals: --interval and --seconds must be > 0")
    result = asyncio.run(_measure(args.nodes, args.interval, args.seconds))
    print(report(result))
    if args.out:
        write_json(args.out, result)
    return 0
