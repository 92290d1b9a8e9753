"""podplane-bench: benchmarks and load tests of a podplane control plane; USAGE lists the
commands (podplane-bench --help prints it)."""

from __future__ import annotations

import argparse
import sys

from bench.apiserver import authorization, grpc_costs, lease_renewals, overload, scheduling_costs
from bench.apiserver import benchmark as apiserver_benchmark
from bench.apiserver import costs as apiserver_costs
from bench.apiserver_doors import benchmark as apiserver_doors
from bench.autoscaling import benchmark as autoscaling
from bench.cluster_dns import benchmark as cluster_dns
from bench.cluster_idle import benchmark as cluster_idle
from bench.cluster_idle import channels as idle_channels
from bench.custom_resources import benchmark as custom_resources
from bench.high_availability import benchmark as high_availability
from bench.ingress import benchmark as ingress
from bench.kube_proxy import programming as service_programming
from bench.kube_proxy import sync as kube_proxy_sync
from bench.netpol import sync as netpol_sync
from bench.pod_startup import benchmark as pod_startup
from bench.scheduler import cli as scheduler_cli
from bench.scheduler import decision as scheduler_decision
from bench.statefulset import benchmark as statefulset_scale
from podplane.componentbase import client_flags, flags

# The --help description, printed as written: kept out of the docstring, which a formatter
# re-indents (a backslash at the end of a line joins it to the next).
USAGE = """\
podplane-bench: benchmarks and load tests of a podplane control plane.

    podplane-bench apiserver [--quick] [--server HOST:PORT] [--etcd http://HOST:PORT] [--out FILE]
    podplane-bench pods [--pods N] [--rate R,burst] [--server HOST:PORT] [--out FILE]
    podplane-bench apiserver-overload [--guards apf,apf-150,max-inflight] [--clients 100,800] \
[--nodes N] [--out FILE]
    podplane-bench scheduler [--nodes N] [--pods M] [--workload W] [--rate R] [--server HOST:PORT]
                             [--out FILE] [--plot FILE]
    podplane-bench scheduler-decision [--nodes N] [--pods M] [--workload W] [--out FILE]
    podplane-bench apiserver-costs [--calls N] [--out FILE]
    podplane-bench authorization [--roles N] [--requests M] [--out FILE]
    podplane-bench grpc-costs [--calls N] [--out FILE]
    podplane-bench scheduling-costs [--pods N] [--out FILE]
    podplane-bench lease-renewals [--nodes N] [--interval S] [--seconds T] [--out FILE]
    podplane-bench apiserver-doors [--quick] [--clients 1,10,100] [--watchers W] [--list-pods N]
                                   [--out FILE]
    podplane-bench custom-resources [--quick] [--clients 1,10,50] [--size BYTES] [--out FILE]
    podplane-bench kube-proxy-sync [--services N] [--endpoints M] [--mode netns|generate]
                                   [--iptables system|nft|legacy] [--syncs K] [--out FILE]
    podplane-bench netpol [--policies N] [--pods M] [--local-pods L] [--mode netns|generate]
                          [--syncs K] [--out FILE]
    podplane-bench service-programming [--services N] [--server HOST:PORT] [--out FILE]
    podplane-bench dns [--queries N] [--name NAME] [--server HOST:PORT] [--out FILE]
    podplane-bench ingress [--seconds S] [--connections C] [--node NODE] [--server HOST:PORT]
                           [--out FILE]
    podplane-bench statefulset [--replicas N] [--policies OrderedReady,Parallel]
                               [--claims both|without|with] [--server HOST:PORT] [--out FILE]
    podplane-bench high-availability [--kills N] [--clients C] [--seconds S]
                                     [--phases etcd-leader,apiserver,throughput] [--out FILE]
    podplane-bench idle [--settle SECONDS] [--seconds S] [--project NAME] [--out FILE]
    podplane-bench idle-channels [--server HOST:PORT] [--processes N] [--seconds S] [--out FILE]
    podplane-bench autoscaling [--kubeconfig FILE] [--phases kubelet,reaction] [--runs N]
                               [--node NODE] [--pods N] [--calls N] [--seconds S] [--out FILE]
"""


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None
    if counts and min(counts) < 1:  # none at all skips the phase
        raise argparse.ArgumentTypeError(f"{value!r}: expected positive integers")
    return counts


