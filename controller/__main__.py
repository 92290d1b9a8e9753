"""python -m controller --server HOST:PORT [--health-port 10257] [--controllers namespace,...]
       [--metrics-bind-address 0.0.0.0:10252] [--leader-elect=true] [--cluster-cidr 10.244.0.0/16]
       [--use-service-account-credentials=false] [--token-server HOST:6444]
       [--node-monitor-grace-period 50s] [--local-path-dir /var/local-path-provisioner] ...

The controller-manager: runs the cluster's controllers against the apiserver. With leader election
(the default) any number of replicas may run: the one holding the Lease
kube-system/kube-controller-manager runs the controllers, the others stand by; a leader that loses
the lease exits (status 1) and is restarted as a standby. Its health service reports SERVING while
it leads or stands by; SIGTERM stops it gracefully, releasing the lease. With
--use-service-account-credentials each controller runs as its own service account
kube-system/<name> (controller/framework/client_builder.py)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from controller.controllers import CONTROLLERS, SERVICE_ACCOUNTS
from controller.framework.client_builder import ClientBuilder, ServiceAccountClientBuilder
from controller.framework.manager import ControllerManager, ControllerOptions
from controller.options import (
    credentials,
    csrsigning,
    generic,
    localpath,
    nodeipam,
    nodelifecycle,
    podautoscaler,
    podgc,
    serviceaccount,
    servicelb,
)
from podplane.client.clientset import Client, user_agent
from podplane.componentbase import options
from podplane.componentbase.app import Component, leader_elector, serve_component, while_leading
from podplane.componentbase.client_flags import ClientOptions
from podplane.componentbase.leaderelection_flags import LeaderElectionOptions
from podplane.componentbase.options import LogOptions, OptionGroup
from podplane.componentbase.serving import run_service
from podplane.componentbase.serving_flags import HealthOptions, MetricsOptions

log = logging.getLogger("controller-manager")


# The command line, one option group per concern (controller/options/, and the component's own
# from podplane.componentbase), validated in this order: the root CA defaults to the connection's.
OPTION_GROUPS: tuple[OptionGroup, ...] = (
    ClientOptions(server_help="the apiserver's gRPC address, HOST:PORT"),
    HealthOptions(10257),
    generic,
    credentials,
    MetricsOptions(
        default="0.0.0.0:10252",
        help="HOST:PORT of the Prometheus /metrics endpoint (default 0.0.0.0:10252; empty: none)",
    ),
    nodelifecycle,
    podgc,
    nodeipam,
    localpath,
    serviceaccount,
    csrsigning,
    podautoscaler,
    servicelb,
    LeaderElectionOptions("kube-controller-manager"),
    LogOptions,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="controller-manager", description=__doc__.split("\n\n")[0]
    )
    args = options.parse(parser, OPTION_GROUPS, list(argv) if argv is not None else sys.argv[1:])
    args.options = ControllerOptions(
        node_monitor_grace_period=args.node_monitor_grace_period,
        node_startup_grace_period=args.node_startup_grace_period,
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold,
        cluster_cidr=args.cluster_cidr,
        node_cidr_mask_size=args.node_cidr_mask_size,
        local_path_dir=args.local_path_dir,
        local_path_helper_image=args.local_path_helper_image,
        default_storage_class=args.default_storage_class,
        root_ca=args.root_ca,
        cluster_signing_cert_file=args.cluster_signing_cert_file,
        cluster_signing_key_file=args.cluster_signing_key_file,
        cluster_signing_duration=args.cluster_signing_duration,
        rest_server=args.rest_server,
        hpa_sync_period=args.horizontal_pod_autoscaler_sync_period,
        hpa_downscale_stabilization=args.horizontal_pod_autoscaler_downscale_stabilization,
        hpa_tolerance=args.horizontal_pod_autoscaler_tolerance,
        hpa_cpu_initialization_period=args.horizontal_pod_autoscaler_cpu_initialization_period,
        hpa_initial_readiness_delay=args.horizontal_pod_autoscaler_initial_readiness_delay,
        load_balancer_ip_pool=args.load_balancer_ip_pool,
        load_balancer_class=args.load_balancer_class,
        apiserver=args.server,
    )
    return args


async def serve(args: argparse.Namespace) -> None:
    agent = user_agent("kube-controller-manager")

    def build(client: Client) -> Component:
        clients: ClientBuilder | None = None
        if args.use_service_account_credentials:
            clients = ServiceAccountClientBuilder(
                client, args.credentials, target=args.token_server, agent=agent
            )
        manager = ControllerManager(
            client,
            {n: CONTROLLERS[n] for n in args.controllers},
            args.options,
            clients=clients,
            service_accounts=SERVICE_ACCOUNTS,
        )
        # The controllers (and their informers) start only once this replica leads; losing the
        # lease raises LeadershipLost, which ends the process with status 1.
        elector = leader_elector(client, args.leader_election)
        return Component(run=lambda: while_leading(elector, manager.run))

    await serve_component(
        apiserver=args.server,
        credentials=args.credentials,
        health_address=args.health_address,
        metrics_address=args.metrics_bind_address,
        build=build,
        agent=agent,
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_service("controller-manager", serve, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
