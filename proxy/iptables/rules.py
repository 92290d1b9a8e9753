"""The node's service rules as a pure function of the proxier's maps: what kube-proxy's
syncProxyRules writes to iptables-restore (pkg/proxy/iptables/proxier.go), line for line.

nat: KUBE-SERVICES matches each cluster IP, external IP and load balancer IP and port and jumps
to the port's chain; its last rule sends traffic to the node's own addresses to KUBE-NODEPORTS.
KUBE-SVC-<hash> (Cluster policy) and KUBE-SVL-<hash> (Local policy) pick an endpoint at random
(`-m statistic --mode random --probability 1/n` for all but the last), or the one a client used
last with sessionAffinity ClientIP (`-m recent`); KUBE-SEP-<hash> DNATs to the endpoint.
KUBE-EXT-<hash> is the entry of node port, external and load balancer traffic. Traffic that must
leave with the node's address is marked by KUBE-MARK-MASQ and masqueraded by KUBE-POSTROUTING.
filter: a port without endpoints is REJECTed (KUBE-SERVICES, KUBE-EXTERNAL-SERVICES), so that
clients see "connection refused" at once rather than a timeout.

A partial sync (`changed` given) leaves out the chains of services that did not change: with
`iptables-restore --noflush`, chains not named in the input keep their rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field

from proxy.iptables import chains as ch
from proxy.state.endpoints import EndpointInfo
from proxy.state.service_port import ServiceName, ServicePortInfo, ServicePortName
from proxy.state.topology import Categorized, categorize_endpoints

# Past this many endpoints, per-endpoint comments are left out: they make the input 40 % larger.
LARGE_CLUSTER_ENDPOINTS = 1000


@dataclass(frozen=True)
class RulesConfig:
    """The node's settings the rules depend on."""

    # --cluster-cidr: traffic from it is pod traffic (the local traffic detector); "" for none.
    cluster_cidr: str = ""
    # 1 << --iptables-masquerade-bit (14).
    masquerade_mark: str = "0x4000"
    masquerade_all: bool = False
    # --iptables-localhost-nodeports: node ports answer on 127.0.0.1 too (route_localnet).
    localhost_nodeports: bool = True
    # nf_conntrack_tcp_be_liberal is set: INVALID packets need not be dropped.
    conntrack_tcp_liberal: bool = False
    # iptables knows MASQUERADE --random-fully.
    random_fully: bool = False
    # The node's IP (a load balancer source range that contains it lets the node in).
    node_ip: str = ""


@dataclass
class RuleSet:
    filter_chains: list[str] = field(default_factory=list)
    filter_rules: list[str] = field(default_factory=list)
    nat_chains: list[str] = field(default_factory=list)
    nat_rules: list[str] = field(default_factory=list)
    # Every service chain in use, written this time or not: the next sync deletes the others.
    active_nat_chains: set[str] = field(default_factory=set)
    deleted_chains: int = 0
    skipped_nat_rules: int = 0
    no_local_endpoints_internal: int = 0
    no_local_endpoints_external: int = 0

    def restore_input(self) -> str:
        """The input of one `iptables-restore --noflush`: both tables, each in one transaction."""
        lines = ["*filter", *self.filter_chains, *self.filter_rules, "COMMIT"]
        lines += ["*nat", *self.nat_chains, *self.nat_rules, "COMMIT"]
        return "\n".join(lines) + "\n"


def chain_line(chain: str) -> str:
    """Declares (and, with --noflush, flushes) a chain."""
    return f":{chain} - [0:0]"


def probability(n: int) -> str:
    return f"{1.0 / n:0.10f}"


@dataclass
class _Writer:
    """The shared state of one generation."""

    config: RulesConfig
    out: RuleSet
    large_cluster: bool
    # Where a service's chains go: out's lists, or throw-away ones in a partial sync.
    nat_chains: list[str] = field(default_factory=list)
    nat_rules: list[str] = field(default_factory=list)

    def comment(self, text: str) -> list[str]:
        return [] if self.large_cluster else ["-m", "comment", "--comment", text]