def _add_apiserver(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apiserver",
        help="raw etcd CAS ceiling, apiserver write throughput/latency, watch latency",
        description="Measures, in one run: raw etcd compare-and-swap txn/s (the ceiling), "
        "apiserver create/update throughput and latency at several client counts, "
        "and watch event delivery latency at several watcher counts. Starts its own "
        "etcd and apiserver unless --server is given.",
    )
    client_flags.add_server_flag(p, help="a running apiserver (host:port) instead of starting one")
    p.add_argument(
        "--etcd",
        help="a running etcd (http://host:port): the ceiling phase, and the "
        "store of the apiserver started here when --server is not given",
    )
    p.add_argument("--out", default="build/bench/apiserver.json", help="the JSON result")
    p.add_argument("--markdown-out", default="build/bench/apiserver.md", help="the markdown table")
    p.add_argument("--quick", action="store_true", help="short cells: a run of about a minute")
    p.add_argument("--warmup", type=float, help="seconds excluded before each write measurement")
    p.add_argument("--duration", type=float, help="seconds measured per write cell")
    p.add_argument(
        "--clients", type=_counts, default=(1, 10, 100), help='e.g. 1,10,100 ("" skips the phase)'
    )
    p.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="worker processes the clients are spread over",
    )
    p.add_argument("--etcd-duration", type=float, help="seconds measured per etcd phase")
    p.add_argument("--etcd-workers", type=int, default=2, help="processes driving etcd")
    p.add_argument(
        "--etcd-inflight", type=int, default=64, help="concurrent requests per etcd worker process"
    )
    p.add_argument(
        "--watchers",
        type=_counts,
        default=(1, 100, 1000),
        help='e.g. 1,100,1000 ("" skips the phase)',
    )
    p.add_argument(
        "--watch-processes",
        type=int,
        default=4,
        help="worker processes the watchers are spread over",
    )
    p.add_argument(
        "--watchers-per-connection",
        type=int,
        default=1,
        help="watch streams sharing one gRPC connection",
    )
    p.add_argument("--watch-rate", type=float, default=20.0, help="pods created per second")
    p.add_argument("--watch-duration", type=float, help="seconds of writes per watch cell")
    p.add_argument(
        "--keep",
        action="store_true",
        help="with --server: leave the run's pods in place instead of deleting them",
    )


_positive = flags.positive_int


def _rates(value: str) -> tuple[float, ...]:
    rates = []
    for item in (v.strip() for v in value.split(",") if v.strip()):
        try:
            rate = pod_startup.BURST if item == "burst" else float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{item!r}: expected pods per second or "burst"'
            ) from None
        if rate < 0 or (rate == 0 and item != "burst"):
            raise argparse.ArgumentTypeError(f'{item!r}: expected a positive rate or "burst"')
        rates.append(rate)
    if not rates:
        raise argparse.ArgumentTypeError("expected at least one rate")
    return tuple(rates)


