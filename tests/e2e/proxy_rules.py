"""What a node's kube-proxy has programmed, read from the node's own nat table (`iptables-save` in
the node container, whose network namespace kube-proxy writes): the endpoints that traffic to a
cluster IP or node port is DNATed to, following the jumps from KUBE-SERVICES or KUBE-NODEPORTS
through the service chains to each KUBE-SEP chain.

A test that needs every backend to answer from a node waits for every backend to be in that
node's rules: one answer only says that one endpoint is programmed."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable

from tests.e2e.compose_cluster import NODES, compose
from tests.e2e.waiting import eventually

# A chain's rules, each the arguments after `-A <chain>`.
Chains = dict[str, list[list[str]]]


def nat_chains(node: str) -> Chains:
    out = compose("exec", "-T", node, "iptables-save", "-t", "nat", timeout=60).stdout
    chains: Chains = {}
    for line in out.splitlines():
        if line.startswith("-A "):
            words = shlex.split(line)
            chains.setdefault(words[1], []).append(words[2:])
    return chains


def _option(rule: list[str], name: str) -> str | None:
    return rule[rule.index(name) + 1] if name in rule[:-1] else None


def _destinations(chains: Chains, chain: str, seen: set[str]) -> set[str]:
    """The DNAT destinations reached from `chain`, through its jumps to other chains."""
    if chain in seen:
        return set()
    seen.add(chain)
    found: set[str] = set()
    for rule in chains.get(chain, []):
        target = _option(rule, "-j")
        if target == "DNAT":
            found.add(_option(rule, "--to-destination") or "")
        elif target in chains and target != "KUBE-MARK-MASQ":
            found |= _destinations(chains, target, seen)
    return found


def _entries(chains: Chains, chain: str, match: Iterable[tuple[str, str]]) -> list[str]:
    """The targets of the rules of `chain` that have every option of `match`."""
    return [
        target
        for rule in chains.get(chain, [])
        if all(_option(rule, k) == v for k, v in match)
        and (target := _option(rule, "-j")) is not None
    ]


def cluster_ip_endpoints(node: str, cluster_ip: str, port: int) -> set[str]:
    """The `ip:port` endpoints traffic from `node` to the cluster IP and port is sent to."""
    chains = nat_chains(node)
    entries = _entries(
        chains, "KUBE-SERVICES", [("-d", f"{cluster_ip}/32"), ("--dport", str(port))]
    )
    return {d for entry in entries for d in _destinations(chains, entry, set())}


def node_port_endpoints(node: str, node_port: int) -> set[str]:
    """The `ip:port` endpoints traffic to `node`'s node port is sent to."""
    chains = nat_chains(node)
    entries = _entries(chains, "KUBE-NODEPORTS", [("--dport", str(node_port))])
    return {d for entry in entries for d in _destinations(chains, entry, set())}


def _wait_for(read: Callable[[], set[str]], endpoints: set[str], timeout: float, what: str) -> None:
    last: set[str] = set()

    def programmed() -> bool:
        nonlocal last
        last = read()
        return last == endpoints

    try:
        eventually(programmed, timeout, f"{what} to lead to exactly {sorted(endpoints)}")
    except AssertionError as e:
        raise AssertionError(f"{e}; they lead to {sorted(last)}") from None


def wait_for_cluster_ip_endpoints(
    node: str, cluster_ip: str, port: int, endpoints: set[str], timeout: float = 60
) -> None:
    """Until `node`'s rules send the cluster IP's traffic to exactly `endpoints`."""
    _wait_for(
        lambda: cluster_ip_endpoints(node, cluster_ip, port),
        endpoints,
        timeout,
        f"{node}'s rules for {cluster_ip}:{port}",
    )


def wait_for_node_port_endpoints(
    node: str, node_port: int, endpoints: set[str], timeout: float = 60
) -> None:
    """Until `node`'s rules send its node port's traffic to exactly `endpoints`."""
    _wait_for(
        lambda: node_port_endpoints(node, node_port),
        endpoints,
        timeout,
        f"{node}'s rules for node port {node_port}",
    )


def wait_for_cluster_ip_on_every_node(
    cluster_ip: str, port: int, endpoints: set[str], timeout: float = 60
) -> None:
    """Until every node's rules send the cluster IP's traffic to exactly `endpoints`: only then
    does a pod reach the Service from whichever node it lands on. The Service's Endpoints are
    written before any kube-proxy reads them, and a pod on a node whose rules do not hold the
    cluster IP yet sends its packets past them, to the node's default route (on these hosts an
    HTTP proxy outside answered them with its 404)."""
    for node in NODES:
        wait_for_cluster_ip_endpoints(node, cluster_ip, port, endpoints, timeout)
