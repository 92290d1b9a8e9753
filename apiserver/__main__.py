"""python -m apiserver --etcd-servers http://127.0.0.1:2379 [--bind-address 0.0.0.0]
[--port 6443] [--rest-port 8443] [--enable-priority-and-fairness=false]
[--service-cluster-ip-range 10.96.0.0/12]"""

from __future__ import annotations

import argparse
import asyncio
import sys

from apiserver.flowcontrol.max_inflight import (
    DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
    DEFAULT_MAX_REQUESTS_INFLIGHT,
)
from apiserver.options.flags import add_security_flags, security_from_args
from apiserver.registry.service.ipallocator import DEFAULT_SERVICE_CIDR, IPRange
from apiserver.registry.service.portallocator import DEFAULT_NODE_PORT_RANGE, PortRange
from apiserver.server import (
    DEFAULT_ACCEPTORS,
    DEFAULT_REST_PORT,
    OPTIONAL_ADMISSION_PLUGINS,
    APIServer,
    WatchCacheOptions,
)
from podplane.componentbase import flags, serving_flags
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.metrics import loop_health, serve_metrics
from podplane.componentbase.serving import configure_logging, wait_for_signal


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="apiserver", description=__doc__)
    p.add_argument(
        "--etcd-servers",
        required=True,
        type=flags.url_list,
        help="comma-separated etcd endpoints, e.g. http://etcd:2379",
    )
    p.add_argument("--bind-address", type=flags.ip_address, default="0.0.0.0")
    p.add_argument("--port", type=int, default=6443, help="the gRPC API's port (TLS)")
    p.add_argument(
        "--rest-port",
        type=int,
        default=DEFAULT_REST_PORT,
        help="the Kubernetes REST API's port (HTTPS; kubectl, client-go, the "
        "official clients), on --bind-address; 0 serves none",
    )
    p.add_argument(
        "--etcd-wait-seconds",
        type=float,
        default=120.0,
        help="how long to wait for etcd at start-up",
    )
    p.add_argument(
        "--etcd-compaction-interval",
        type=float,
        default=300.0,
        help="seconds between compactions of etcd's history (0: never)",
    )
    p.add_argument(
        "--watch-cache-size",
        type=int,
        default=WatchCacheOptions.capacity,
        help="events kept per resource for watches resuming from a recent version",
    )
    p.add_argument(
        "--watch-buffer-size",
        type=int,
        default=WatchCacheOptions.watcher_buffer,
        help="events queued per watch before a watcher that cannot keep up is closed",
    )
    p.add_argument(
        "--watch-bookmark-interval",
        type=float,
        default=WatchCacheOptions.bookmark_interval,
        help="seconds between BOOKMARK events sent to watchers that allow them",
    )
    p.add_argument(
        "--watch-batch-interval",
        type=float,
        default=WatchCacheOptions.batch_interval,
        help="seconds a busy watch stream waits after a message before the next, "
        "which carries every event that arrived meanwhile (for clients that take "
        "batches); a stream idle that long sends at once; 0: never wait",
    )
    p.add_argument(
        "--enable-priority-and-fairness",
        type=flags.boolean,
        nargs="?",
        const=True,
        default=True,
        help="API Priority and Fairness (default true): requests are classified into "
        "priority levels and flows, queued fairly when the server is busy and refused "
        "(RESOURCE_EXHAUSTED, 429) only when their queue is full or they waited too "
        "long; the server's seats are the sum of the two limits below. false: the "
        "max-in-flight guard, which refuses at once what is over either limit",
    )
    p.add_argument(
        "--max-requests-inflight",
        type=int,
        default=DEFAULT_MAX_REQUESTS_INFLIGHT,
        help="read-only requests served at once (without API Priority and Fairness; "
        "with it, added to the next to make the server's seats); watches and other "
        "long-running requests are not counted; 0: no limit",
    )
    p.add_argument(
        "--max-mutating-requests-inflight",
        type=int,
        default=DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
        help="mutating requests (create, update, delete, bind) served at once "
        "(without API Priority and Fairness; with it, see above); 0: no limit",
    )
    p.add_argument(
        "--grpc-acceptors",
        type=int,
        default=DEFAULT_ACCEPTORS,
        help="gRPC servers sharing the port (SO_REUSEPORT), each taking up one call "
        "per event-loop turn: with too few, calls wait in gRPC's core where the "
        "flow control cannot see them",
    )
    serving_flags.add_metrics_flag(
        p,
        default="0.0.0.0:8080",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:8080, "
        "Kubernetes' old insecure port); empty disables it",
    )
    p.add_argument(
        "--disable-admission-plugins",
        default="",
        help="admission plugins to turn off, comma-separated (of: "
        f"{', '.join(OPTIONAL_ADMISSION_PLUGINS)}); Kubernetes' own integration tests turn "
        "ServiceAccount off where no controller-manager makes the default accounts",
    )
    p.add_argument(
        "--service-cluster-ip-range",
        default=DEFAULT_SERVICE_CIDR,
        help="the CIDR Services' cluster IPs are allocated from (IPv4: /12 or smaller); its "
        f"first address is the kubernetes Service's (default {DEFAULT_SERVICE_CIDR})",
    )
    p.add_argument(
        "--service-node-port-range",
        default=DEFAULT_NODE_PORT_RANGE,
        help="the ports NodePort and LoadBalancer Services' node ports are allocated from "
        f"(default {DEFAULT_NODE_PORT_RANGE})",
    )
    p.add_argument(
        "--advertise-address",
        type=flags.ip_address,
        help="the address pods reach this apiserver at, published as the kubernetes "
        "Service's endpoint (default: --bind-address, else the default route's address)",
    )
    p.add_argument("--log-level", type=flags.log_level, default="INFO")
    add_security_flags(p)
    args = p.parse_args(argv)
    args.metrics_bind_address = serving_flags.metrics_address_from_flags(p, args)
    for flag in (
        "etcd_compaction_interval",
        "watch_bookmark_interval",
        "watch_batch_interval",
        "max_requests_inflight",
        "max_mutating_requests_inflight",
        "etcd_wait_seconds",
    ):
        if getattr(args, flag) < 0:
            p.error(f"--{flag.replace('_', '-')}: must be >= 0")
    for flag in ("watch_cache_size", "watch_buffer_size", "grpc_acceptors"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')}: must be >= 1")
    if args.watch_bookmark_interval == 0:
        p.error("--watch-bookmark-interval: must be > 0")
    if not 0 < args.port < 65536:
        p.error(f"--port: {args.port} is not a valid port (1-65535)")
    for flag, parse in (
        ("service_cluster_ip_range", IPRange.parse),
        ("service_node_port_range", PortRange.parse),
    ):
        try:
            parse(getattr(args, flag))
        except ValueError as e:
            p.error(f"--{flag.replace('_', '-')}: {e}")
    if not 0 <= args.rest_port < 65536:
        p.error(f"--rest-port: {args.rest_port} is not a valid port (1-65535, or 0 for none)")
    args.disable_admission_plugins = frozenset(
        name for name in args.disable_admission_plugins.split(",") if name
    )
    for name in sorted(args.disable_admission_plugins - set(OPTIONAL_ADMISSION_PLUGINS)):
        p.error(f'--disable-admission-plugins: admission plugin "{name}" is unknown')
    args.security = security_from_args(p, args)
    return args


async def run(args: argparse.Namespace) -> None:
    server = APIServer(
        args.etcd_servers,
        f"{args.bind_address}:{args.port}",
        security=args.security,
        watch_cache=WatchCacheOptions(
            capacity=args.watch_cache_size,
            watcher_buffer=args.watch_buffer_size,
            bookmark_interval=args.watch_bookmark_interval,
            batch_interval=args.watch_batch_interval,
        ),
        compaction_interval=args.etcd_compaction_interval,
        max_requests_inflight=args.max_requests_inflight,
        max_mutating_requests_inflight=args.max_mutating_requests_inflight,
        enable_priority_and_fairness=args.enable_priority_and_fairness,
        acceptors=args.grpc_acceptors,
        rest_address=f"{args.bind_address}:{args.rest_port}" if args.rest_port else None,
        service_cluster_ip_range=args.service_cluster_ip_range,
        service_node_port_range=args.service_node_port_range,
        advertise_address=args.advertise_address,
        disable_admission_plugins=args.disable_admission_plugins,
    )
    # /healthz beside /metrics: the gRPC health service's status (NOT_SERVING while etcd is
    # unreachable), and the event loop turning.
    metrics = serve_metrics(
        args.metrics_bind_address,
        loop_health(asyncio.get_running_loop(), lambda: server.server.serving),
    )
    await server.start(args.etcd_wait_seconds)
    await wait_for_signal()
    await server.stop()
    if metrics is not None:
        await metrics.aclose()


# How long the serving thread may hold the GIL while another thread waits for it (Python's
# default is 5 ms). The etcd watch thread (apiserver/storage/etcd_watch_stream.py) needs it for
# every response etcd sends; at 5 ms it got it about 200 times a second under load, and the watch
# cache fell 1 s behind etcd at 600 writes/s (0.12 s at 1 ms).
GIL_SWITCH_INTERVAL = 0.001


def main() -> None:
    args = parse_args(sys.argv[1:])
    configure_logging(args.log_level)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    tune_garbage_collector()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
