"""NetworkPolicies enforced by the real agent process (`python -m netpol`, as a node runs
it, with the node's certificate) with real iptables in a "node" network namespace, against
the real apiserver on a real etcd: pods are namespaces of their own routed through the node, the
Pod objects say where they are (this node or another), and busybox serves and probes. The cases
of Kubernetes' NetworkPolicy e2e suite (test/e2e/network/netpol/network_policy.go) that busybox
can run; each waits, with a deadline, until what a pod would notice is so."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from tests.integration.netns import Netns, require_root_and_iproute
from tests.integration.network.netpol_cluster import (
    NODE,
    REMOTE_NODE,
    Cluster,
    Node,
    ask_udp,
    create_pod,
    fetch,
    netpol_cluster,
    network_policy,
    running_agent,
    serve_http,
    serve_udp_echo,
)
from tests.support import EtcdProcess, eventually

_addresses = itertools.count(10)


@dataclass
class Env:
    cluster: Cluster
    node: Node
    tmp: Path


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    require_root_and_iproute()
    n = Node()
    try:
        yield n
    finally:
        n.delete()


@pytest_asyncio.fixture(scope="module")
async def env(
    etcd: EtcdProcess, node: Node, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    async with netpol_cluster(etcd, tmp_path_factory.mktemp("pki")) as cluster:
        with running_agent(cluster, node):
            yield Env(cluster, node, tmp_path_factory.mktemp("www"))


async def namespace(env: Env, labels: dict[str, str] | None = None) -> str:
    name = f"np-{next(_addresses)}-{id(env) % 1000}"
    await env.cluster.admin.namespaces.create(
        core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name, labels=labels or {}))
    )
    return name


async def pod(
    env: Env, ns: str, name: str, *, remote: bool = False, **kwargs: Any
) -> tuple[Netns, str]:
    """A pod on this node (10.244.1.x) or on another (10.244.2.x), its namespace attached to
    the node before its Pod object says where it is."""
    ip = f"10.244.{2 if remote else 1}.{next(_addresses)}"
    netns = env.node.attach(ip)
    await create_pod(env.cluster.admin, ns, name, ip, REMOTE_NODE if remote else NODE, **kwargs)
    return netns, ip


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    await eventually(check, timeout=30, interval=0.3, what=what)


def reach(client: Netns, ip: str, port: int, answer: str | None) -> Callable[[], Awaitable[bool]]:
    """A check that `client` gets `answer` from ip:port (None: no connection)."""

    async def check() -> bool:
        got = await asyncio.to_thread(fetch, client, ip, port)
        return got == (answer or "")

    return check


async def web_server(env: Env, ns: str, name: str = "web", **kwargs: Any) -> tuple[Netns, str]:
    netns, ip = await pod(env, ns, name, labels={"app": name}, **kwargs)
    serve_http(netns, env.tmp / f"{ns}-{name}", name, 80)
    return netns, ip


async def test_default_deny_ingress_added_and_removed(env: Env) -> None:
    ns = await namespace(env)
    _, web = await web_server(env, ns)
    client, _ = await pod(env, ns, "client")
    await until(reach(client, web, 80, "web"), "web reached before any policy")
    policies = env.cluster.admin.networkpolicies
    await policies.create(
        network_policy("deny-ingress", ns, {"podSelector": {}, "policyTypes": ["Ingress"]})
    )
    await until(reach(client, web, 80, None), "web unreachable under default deny")
    # The node itself (the kubelet's probes) still reaches its pods.
    assert await asyncio.to_thread(fetch, env.node.ns, web, 80) == "web"
    await policies.delete("deny-ingress", ns)
    await until(reach(client, web, 80, "web"), "web reached once the policy is deleted")


async def test_allow_from_pods_namespaces_and_both_as_the_policy_is_updated(env: Env) -> None:
    ns = await namespace(env)
    other = await namespace(env, {"team": "other"})
    _, web = await web_server(env, ns)
    same_a, _ = await pod(env, ns, "a", labels={"role": "client"})
    same_b, _ = await pod(env, ns, "b")
    other_a, _ = await pod(env, other, "a", remote=True, labels={"role": "client"})
    other_b, _ = await pod(env, other, "b", remote=True)
    clients = {"same-a": same_a, "same-b": same_b, "other-a": other_a, "other-b": other_b}

    async def allowed_are(names: set[str]) -> None:
        for name, client in clients.items():
            expected = "web" if name in names else None
            await until(reach(client, web, 80, expected), f"{name} -> web: {expected}")

    role = {"matchLabels": {"role": "client"}}
    team = {"matchLabels": {"team": "other"}}
    policies = env.cluster.admin.networkpolicies
    spec: dict[str, Any] = {"podSelector": {"matchLabels": {"app": "web"}}}
    created = await policies.create(
        network_policy("allow", ns, {**spec, "ingress": [{"from": [{"podSelector": role}]}]})
    )
    await allowed_are({"same-a"})
    for peer, allowed in (
        ({"namespaceSelector": team}, {"other-a", "other-b"}),
        ({"namespaceSelector": team, "podSelector": role}, {"other-a"}),
    ):
        updated = network_policy("allow", ns, {**spec, "ingress": [{"from": [peer]}]})
        updated.metadata.resource_version = created.metadata.resource_version
        created = await policies.update(updated)
        await allowed_are(allowed)


async def test_ip_block_with_except(env: Env) -> None:
    ns = await namespace(env)
    _, web = await web_server(env, ns)
    local, _ = await pod(env, ns, "local")
    remote, _ = await pod(env, ns, "remote", remote=True)
    await env.cluster.admin.networkpolicies.create(
        network_policy(
            "cidr",
            ns,
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.2.0/24"]}}]}
                ],
            },
        )
    )
    await until(reach(remote, web, 80, None), "an excepted address is refused")
    await until(reach(local, web, 80, "web"), "the block's other addresses are allowed")


async def test_ports_with_end_port_and_named_ports(env: Env) -> None:
    ns = await namespace(env)
    ports = [{"name": "http-alt", "containerPort": 8080}]
    server, web = await pod(env, ns, "web", labels={"app": "web"}, ports=ports)
    serve_http(server, env.tmp / f"{ns}-ports", "web", 80, 81, 82, 8080)
    client, _ = await pod(env, ns, "client")
    await env.cluster.admin.networkpolicies.create(
        network_policy(
            "ports",
            ns,
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "ingress": [{"ports": [{"port": 80, "endPort": 81}, {"port": "http-alt"}]}],
            },
        )
    )
    await until(reach(client, web, 82, None), "a port outside the policy is refused")
    for port in (80, 81, 8080):
        await until(reach(client, web, port, "web"), f"port {port} allowed")


async def test_egress_to_dns_only_replies_and_service_traffic_judged_after_dnat(env: Env) -> None:
    ns = await namespace(env)
    _, web = await web_server(env, ns, remote=True)
    dns, dns_ip = await pod(
        env, "kube-system", f"dns-{ns}", remote=True, labels={"k8s-app": "kube-dns"}
    )
    serve_udp_echo(dns, 53)
    serve_http(dns, env.tmp / f"{ns}-dns", "dns", 53)
    client, _ = await pod(env, ns, "client")
    # A Service address DNATed to the DNS pod, as kube-proxy would program it.
    vip = f"10.96.{next(_addresses)}.10"
    env.node.ns.run(
        "iptables", "-t", "nat", "-A", "PREROUTING", "-d", vip, "-p", "udp", "--dport", "53",
        "-j", "DNAT", "--to-destination", f"{dns_ip}:53",
    )  # fmt: skip
    await until(reach(client, web, 80, "web"), "web reached before the egress policy")
    kube_dns = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    await env.cluster.admin.networkpolicies.create(
        network_policy(
            "dns-only",
            ns,
            {
                "podSelector": {},
                # Isolated for ingress too: the answers come back as replies (conntrack).
                "policyTypes": ["Ingress", "Egress"],
                "egress": [
                    {
                        "to": [kube_dns],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        )
    )
    await until(reach(client, web, 80, None), "egress to web denied")

    async def dns_answers(ip: str) -> bool:
        return await asyncio.to_thread(ask_udp, client, ip, 53) == "hello"

    await until(lambda: dns_answers(dns_ip), "UDP 53 to the DNS pod allowed")
    await until(lambda: dns_answers(vip), "UDP 53 to its Service address allowed after DNAT")
    await until(reach(client, dns_ip, 53, "dns"), "TCP 53 to the DNS pod allowed")


async def test_a_new_pod_is_isolated_from_its_first_packet(env: Env) -> None:
    """While any policy exists, a local address the agent has not programmed is dropped: a pod
    whose network is up before its Pod reports the address gets nothing through until then."""
    ns = await namespace(env)
    _, web = await web_server(env, ns, remote=True)
    await env.cluster.admin.networkpolicies.create(
        network_policy("deny", ns, {"podSelector": {"matchLabels": {"app": "nobody"}}})
    )

    # The guard comes with the agent's sync after it sees a policy, not with the create: until
    # then an unprogrammed address would pass (without this module's earlier policies, at once).
    async def guarded() -> bool:
        saved = await asyncio.to_thread(env.node.ns.run, "iptables-save", "-t", "mangle")
        return "pod not programmed yet" in saved.stdout

    await until(guarded, "the agent's guard for unprogrammed addresses in the node's rules")
    ip = f"10.244.1.{next(_addresses)}"
    early = env.node.attach(ip)
    assert await asyncio.to_thread(fetch, early, web, 80) == ""
    await create_pod(env.cluster.admin, ns, "late", ip)
    await until(reach(early, web, 80, "web"), "the pod's traffic passes once programmed")
