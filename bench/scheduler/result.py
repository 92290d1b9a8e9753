"""A scheduler load test run's result: throughput from the first create (or bind), creation-to-bind
latencies, the CPU each component used, the binds checked against the workload's constraints, and
the run's context (command, settings, host)."""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict

from bench.common.cpu import host_busy_seconds
from bench.common.processes import container_cpu_seconds, cpu_seconds
from bench.scheduler.hollow_nodes import HollowNodes
from bench.scheduler.load import Observed, pod_index
from bench.scheduler.options import Options, OwnCluster
from bench.scheduler.stats import histogram, latencies, latency_summary, throughput
from bench.scheduler.targets import (
    SCHEDULER_PERF_THRESHOLD,
    Targets,
    clusterloader2,
    scheduler_perf,
)
from bench.scheduler.workloads import (
    SCHEDULER_PERF_FLOORS,
    fits,
    max_zone_skew,
    node_name,
    pod_kind,
    zone_of,
)
from podplane.apimachinery.json_types import JSONObject


def cpu_sample(pids: dict[str, int], containers: Sequence[str] = ()) -> dict[str, float]:
    sample = {
        "host": host_busy_seconds(),
        "load generator": time.process_time(),
        "wall": time.monotonic(),
    }
    for name, pid in pids.items():
        try:
            sample[name] = cpu_seconds(pid)
        except OSError:
            pass
    for container in containers:
        sample[container] = container_cpu_seconds(container)  # named, so missing is an error
    return sample


def run_result(
    options: Options,
    seen: Observed,
    before: dict[str, float],
    after: dict[str, float],
    hollow: HollowNodes,
    run_id: str,
    pods: int,
) -> JSONObject:
    """`pods`: those measured (the preemption workload's preemptors, not its first pods)."""
    lat = latencies(seen.created_at, seen.bound_at)
    edges, counts = histogram(lat)
    # With the pods created first, the clock starts at the first bind: the scheduler's own pace.
    start = (
        min(seen.bound_at.values(), default=seen.first_create)
        if options.create_first
        else seen.first_create
    )
    tp = throughput(start, list(seen.bound_at.values()))
    wall = after["wall"] - before["wall"]
    cpu = {
        name: 100 * (after[name] - before[name]) / wall
        for name in after
        if name != "wall" and name in before
    }
    decided = max(1, len(seen.bound_at) + len(seen.unschedulable_at))
    cpu_per_pod = {
        name: 1000 * (after[name] - before[name]) / decided
        for name in after
        if name != "wall" and name in before
    }
    violations = elsewhere = 0
    zones: Counter[str] = Counter()
    prefix = node_name(run_id, 0).rsplit("-", 1)[0] + "-"
    for name, node in seen.node_of.items():
        i = pod_index(name)
        if not node.startswith(prefix):
            elsewhere += 1  # a running cluster's own node: it may take some of the pods
            continue
        n = int(node[len(prefix) :])
        if not fits(options.workload, i, n):
            violations += 1
        if pod_kind(options.workload, i).spread and n >= 0:
            zones[zone_of(n)] += 1
    unschedulable_expected = sum(pod_kind(options.workload, i).unschedulable for i in range(pods))
    complete = (
        not seen.timed_out
        and seen.create_errors == 0
        and len(seen.bound_at) == pods - unschedulable_expected
    )
    return {
        "complete": complete,
        "timed_out": seen.timed_out,
        "created": len(seen.created_at),
        "create_errors": seen.create_errors,
        "bound": len(seen.bound_at),
        "unschedulable_expected": unschedulable_expected,
        "unschedulable_marked": len(seen.unschedulable_at),
        "create_seconds": seen.last_create - seen.first_create,
        "create_rate": len(seen.created_at) / max(seen.last_create - seen.first_create, 1e-9),
        "throughput": tp.to_json(),
        "latency": latency_summary(lat),
        # The throughput floors are SchedulingBasic's, or scheduler_perf's for the workload it
        # models; preemption has none of its own here.
        "targets": None
        if options.workload == "preemption"
        else Targets(
            clusterloader2=clusterloader2(tp.per_second),
            scheduler_perf=scheduler_perf(
                tp.per_second,
                SCHEDULER_PERF_FLOORS.get(options.workload, SCHEDULER_PERF_THRESHOLD),
            ),
        ),
        "throughput_from": "the first bind (pods created first)"
        if options.create_first
        else "the first Create",
        "latency_histogram": {"edges": edges, "counts": counts},
        "cpu_percent_while_scheduling": cpu,
        # CPU ms per pod bound or marked unschedulable, by component: what the host pays a pod.
        "cpu_ms_per_pod": cpu_per_pod,
        "wall_seconds_scheduling": wall,
        "constraint_violations": violations,
        "bound_to_other_nodes": elsewhere,
        "spread_max_skew": max_zone_skew(dict(zones)) if zones else None,
        "lease_renewals": hollow.renewals,
        "lease_renewal_errors": hollow.renewal_errors,
        # Over the span of the CPU figures: the renewals they paid for.
        "lease_renewals_per_second": hollow.renewals_per_second,
        "lease_renewals_skipped": hollow.renewals_skipped,
    }


def run_context(
    options: Options,
    started_at: str,
    elapsed: float,
    own: OwnCluster | None,
    run_id: str,
    log_dir: str,
) -> JSONObject:
    return {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "started_at": started_at,
        "wall_seconds": elapsed,
        "run_id": run_id,
        "workload": options.workload,
        "nodes": options.nodes,
        "pods": options.pods,
        "settings": asdict(options),
        "cluster": "started here: etcd, python -m apiserver, python -m scheduler"
        if own is not None
        else f"running cluster at {options.server}",
        "logs": log_dir if own is not None else None,
        "host": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
    }