def build_rules(
    services: Mapping[ServicePortName, ServicePortInfo],
    endpoints: Mapping[ServicePortName, Sequence[EndpointInfo]],
    config: RulesConfig,
    *,
    changed: Set[ServiceName] | None = None,
    existing_nat_chains: Set[str] = frozenset(),
) -> RuleSet:
    """The rules for every service port. `changed` None is a full sync; otherwise only the
    chains of those services are written. Service chains in `existing_nat_chains` that are no
    longer used are deleted."""
    out = RuleSet()
    total = sum(len(endpoints.get(name, ())) for name in services)
    w = _Writer(config, out, large_cluster=total > LARGE_CLUSTER_ENDPOINTS)
    mark = config.masquerade_mark

    out.filter_chains += map(
        chain_line,
        (
            ch.KUBE_SERVICES,
            ch.KUBE_EXTERNAL_SERVICES,
            ch.KUBE_FORWARD,
            ch.KUBE_NODEPORTS,
            ch.KUBE_PROXY_FIREWALL,
        ),
    )
    out.nat_chains += map(
        chain_line, (ch.KUBE_SERVICES, ch.KUBE_NODEPORTS, ch.KUBE_POSTROUTING, ch.KUBE_MARK_MASQ)
    )
    masquerade = "-j MASQUERADE --random-fully" if config.random_fully else "-j MASQUERADE"
    out.nat_rules += [
        f"-A {ch.KUBE_POSTROUTING} -m mark ! --mark {mark}/{mark} -j RETURN",
        # Clear the mark: a packet that goes through the stack again is not masqueraded twice.
        f"-A {ch.KUBE_POSTROUTING} -j MARK --xor-mark {mark}",
        f'-A {ch.KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring '
        f'SNAT" {masquerade}',
        f"-A {ch.KUBE_MARK_MASQ} -j MARK --or-mark {mark}",
    ]
    if config.localhost_nodeports:
        # route_localnet lets 127.0.0.1 reach node ports; this keeps others from using it.
        out.filter_chains.append(chain_line(ch.KUBE_FIREWALL))
        out.filter_rules.append(
            f'-A {ch.KUBE_FIREWALL} -m comment --comment "block incoming localnet connections" '
            "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT "
            "-j DROP"
        )

    discarded_chains: list[str] = []
    discarded_rules: list[str] = []
    for name in sorted(services):
        service_changed = changed is None or name.service in changed
        w.nat_chains = out.nat_chains if service_changed else discarded_chains
        w.nat_rules = out.nat_rules if service_changed else discarded_rules
        _write_service_port(w, name, services[name], endpoints.get(name, ()))
    out.skipped_nat_rules = len(discarded_rules)

    for chain in sorted(existing_nat_chains - out.active_nat_chains):
        if ch.is_service_chain(chain):
            out.nat_chains.append(chain_line(chain))
            out.nat_rules.append(f"-X {chain}")
            out.deleted_chains += 1

    # Last in KUBE-SERVICES: traffic to one of the node's own addresses may be for a node port.
    local = "-m addrtype --dst-type LOCAL"
    if not config.localhost_nodeports:
        local += " ! -d 127.0.0.0/8"
    out.nat_rules.append(
        f'-A {ch.KUBE_SERVICES} -m comment --comment "kubernetes service nodeports; NOTE: this '
        f'must be the last rule in this chain" {local} -j {ch.KUBE_NODEPORTS}'
    )
    if not config.conntrack_tcp_liberal:
        # An out-of-window packet would otherwise reach the endpoint un-NATed and reset the
        # connection (kubernetes#74839).
        out.filter_rules.append(f"-A {ch.KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP")
    out.filter_rules += [
        f'-A {ch.KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" '
        f"-m mark --mark {mark}/{mark} -j ACCEPT",
        f'-A {ch.KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" '
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    return out


@dataclass(frozen=True)
class _PortPlan:
    """What one service port's rules are decided from: its chains, and which of them it uses."""

    svc: ServicePortInfo
    port_name: str
    protocol: str
    # The match of the port's protocol: "-m tcp -p tcp".
    proto: str
    eps: Categorized
    cluster_chain: str
    local_chain: str
    external_chain: str
    fw_chain: str
    # The chain of traffic to the cluster IP, and whether it has an endpoint to go to.
    internal_chain: str
    has_internal: bool
    # The chain of external traffic (node port, external and load balancer IPs), and whether it
    # has an endpoint to go to.
    external_policy_chain: str
    has_external: bool
    uses_cluster_chain: bool
    uses_local_chain: bool
    uses_external_chain: bool
    uses_fw_chain: bool
    # Where KUBE-SERVICES sends load balancer traffic.
    lb_chain: str
    # What the filter table does with traffic no endpoint takes, and the comment it says so with.
    no_endpoint_target: str
    no_endpoint_comment: str
    # The match of the cluster IP and port.
    cluster_ip: str

    def dest(self, ip: str, port: int) -> str:
        return f"{self.proto} -d {ip} --dport {port}"


def _plan_port(
    name: ServicePortName, svc: ServicePortInfo, endpoints: Sequence[EndpointInfo]
) -> _PortPlan:
    port_name = str(name)
    protocol = svc.protocol.lower()
    proto = f"-m {protocol} -p {protocol}"
    cluster_chain, local_chain, external_chain, fw_chain = ch.service_chains(port_name, protocol)
    eps = categorize_endpoints(endpoints, svc)
    uses_fw_chain = (
        eps.has_any and bool(svc.load_balancer_vips) and bool(svc.load_balancer_source_ranges)
    )
    if not eps.has_any:
        target, comment = "REJECT", f'"{port_name} has no endpoints"'
    else:
        target, comment = "DROP", f'"{port_name} has no local endpoints"'
    return _PortPlan(
        svc=svc,
        port_name=port_name,
        protocol=protocol,
        proto=proto,
        eps=eps,
        cluster_chain=cluster_chain,
        local_chain=local_chain,
        external_chain=external_chain,
        fw_chain=fw_chain,
        internal_chain=local_chain if svc.internal_policy_local else cluster_chain,
        has_internal=eps.has_any and not (svc.internal_policy_local and not eps.local),
        external_policy_chain=local_chain if svc.external_policy_local else cluster_chain,
        has_external=eps.has_any and not (svc.external_policy_local and not eps.local),
        uses_cluster_chain=bool(eps.cluster) and svc.uses_cluster_endpoints,
        uses_local_chain=bool(eps.local) and svc.uses_local_endpoints,
        # The EXT chain is there whenever the port has endpoints: its short-circuit rules for
        # the node's and pods' own traffic apply even when no endpoint takes external traffic.
        uses_external_chain=eps.has_any and svc.externally_accessible,
        uses_fw_chain=uses_fw_chain,
        lb_chain=fw_chain if uses_fw_chain else external_chain,
        no_endpoint_target=target,
        no_endpoint_comment=comment,
        cluster_ip=f"{proto} -d {svc.cluster_ip} --dport {svc.port}",
    )


def _write_service_port(
    w: _Writer, name: ServicePortName, svc: ServicePortInfo, endpoints: Sequence[EndpointInfo]
) -> None:
    p = _plan_port(name, svc, endpoints)
    if p.eps.has_any:
        w.out.no_local_endpoints_internal += not p.has_internal
        w.out.no_local_endpoints_external += not p.has_external
    _write_cluster_ip_entry(w.out, p)
    _write_external_ip_entries(w.out, p)
    _write_load_balancer_entries(w.out, p)
    _write_node_port_entries(w.out, p)
    # From here on, the service's own chains: left out of a partial sync when unchanged.
    if p.has_internal:
        _write_internal_masquerade(w, p)
    if p.uses_external_chain:
        _write_external_chain(w, p)
    if p.uses_fw_chain:
        _write_firewall_chain(w, p)
    if p.uses_cluster_chain:
        _declare_chain(w, p.cluster_chain)
        _write_balancing(w, w.nat_rules, p.port_name, svc, p.cluster_chain, p.eps.cluster)
    if p.uses_local_chain:
        _declare_chain(w, p.local_chain)
        _write_balancing(w, w.nat_rules, p.port_name, svc, p.local_chain, p.eps.local)
    _write_endpoint_chains(w, p)


def _declare_chain(w: _Writer, name: str) -> None:
    w.nat_chains.append(chain_line(name))
    w.out.active_nat_chains.add(name)


def _write_cluster_ip_entry(out: RuleSet, p: _PortPlan) -> None:
    """KUBE-SERVICES' rule for the cluster IP: to the internal chain, or rejected."""
    if p.has_internal:
        out.nat_rules.append(
            f'-A {ch.KUBE_SERVICES} -m comment --comment "{p.port_name} cluster IP" '
            f"{p.cluster_ip} -j {p.internal_chain}"
        )
    else:
        out.filter_rules.append(
            f"-A {ch.KUBE_SERVICES} -m comment --comment {p.no_endpoint_comment} "
            f"{p.cluster_ip} -j {p.no_endpoint_target}"
        )


def _write_external_ip_entries(out: RuleSet, p: _PortPlan) -> None:
    svc = p.svc
    for ip in svc.external_ips:
        if p.eps.has_any:
            out.nat_rules.append(
                f'-A {ch.KUBE_SERVICES} -m comment --comment "{p.port_name} external IP" '
                f"{p.dest(ip, svc.port)} -j {p.external_chain}"
            )
        if not p.has_external:
            out.filter_rules.append(
                f"-A {ch.KUBE_EXTERNAL_SERVICES} -m comment --comment {p.no_endpoint_comment} "
                f"{p.dest(ip, svc.port)} -j {p.no_endpoint_target}"
            )


def _write_load_balancer_entries(out: RuleSet, p: _PortPlan) -> None:
    svc = p.svc
    for ip in svc.load_balancer_vips:
        if p.eps.has_any:
            out.nat_rules.append(
                f'-A {ch.KUBE_SERVICES} -m comment --comment "{p.port_name} loadbalancer IP" '
                f"{p.dest(ip, svc.port)} -j {p.lb_chain}"
            )
        if p.uses_fw_chain:
            out.filter_rules.append(
                f'-A {ch.KUBE_PROXY_FIREWALL} -m comment --comment "{p.port_name} traffic not '
                f'accepted by {p.fw_chain}" {p.dest(ip, svc.port)} -j DROP'
            )
    if not p.has_external:
        for ip in svc.load_balancer_vips:
            out.filter_rules.append(
                f"-A {ch.KUBE_EXTERNAL_SERVICES} -m comment --comment {p.no_endpoint_comment} "
                f"{p.dest(ip, svc.port)} -j {p.no_endpoint_target}"
            )


def _write_node_port_entries(out: RuleSet, p: _PortPlan) -> None:
    """The node port, and the health check node port."""
    svc = p.svc
    if svc.node_port:
        if p.eps.has_any:
            out.nat_rules.append(
                f"-A {ch.KUBE_NODEPORTS} -m comment --comment {p.port_name} {p.proto} "
                f"--dport {svc.node_port} -j {p.external_chain}"
            )
        if not p.has_external:
            out.filter_rules.append(
                f"-A {ch.KUBE_EXTERNAL_SERVICES} -m comment --comment {p.no_endpoint_comment} "
                f"-m addrtype --dst-type LOCAL {p.proto} --dport {svc.node_port} "
                f"-j {p.no_endpoint_target}"
            )
    if svc.health_check_node_port:
        out.filter_rules.append(
            f'-A {ch.KUBE_NODEPORTS} -m comment --comment "{p.port_name} health check node '
            f'port" -m tcp -p tcp --dport {svc.health_check_node_port} -j ACCEPT'
        )


def _write_internal_masquerade(w: _Writer, p: _PortPlan) -> None:
    """Off-cluster traffic sent to the cluster IP (a route to the service range via some node)
    may leave for another node: masquerade it."""
    config = w.config
    match = f'-m comment --comment "{p.port_name} cluster IP" {p.cluster_ip}'
    if config.masquerade_all:
        w.nat_rules.append(f"-A {p.internal_chain} {match} -j {ch.KUBE_MARK_MASQ}")
    elif config.cluster_cidr:
        w.nat_rules.append(
            f"-A {p.internal_chain} {match} ! -s {config.cluster_cidr} -j {ch.KUBE_MARK_MASQ}"
        )


def _write_external_chain(w: _Writer, p: _PortPlan) -> None:
    """KUBE-EXT-<hash>: the entry of node port, external and load balancer traffic."""
    nat_rules, config = w.nat_rules, w.config
    port_name, external_chain = p.port_name, p.external_chain
    _declare_chain(w, external_chain)
    if not p.svc.external_policy_local:
        # Endpoints may be on other nodes: masquerade, or the replies bypass this node.
        nat_rules.append(
            f'-A {external_chain} -m comment --comment "masquerade traffic for {port_name} '
            f'external destinations" -j {ch.KUBE_MARK_MASQ}'
        )
    else:
        if config.cluster_cidr:
            # Pods reaching an external address of the service are treated as if they had
            # gone out to a load balancer and back: either policy's endpoints will do.
            nat_rules.append(
                f'-A {external_chain} -m comment --comment "pod traffic for {port_name} '
                f'external destinations" -s {config.cluster_cidr} -j {p.cluster_chain}'
            )
        # The node's own traffic has a local source address: masquerade and route it to any
        # endpoint.
        nat_rules.append(
            f'-A {external_chain} -m comment --comment "masquerade LOCAL traffic for '
            f'{port_name} external destinations" -m addrtype --src-type LOCAL '
            f"-j {ch.KUBE_MARK_MASQ}"
        )
        nat_rules.append(
            f'-A {external_chain} -m comment --comment "route LOCAL traffic for {port_name} '
            f'external destinations" -m addrtype --src-type LOCAL -j {p.cluster_chain}'
        )
    if p.has_external:
        nat_rules.append(f"-A {external_chain} -j {p.external_policy_chain}")


def _write_firewall_chain(w: _Writer, p: _PortPlan) -> None:
    """KUBE-FW-<hash>: load balancer traffic from the allowed source ranges."""
    nat_rules, fw_chain = w.nat_rules, p.fw_chain
    _declare_chain(w, fw_chain)
    allow = f'-A {fw_chain} -m comment --comment "{p.port_name} loadbalancer IP"'
    from_node = False
    for cidr in p.svc.load_balancer_source_ranges:
        nat_rules.append(f"{allow} -s {cidr} -j {p.external_chain}")
        from_node = from_node or _contains(cidr, w.config.node_ip)
    if from_node:
        # The node reaching its own VIP loops back with the VIP as source.
        nat_rules += [f"{allow} -s {ip} -j {p.external_chain}" for ip in p.svc.load_balancer_vips]
    nat_rules.append(
        f'-A {fw_chain} -m comment --comment "other traffic to {p.port_name} will be dropped '
        f'by {ch.KUBE_PROXY_FIREWALL}"'
    )


def _write_endpoint_chains(w: _Writer, p: _PortPlan) -> None:
    """KUBE-SEP-<hash> of each reachable endpoint: DNAT to it."""
    nat_rules = w.nat_rules
    for ep in p.eps.reachable:
        sep = ch.endpoint_chain(p.port_name, p.protocol, str(ep))
        _declare_chain(w, sep)
        head = " ".join(["-A", sep, *w.comment(p.port_name)])
        # A pod that reaches itself through the service: masquerade, or its reply would go
        # straight back to itself, un-NATed.
        nat_rules.append(f"{head} -s {ep.ip} -j {ch.KUBE_MARK_MASQ}")
        affinity = f" -m recent --name {sep} --set" if p.svc.session_affinity_client_ip else ""
        nat_rules.append(f"{head}{affinity} {p.proto} -j DNAT --to-destination {ep}")


def _write_balancing(
    w: _Writer,
    nat_rules: list[str],
    port_name: str,
    svc: ServicePortInfo,
    svc_chain: str,
    endpoints: Sequence[EndpointInfo],
) -> None:
    """The rules that pick an endpoint: the one a client had (ClientIP affinity), else one at
    random, each with equal chance (the i-th of n with probability 1/(n-i))."""
    protocol = svc.protocol.lower()
    seps = [(ep, ch.endpoint_chain(port_name, protocol, str(ep))) for ep in endpoints]
    if svc.session_affinity_client_ip:
        for ep, sep in seps:
            head = " ".join(["-A", svc_chain, *w.comment(f'"{port_name} -> {ep}"')])
            nat_rules.append(
                f"{head} -m recent --name {sep} --rcheck --seconds "
                f"{svc.sticky_max_age_seconds} --reap -j {sep}"
            )
    n = len(seps)
    for i, (ep, sep) in enumerate(seps):
        head = " ".join(["-A", svc_chain, *w.comment(f'"{port_name} -> {ep}"')])
        if i < n - 1:
            head += f" -m statistic --mode random --probability {probability(n - i)}"
        nat_rules.append(f"{head} -j {sep}")


def _contains(cidr: str, ip: str) -> bool:
    if not ip:
        return False
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
