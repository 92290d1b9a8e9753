"""python -m apiserver --etcd-servers http://127.0.0.1:2379 [--bind-address 0.0.0.0]
[--port 6443] [--rest-port 8443] [--enable-priority-and-fairness=false]
[--service-cluster-ip-range 10.96.0.0/12]"""

from __future__ import annotations

import argparse
import asyncio
import sys

from apiserver.options import (
    admission,
    aggregator,
    component_status,
    etcd,
    flowcontrol,
    security,
    services,
    serving,
)
from apiserver.options.etcd import WatchCacheOptions
from apiserver.server import APIServer
from podplane.componentbase import options
from podplane.componentbase.gc_tuning import tune_garbage_collector
from podplane.componentbase.metrics import loop_health, serve_metrics
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving import configure_logging, wait_for_signal
from podplane.componentbase.serving_flags import MetricsOptions

# The command line, one option group per concern (apiserver/options/), in kube-apiserver's
# order of validation: serving, etcd, flow control, services, admission, then the TLS files.
OPTION_GROUPS: tuple[OptionGroup, ...] = (
    serving,
    etcd,
    flowcontrol,
    services,
    MetricsOptions(
        default="0.0.0.0:8080",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:8080, "
        "Kubernetes' old insecure port); empty disables it",
    ),
    admission,
    LogOptions,
    security,
    aggregator,
    component_status,
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="apiserver", description=__doc__)
    return options.parse(parser, OPTION_GROUPS, argv)


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
        aggregator=args.aggregator,
        component_status=args.component_status,
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