def _add_pods(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "pods",
        help="pod start-up latency: create -> Running, p50/p90/p99 and throughput",
        description="Per rate: creates N busybox pods (sleep 3600, image present, a tiny cpu "
        "request) in a fresh namespace of a running cluster, at a steady rate or as "
        "a burst, measures create -> scheduled -> Running as a watch delivers them "
        "(clusterloader2's PodStartupLatency), and deletes the namespace.",
    )
    defaults = pod_startup.Options()
    client_flags.add_server_flag(p, default=defaults.server, help="the apiserver (host:port)")
    p.add_argument("--pods", type=_positive, default=defaults.pods, help="how many pods")
    p.add_argument(
        "--rate",
        type=_rates,
        default=defaults.rates,
        dest="rates",
        help='pods/s per cell, comma-separated, "burst" for all at once (default 2,burst)',
    )
    p.add_argument(
        "--concurrency",
        type=_positive,
        default=defaults.concurrency,
        help="Create calls in flight at once in a burst",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=defaults.timeout,
        help="seconds to wait for every pod to be Running",
    )
    p.add_argument("--cpu-request", default=defaults.cpu_request, help="each pod's cpu request")
    p.add_argument(
        "--project",
        default=defaults.project,
        help='the compose project whose nodes\' CPU per pod is reported ("" for none)',
    )
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def _add_dns(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dns",
        help="DNS query latency from a pod: p50/p90/p99 per cluster DNS server",
        description="Runs a pod (the cluster DNS's image) on a running cluster that sends N "
        "queries, one at a time over UDP, to the kube-dns Service address and to each DNS "
        "replica, and summarizes each query's round trip as the pod measured it.",
    )
    defaults = cluster_dns.Options()
    client_flags.add_server_flag(p, default=defaults.server, help="the apiserver (host:port)")
    p.add_argument("--queries", type=_positive, default=defaults.queries, help="per DNS server")
    p.add_argument("--name", default=defaults.name, help="the name asked (an A record)")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> apiserver_benchmark.Options:
    quick = args.quick
    return apiserver_benchmark.Options(
        server=args.server,
        etcd=args.etcd,
        out=args.out,
        markdown_out=args.markdown_out,
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else 2.0),
        duration=args.duration if args.duration is not None else (3.0 if quick else 8.0),
        clients=args.clients,
        client_processes=args.client_processes,
        etcd_warmup=1.0,
        etcd_duration=args.etcd_duration
        if args.etcd_duration is not None
        else (3.0 if quick else 5.0),
        etcd_workers=args.etcd_workers,
        etcd_inflight=args.etcd_inflight,
        watchers=args.watchers,
        watch_processes=args.watch_processes,
        watchers_per_connection=args.watchers_per_connection,
        watch_rate=args.watch_rate,
        watch_duration=args.watch_duration
        if args.watch_duration is not None
        else (4.0 if quick else 10.0),
        keep=args.keep,
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per benchmark."""
    parser = argparse.ArgumentParser(
        prog="podplane-bench",
        description=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_apiserver(sub)
    _add_pods(sub)
    scheduler_cli.add_parser(sub, _positive)
    scheduler_decision.add_parser(sub, _positive)
    apiserver_costs.add_parser(sub, _positive)
    authorization.add_parser(sub, _positive)
    grpc_costs.add_parser(sub, _positive)
    scheduling_costs.add_parser(sub, _positive)
    lease_renewals.add_parser(sub, _positive)
    overload.add_parser(sub)
    apiserver_doors.add_parser(sub)
    custom_resources.add_parser(sub)
    kube_proxy_sync.add_parser(sub, _positive)
    netpol_sync.add_parser(sub, _positive)
    service_programming.add_parser(sub, _positive)
    _add_dns(sub)
    ingress.add_parser(sub)
    statefulset_scale.add_parser(sub, _positive)
    high_availability.add_parser(sub)
    cluster_idle.add_parser(sub)
    idle_channels.add_parser(sub)
    autoscaling.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "apiserver":
        return apiserver_benchmark.run(options_from(args))
    if args.command == "pods":
        return pod_startup.run(
            pod_startup.Options(
                server=args.server,
                pods=args.pods,
                rates=args.rates,
                concurrency=args.concurrency,
                timeout=args.timeout,
                cpu_request=args.cpu_request,
                project=args.project,
                out=args.out,
            )
        )
    if args.command == "dns":
        return cluster_dns.run(
            cluster_dns.Options(
                server=args.server, queries=args.queries, name=args.name, out=args.out
            )
        )
    if args.command == "scheduler":
        return scheduler_cli.run(args)
    if args.command == "scheduler-decision":
        return scheduler_decision.run(args)
    if args.command == "apiserver-costs":
        return apiserver_costs.run(args)
    if args.command == "authorization":
        return authorization.run(args)
    if args.command == "grpc-costs":
        return grpc_costs.run(args)
    if args.command == "scheduling-costs":
        return scheduling_costs.run(args)
    if args.command == "lease-renewals":
        return lease_renewals.run(args)
    if args.command == "apiserver-overload":
        return overload.run(overload.options_from(args))
    if args.command == "apiserver-doors":
        return apiserver_doors.run(apiserver_doors.options_from(args))
    if args.command == "custom-resources":
        return custom_resources.run(custom_resources.options_from(args))
    if args.command == "kube-proxy-sync":
        return kube_proxy_sync.run(args)
    if args.command == "netpol":
        return netpol_sync.run(args)
    if args.command == "service-programming":
        return service_programming.run(args)
    if args.command == "statefulset":
        return statefulset_scale.run(statefulset_scale.options_from(args))
    if args.command == "high-availability":
        return high_availability.run(high_availability.options_from(args))
    if args.command == "idle":
        return cluster_idle.run(cluster_idle.options_from(args))
    if args.command == "idle-channels":
        return idle_channels.run(idle_channels.options_from(args))
    if args.command == "ingress":
        return ingress.run(ingress.options_from(args))
    if args.command == "autoscaling":
        return autoscaling.run(autoscaling.options_from(args))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
