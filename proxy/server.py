"""kube-proxy assembled (cmd/kube-proxy/app/server.go): informers on Services and
EndpointSlices feed the proxier and the load balancer agent (health check node ports, and the
addresses this node announces, from an informer on Nodes too); /metrics and /healthz are served
beside it; SIGTERM stops it and leaves the rules and addresses in place, so that traffic keeps
flowing while it restarts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.client.clientset import Client, user_agent
from podplane.client.credentials import Credentials
from podplane.client.informer import Informer
from podplane.componentbase.metrics import parse_bind_address, serve_metrics
from podplane.componentbase.serving import run_until_signal
from podplane.iptables.runner import ExecIptables, Iptables
from proxy import node_setup
from proxy.healthcheck import HealthzServer, ProxierHealth
from proxy.iptables.proxier import Proxier
from proxy.iptables.rules import RulesConfig
from proxy.loadbalancer.agent import LoadBalancerAgent, LoadBalancerOptions
from proxy.loadbalancer.netlink import Netlink, gratuitous_arp
from proxy.loadbalancer.service_health import ServiceHealthServer
from proxy.state.tracker import ProxyState

log = logging.getLogger(__name__)

# Services of another proxy, and headless ones' slices, are not kube-proxy's.
LABEL_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"


class KubeProxy:
    """The informers and the proxier, running together."""

    def __init__(
        self,
        client: Client,
        proxier: Proxier,
        load_balancers: LoadBalancerOptions | None = None,
        *,
        netlink: Callable[[], Netlink] = Netlink,
        arp: Callable[[str, str], None] = gratuitous_arp,
    ) -> None:
        """Without `load_balancers`, no load balancer agent (tests of the rules alone);
        `netlink` and `arp` reach the node's addresses (another network namespace's, in
        tests)."""
        self.proxier = proxier
        self.services: Informer[service_pb2.Service] = Informer(
            client.services, label_selector=LABEL_SELECTOR, name="services"
        )
        self.slices: Informer[discovery_pb2.EndpointSlice] = Informer(
            client.endpointslices, label_selector=LABEL_SELECTOR, name="endpointslices"
        )
        self.services.add_handler(
            lambda svc: proxier.on_service(svc),
            lambda _, svc: proxier.on_service(svc),
            lambda svc: proxier.on_service(svc, deleted=True),
        )
        self.slices.add_handler(
            lambda es: proxier.on_slice(es),
            lambda _, es: proxier.on_slice(es),
            lambda es: proxier.on_slice(es, deleted=True),
        )
        self.load_balancers: LoadBalancerAgent | None = None
        if load_balancers is not None:
            self.load_balancers = self._load_balancer_agent(client, load_balancers, netlink, arp)

    def _load_balancer_agent(
        self,
        client: Client,
        options: LoadBalancerOptions,
        netlink: Callable[[], Netlink],
        arp: Callable[[str, str], None],
    ) -> LoadBalancerAgent:
        nodes: Informer[core_pb2.Node] | None = None
        if options.announce:
            nodes = Informer(client.nodes, name="nodes")
        health = self.proxier.health
        server = ServiceHealthServer(
            self.proxier.state.local_ready_endpoints,
            (lambda: health.status()[0]) if health is not None else (lambda: True),
            options.health_check_host,
        )
        agent = LoadBalancerAgent(
            self.proxier.state.hostname,
            options,
            self.services,
            self.slices,
            nodes,
            server,
            netlink=netlink,
            arp=arp,
        )
        self.services.add_handler(agent.changed, agent.changed, agent.changed)
        self.slices.add_handler(agent.changed, agent.changed, agent.changed)
        if nodes is not None:
            nodes.add_handler(agent.changed, agent.node_updated, agent.changed)
        return agent

    async def wait_synced(self) -> None:
        await asyncio.gather(self.services.wait_synced(), self.slices.wait_synced())

    async def run(self) -> None:
        """Until cancelled (or one of its parts fails)."""

        async def mark_synced() -> None:
            await self.services.wait_synced()
            self.proxier.services_synced()
            await self.slices.wait_synced()
            self.proxier.slices_synced()

        essential = [
            asyncio.create_task(self.services.run(), name="services-informer"),
            asyncio.create_task(self.slices.run(), name="endpointslices-informer"),
            asyncio.create_task(self.proxier.run(), name="proxier"),
        ]
        agent = self.load_balancers
        if agent is not None:
            if agent.nodes is not None:
                essential.append(asyncio.create_task(agent.nodes.run(), name="nodes-informer"))
            essential.append(asyncio.create_task(agent.run(), name="load-balancers"))
        tasks = [*essential, asyncio.create_task(mark_synced(), name="informers-synced")]
        try:
            done, _ = await asyncio.wait(essential, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if agent is not None:
                await agent.health.stop()


@dataclass
class ProxyOptions:
    server: str
    hostname: str
    credentials: Credentials | None = None
    cluster_cidr: str = ""
    metrics_bind_address: str = "127.0.0.1:10249"
    healthz_bind_address: str = "0.0.0.0:10256"
    sync_period: float = 30.0
    min_sync_period: float = 1.0
    masquerade_bit: int = 14
    masquerade_all: bool = False
    localhost_nodeports: bool = True
    announce_load_balancer_ips: bool = False
    load_balancer_class: str = ""


def rules_config(options: ProxyOptions, iptables: Iptables) -> RulesConfig:
    """The rules' settings from the flags and the node (sysctls, iptables' version)."""
    localhost = options.localhost_nodeports and node_setup.ensure_sysctl(
        node_setup.ROUTE_LOCALNET, 1
    )
    liberal = node_setup.read_sysctl(node_setup.TCP_BE_LIBERAL) not in (None, 0)
    node_setup.check_bridge_netfilter()
    return RulesConfig(
        cluster_cidr=options.cluster_cidr,
        masquerade_mark=f"{1 << options.masquerade_bit:#08x}",  # 0x004000, as Go's %#08x
        masquerade_all=options.masquerade_all,
        localhost_nodeports=localhost,
        conntrack_tcp_liberal=liberal,
        random_fully=iptables.random_fully,
        node_ip=node_setup.node_ip(options.server),
    )


async def serve(options: ProxyOptions) -> None:
    iptables = ExecIptables()
    config = await asyncio.to_thread(rules_config, options, iptables)
    if not options.cluster_cidr and not options.masquerade_all:
        log.warning("no --cluster-cidr: traffic to cluster IPs from outside is not masqueraded")
    health = ProxierHealth(timeout=2 * options.sync_period)
    healthz = None
    bind = parse_bind_address(options.healthz_bind_address)
    if bind is not None:
        healthz = HealthzServer(health, *bind)
        await healthz.start()
    metrics = serve_metrics(options.metrics_bind_address)
    client = Client(options.server, credentials=options.credentials, agent=user_agent("kube-proxy"))
    proxier = Proxier(
        ProxyState(options.hostname),
        iptables,
        config,
        health,
        min_sync_period=options.min_sync_period,
        sync_period=options.sync_period,
    )
    log.info(
        "kube-proxy on %s (iptables mode, cluster CIDR %s, masquerade mark %s)",
        options.hostname,
        options.cluster_cidr or "none",
        config.masquerade_mark,
    )
    load_balancers = LoadBalancerOptions(
        announce=options.announce_load_balancer_ips,
        node_ip=config.node_ip,
        load_balancer_class=options.load_balancer_class,
    )
    try:
        await run_until_signal(KubeProxy(client, proxier, load_balancers).run(), "kube-proxy")
        log.info("stopping; the rules stay in place")
    finally:
        await client.close()
        if healthz is not None:
            await healthz.stop()
        if metrics is not None:
            await metrics.aclose()
