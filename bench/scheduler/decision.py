"""`podplane-bench scheduler-decision`: the CPU one scheduling decision costs, in process, without
the apiserver: the load test's hollow nodes and pods of a workload in a SchedulerCache, each pod
scheduled (PreFilter through Score and the choice) and assumed on its node, as the scheduler's loop
does; with the plugins judging nodes in bulk and one node at a time (Framework(bulk=False)), which
must choose the same nodes. For trying scheduler ideas without a cluster."""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from bench.scheduler.workloads import MAX_NODES, WORKLOADS, bench_pod, hollow_node, node_name
from podplane.api.core.v1 import core_pb2
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry

RUN_ID = "decision"


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "scheduler-decision",
        help="CPU per scheduling decision, in process, bulk and per node",
        description=__doc__,
    )
    p.add_argument("--nodes", type=positive, default=1000, help=f"nodes (at most {MAX_NODES})")
    p.add_argument("--pods", type=positive, default=3000, help="pods scheduled one after another")
    p.add_argument("--workload", choices=WORKLOADS, default="basic")
    p.add_argument("--out", help="also write the result as JSON here")


def measure(nodes: int, pods: int, workload: str, bulk: bool) -> tuple[float, list[str]]:
    """CPU seconds per decision (with its assume), and the node chosen for each pod ("" for
    none)."""
    cache = SchedulerCache()
    for i in range(nodes):
        # Named as the load test names them: the daemonset workload's pods name the first.
        name = node_name(RUN_ID, i)
        cache.add_node(hollow_node(name, i, workload, RUN_ID, "2026-01-01T00:00:00Z"))
    algorithm = SchedulingAlgorithm(
        Framework(in_tree_registry(), default_profile(), bulk=bulk), random.Random(0)
    )
    pending = []
    for i in range(pods):
        pod = bench_pod(f"pod-{i:05}", "default", i, workload, RUN_ID)
        pod.metadata.uid = f"uid-{i}"
        pending.append(pod)
    chosen = []
    started = time.process_time()
    for pod in pending:
        result = algorithm.schedule(pod, cache.node_infos())
        chosen.append(result.node_name)
        if result.status.is_success:
            assumed = core_pb2.Pod()
            assumed.CopyFrom(pod)
            assumed.spec.node_name = result.node_name
            cache.assume_pod(assumed)
    return (time.process_time() - started) / pods, chosen


def run(args: argparse.Namespace) -> int:
    if args.nodes > MAX_NODES:
        raise SystemExit(f"--nodes: at most {MAX_NODES}")
    bulk, bulk_chosen = measure(args.nodes, args.pods, args.workload, bulk=True)
    each, each_chosen = measure(args.nodes, args.pods, args.workload, bulk=False)
    same = bulk_chosen == each_chosen
    print(
        f"{args.workload}, {args.nodes} nodes, {args.pods} pods: {bulk * 1e3:.3f} ms of CPU per "
        f"decision in bulk, {each * 1e3:.3f} ms one node at a time "
        f"({each / bulk:.1f}x); same nodes chosen: {'yes' if same else 'NO'}"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                {
                    "workload": args.workload,
                    "nodes": args.nodes,
                    "pods": args.pods,
                    "cpu_ms_per_decision": {"bulk": bulk * 1e3, "per_node": each * 1e3},
                    "same_choices": same,
                },
                f,
                indent=2,
            )
    return 0 if same else 1
