"""The `podplane-bench scheduler` verb: flags to Options."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench.scheduler import loadtest, repeat
from bench.scheduler.options import Options
from bench.scheduler.workloads import FILLED_WORKLOADS, MAX_NODES, WORKLOADS, preemption_split
from podplane.componentbase import client_flags


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected pods per second") from None
    if rate <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a positive rate")
    return rate


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected seconds") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: expected 0 or more seconds")
    return seconds


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    d = Options()
    p = sub.add_parser(
        "scheduler",
        help="scheduler throughput on hollow nodes: pods/s, creation-to-bind latency",
        description=loadtest.__doc__,
    )
    _add_load_flags(p, d, positive)
    client_flags.add_server_flag(
        p,
        help="a running cluster's apiserver (host:port), whose scheduler is "
        "measured; default: start etcd, apiserver and scheduler here",
    )
    _add_result_flags(p, d)
    _add_cluster_mode_flags(p)


def _add_load_flags(p: argparse.ArgumentParser, d: Options, positive: Callable[[str], int]) -> None:
    """The hollow nodes, the pods and how they are created."""
    p.add_argument(
        "--nodes",
        type=positive,
        default=d.nodes,
        help=f"hollow nodes to register (default {d.nodes}, at most {MAX_NODES})",
    )
    p.add_argument("--pods", type=positive, default=d.pods, help=f"pods (default {d.pods})")
    p.add_argument(
        "--workload",
        choices=WORKLOADS,
        default=d.workload,
        help="what the pods ask for (default basic: scheduler_perf's SchedulingBasic)",
    )
    p.add_argument("--rate", type=_rate, help="pods created per second (default: all at once)")
    p.add_argument(
        "--concurrency",
        type=positive,
        default=d.concurrency,
        help=f"Create calls in flight when creating all at once (default {d.concurrency})",
    )
    p.add_argument(
        "--connections",
        type=positive,
        default=d.connections,
        help=f"gRPC connections the creates are spread over (default {d.connections})",
    )
    p.add_argument(
        "--create-stream",
        action=argparse.BooleanOptionalAction,
        default=d.create_stream,
        help="create the pods over a pod create stream per connection (Pods/CreateStream) "
        f"instead of a Create call each (default {'on' if d.create_stream else 'off'})",
    )


def _add_result_flags(p: argparse.ArgumentParser, d: Options) -> None:
    """Where the result goes, how long to wait, and the etcd and lease settings."""
    p.add_argument("--out", default=d.out, help=f"the JSON result (default {d.out})")
    p.add_argument(
        "--plot",
        default=d.plot,
        help=f'the PNG: throughput over time, latency histogram (default {d.plot}; "" for none)',
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=d.timeout,
        help=f"seconds to wait for every pod to be bound (default {d.timeout:g})",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the test that many times in a row: each result in OUT-1.json ..., and in "
        "OUT their median pods/s with the spread, against scheduler_perf's floor and twice it",
    )
    p.add_argument(
        "--no-etcd-ceiling", action="store_true", help="skip the raw etcd txn/s measurement"
    )
    p.add_argument(
        "--etcd-duration",
        type=float,
        default=d.etcd_duration,
        help=f"seconds measured per etcd phase (default {d.etcd_duration:g})",
    )
    p.add_argument(
        "--lease-interval",
        type=_interval,
        default=d.lease_interval,
        help=f"seconds between a hollow node's lease renewals (default "
        f"{d.lease_interval:g}, the kubelet's, as kubemark's hollow nodes renew); 0: never "
        "renewed, as scheduler_perf's nodes, which have no kubelet (not with --server: "
        "the cluster's node lifecycle controller would find them gone)",
    )


def _add_cluster_mode_flags(p: argparse.ArgumentParser) -> None:
    """What is done with the cluster: kept, watched (--server), profiled or pre-filled (without)."""
    p.add_argument(
        "--keep",
        action="store_true",
        help="with --server: leave the pods, hollow nodes and namespace in place",
    )
    p.add_argument(
        "--containers",
        default="",
        metavar="NAME,...",
        help="with --server: Docker containers of that cluster whose CPU (their own "
        "processes', not what docker exec runs there) the result reports, in all and per pod",
    )
    p.add_argument(
        "--apiserver-metrics",
        metavar="URL",
        help="with --server: that apiserver's /metrics, for its writes per pod (default "
        "http://SERVER-HOST:8080/metrics; not measured if it cannot be read)",
    )
    p.add_argument(
        "--scheduler-metrics",
        default="",
        metavar="URL,...",
        help="with --server: the schedulers' /metrics (leader and standbys, summed), for the "
        "attempts per pod (default: none, not measured)",
    )
    p.add_argument(
        "--create-first",
        action="store_true",
        help="without --server: create every pod, then start the scheduler; the "
        "throughput counts from its first bind (the scheduler's own pace, without "
        "pod creation competing for the host); the preemption workloads' nodes are filled "
        "by a scheduler stopped before the measured pods are created",
    )
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="without --server: run the scheduler under cProfile (its main thread's "
        "CPU time) and write its stats to FILE (read them with python -m pstats)",
    )
    p.add_argument(
        "--profile-apiserver",
        metavar="FILE",
        help="without --server: run the apiserver under cProfile (its event loop "
        "thread's CPU time) and write its stats to FILE when it stops at the end",
    )


def run(args: argparse.Namespace) -> int:
    for flag, given in (
        ("--profile", args.profile),
        ("--profile-apiserver", args.profile_apiserver),
        ("--create-first", args.create_first),
    ):
        if args.server and given:
            raise SystemExit(
                f"podplane-bench scheduler: {flag} needs the cluster started here (no --server)"
            )
    for flag, given in (
        ("--containers", args.containers),
        ("--apiserver-metrics", args.apiserver_metrics),
        ("--scheduler-metrics", args.scheduler_metrics),
    ):
        if given and not args.server:
            raise SystemExit(f"podplane-bench scheduler: {flag} needs --server")
    if args.server and args.lease_interval == 0:
        raise SystemExit(
            "podplane-bench scheduler: --lease-interval 0 needs the cluster started here (no "
            "--server): a running cluster's node lifecycle controller taints unrenewed nodes"
        )
    if args.nodes > MAX_NODES:
        raise SystemExit(f"podplane-bench scheduler: --nodes: at most {MAX_NODES}")
    if args.workload in FILLED_WORKLOADS:
        try:
            preemption_split(args.nodes, args.pods, args.workload)
        except ValueError as e:
            raise SystemExit(f"podplane-bench scheduler: --pods: {e}") from None
    options = Options(
        nodes=args.nodes,
        pods=args.pods,
        workload=args.workload,
        rate=args.rate,
        concurrency=args.concurrency,
        connections=args.connections,
        create_stream=args.create_stream,
        server=args.server,
        out=args.out,
        plot=args.plot or None,
        timeout=args.timeout,
        etcd_ceiling=not args.no_etcd_ceiling,
        etcd_duration=args.etcd_duration,
        lease_interval=args.lease_interval,
        keep=args.keep,
        containers=tuple(c for c in args.containers.split(",") if c),
        profile=args.profile,
        profile_apiserver=args.profile_apiserver,
        create_first=args.create_first,
        apiserver_metrics=args.apiserver_metrics,
        scheduler_metrics=tuple(u for u in args.scheduler_metrics.split(",") if u),
    )
    if args.repeat > 1:
        return repeat.run(options, args.repeat)
    return loadtest.run(options)
