"""podplane-bench idle: what a cluster nobody uses costs. After --settle seconds, for --seconds,
the CPU of every container of the compose project (its cgroup: every process it ran, the short
ones such as health checks included), split over the processes alive at the end (a node's
kubelet, dockerd, containerd, shims, kube-proxy, the pods' processes), and the whole host's busy
time over the same window, each as a share of one core.

The host's busy time (what its tasks ran, from the root cgroup, and its interrupts; not the time
the hypervisor stole) less what the host's processes that are neither in a container nor the
container engine spent (a VM's agent, the kernel's memory monitor, this benchmark) is what the
cluster costs host-wide: its containers, the engine that runs them (dockerd, containerd, the
shims and their runtime's runs, Docker's health checks among them), and the kernel's work no
process is charged with.

The same work costs this VM's CPU up to twice the time from one hour to the next, so the result
also gives how fast the host ran: PROBES of bench.common.host_speed's probe just before the window
and just after it (none within it, where they would be work of their own).

    make up && podplane-bench idle --settle 300 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, dataclass

from bench.common import cpu, host_speed
from bench.common.compose import Container, containers
from bench.common.results import write_json
from podplane.apimachinery.json_types import JSONObject

PROBES = 5  # before the window and again after it


@dataclass(frozen=True)
class Options:
    project: str = "podplane"
    settle: float = 0.0
    seconds: float = 60.0
    out: str = "build/bench/idle.json"


@dataclass(frozen=True)
class Sample:
    at: float
    host: cpu.HostTimes
    cgroups: dict[str, float]
    processes: dict[tuple[int, int], cpu.Process]


def sample(of: list[Container]) -> Sample:
    at = time.monotonic()
    return Sample(
        at,
        cpu.host_times(),
        {c.id: cpu.cgroup_seconds(c.pid) for c in of},
        cpu.processes(),
    )


def measure(options: Options) -> JSONObject:
    if options.settle > 0:
        print(f"settling for {options.settle:.0f} s", flush=True)
        time.sleep(options.settle)
    running = containers(options.project)
    probes = [host_speed.probe_ms() for _ in range(PROBES)]
    before = sample(running)
    time.sleep(options.seconds)
    after = sample(running)
    probes += [host_speed.probe_ms() for _ in range(PROBES)]
    seconds = after.at - before.at
    usage = cpu.usage_by_container(
        before.processes,
        after.processes,
        {cid: after.cgroups[cid] - before.cgroups[cid] for cid in before.cgroups},
        seconds,
    )
    outside = cpu.usage_outside_containers(before.processes, after.processes, seconds)
    engine = {k: v for k, v in outside.items() if k in cpu.ENGINE}
    others = {k: v for k, v in outside.items() if k not in cpu.ENGINE}
    host_busy = (after.host.busy - before.host.busy) / seconds
    services = {
        c.service: {
            "cores": round(usage[c.id].total, 4),
            "short_lived_cores": round(usage[c.id].short_lived, 4),
            "processes": {k: round(v, 4) for k, v in usage[c.id].by_process.items() if v >= 0.0005},
        }
        for c in running
    }
    return {
        "options": asdict(options),
        "cpus": os.cpu_count(),
        "seconds": round(seconds, 1),
        "host_busy_cores": round(host_busy, 4),
        "host_steal_cores": round((after.host.steal - before.host.steal) / seconds, 4),
        "containers_cores": round(sum(u.total for u in usage.values()), 4),
        "engine_cores": round(sum(engine.values()), 4),
        "engine": {k: round(v, 4) for k, v in engine.items() if v >= 0.0005},
        "not_the_clusters_cores": round(sum(others.values()), 4),
        "not_the_clusters": {k: round(v, 4) for k, v in others.items() if v >= 0.0005},
        "cluster_host_wide_cores": round(host_busy - sum(others.values()), 4),
        "services": services,
        "host_speed": dict(host_speed.summary(probes)),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def report(result: JSONObject) -> str:
    """A markdown table: each service's share of a core, its three busiest processes and what
    ended within the window."""
    services = result["services"]
    rows = [
        "| service | % of a core | of which, by process | processes that ended in the window |",
        "|---|---|---|---|",
    ]
    for name, figures in sorted(services.items(), key=lambda kv: -kv[1]["cores"]):
        top = _top(figures["processes"])
        rows.append(
            f"| {name} | {figures['cores'] * 100:.1f} | {top} | "
            f"{figures['short_lived_cores'] * 100:.1f} |"
        )
    summary = [
        ("all containers", result["containers_cores"], ""),
        ("the container engine", result["engine_cores"], _top(result["engine"])),
        ("the host, busy", result["host_busy_cores"], ""),
        ("not the cluster's", result["not_the_clusters_cores"], _top(result["not_the_clusters"])),
        ("**the cluster, host-wide**", result["cluster_host_wide_cores"], ""),
    ]
    rows += [f"| {label} | {cores * 100:.1f} | {top} | |" for label, cores, top in summary]
    speed = result.get("host_speed")
    if speed and speed.get("samples"):
        rows.append(
            f"\nthe host's speed around the window: {speed['probe']}, median "
            f"{speed['p50_ms']:.1f} ({speed['min_ms']:.1f}-{speed['max_ms']:.1f}) over "
            f"{speed['samples']} probes (higher is slower)"
        )
    return "\n".join(rows)


def _top(processes: JSONObject) -> str:
    return ", ".join(f"{p} {v * 100:.1f}" for p, v in list(processes.items())[:3])


def run(options: Options) -> int:
    result = measure(options)
    write_json(options.out, result)
    print(report(result))
    print(f"\n{options.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Options()
    p = sub.add_parser(
        "idle",
        help="the CPU a cluster at rest costs, per container and process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--project", default=defaults.project, help="the compose project")
    p.add_argument(
        "--settle", type=float, default=defaults.settle, help="seconds to wait before measuring"
    )
    p.add_argument("--seconds", type=float, default=defaults.seconds, help="the window measured")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    if args.seconds <= 0 or args.settle < 0:
        raise SystemExit("--seconds must be positive and --settle not negative")
    return Options(project=args.project, settle=args.settle, seconds=args.seconds, out=args.out)
