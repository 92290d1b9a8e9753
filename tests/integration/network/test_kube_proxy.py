"""kube-proxy against the real apiserver over TLS (a real etcd), as the kube-proxy add-on runs it:
the service account kube-system/kube-proxy, bound to system:node-proxier by the add-on's own
ClusterRoleBinding (docker/addons/kube-proxy.yaml), with a token of that account read from a file
on the apiserver's token port. Run in process:

- with an in-memory iptables that records every restore (a unit-level fake): its rules follow
  Services and EndpointSlices as they are created, changed and deleted;
- with the real iptables-restore in a network namespace of its own, read back by iptables-save;
- with packets: a "pod" namespace reaches "backend" addresses through a "node" namespace whose
  iptables kube-proxy programs, by cluster IP and by node port, with random balancing, ClientIP
  affinity, and "connection refused" when a service has no ready endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest
from podplane.iptables.runner import ExecIptables, Iptables
from proxy.iptables import chains as ch
from proxy.iptables.proxier import Proxier
from proxy.iptables.rules import RulesConfig
from proxy.server import KubeProxy
from proxy.state.tracker import ProxyState
from tests.integration.netns import Netns, link, require_root_and_iproute, uplink
from tests.integration.network.kube_proxy_cluster import (
    CLUSTER_CIDR,
    Cluster,
    fetch,
    kube_proxy_cluster,
    put_slice,
    rules_config,
    service,
)
from tests.support import EtcdProcess, eventually, new_namespace
from tests.unit.proxy.fake_iptables import FakeIptables

NODE = "kp-node-1"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with kube_proxy_cluster(etcd, tmp_path_factory.mktemp("pki"), NODE) as c:
        yield c


def endpoint_slice(
    service_name: str, namespace: str, endpoints: list[tuple[str, bool]], port: int = 8080
) -> discovery_pb2.EndpointSlice:
    """What the EndpointSlice controller would write for pods at these addresses (ready or not),
    none of them on the proxy's node."""
    return manifest.from_dict(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{service_name}-abcde",
                "namespace": namespace,
                "labels": {"kubernetes.io/service-name": service_name},
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": [ip],
                    "conditions": {"ready": ready, "serving": ready, "terminating": False},
                    "nodeName": "kp-node-2",
                }
                for ip, ready in endpoints
            ],
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        },
        discovery_pb2.EndpointSlice,
    )


@pytest_asyncio.fixture
async def kube_proxy_runner(
    cluster: Cluster,
) -> AsyncIterator[Any]:
    """Starts kube-proxy (as the add-on's service account) on a given iptables; stopped
    afterwards."""
    tasks: list[asyncio.Task[None]] = []

    async def start(iptables: Iptables, config: RulesConfig) -> Proxier:
        proxier = Proxier(ProxyState(NODE), iptables, config, min_sync_period=0.0, sync_period=5.0)
        kube_proxy = KubeProxy(cluster.proxy, proxier)
        tasks.append(asyncio.create_task(kube_proxy.run()))
        async with asyncio.timeout(20):
            await kube_proxy.wait_synced()
        return proxier

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def chain_of(name: str, namespace: str) -> str:
    return ch.service_chains(f"{namespace}/{name}:http", "tcp")[0]


async def test_the_addon_account_reads_what_kube_proxy_reads_and_writes_nothing(
    cluster: Cluster,
) -> None:
    """system:node-proxier through kubeadm:node-proxier: services, endpoints and endpoint slices
    listed and watched, nodes read; no Service written."""
    await cluster.proxy.services.list("")
    await cluster.proxy.endpointslices.list("")
    await cluster.proxy.nodes.list()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cluster.proxy.services.create(service("sneaky", "default"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == (
        'services is forbidden: User "system:serviceaccount:kube-system:kube-proxy" cannot '
        'create resource "services" in API group "" in the namespace "default"'
    )


# ------------------------------------------------------------------ with a recording fake
async def test_rules_follow_services_and_slices(cluster: Cluster, kube_proxy_runner: Any) -> None:
    fake = FakeIptables()
    proxier: Proxier = await kube_proxy_runner(fake, RulesConfig(cluster_cidr=CLUSTER_CIDR))
    ns = await new_namespace(cluster.admin, "kp-")
    web = await cluster.admin.services.create(service("web", ns, selector={"app": "web"}))
    ip = web.spec.cluster_ip
    svc_chain = chain_of("web", ns)

    # No slice yet: the cluster IP is rejected.
    async def rejected() -> bool:
        return any(ip in r and "REJECT" in r for r in fake.tables["filter"]["KUBE-SERVICES"])

    await eventually(rejected, 20, what="a REJECT rule for a service without endpoints")

    await put_slice(
        cluster.admin, endpoint_slice("web", ns, [("10.244.2.3", True), ("10.244.3.4", True)])
    )

    async def balanced() -> list[str]:
        rules = fake.tables["nat"].get(svc_chain, [])
        return rules if len(rules) == 3 else []

    rules = await eventually(balanced, 20, what="two endpoints in the service's chain")
    assert "--probability 0.5000000000" in rules[1]
    assert f"-d {ip} --dport 80 -j {svc_chain}" in " ".join(fake.tables["nat"]["KUBE-SERVICES"])
    assert not await rejected()

    # One endpoint stops being ready: it leaves the rotation, in a partial sync.
    restores = len(fake.restores)
    await put_slice(
        cluster.admin, endpoint_slice("web", ns, [("10.244.2.3", True), ("10.244.3.4", False)])
    )

    async def one_left() -> bool:
        return len(fake.tables["nat"].get(svc_chain, [])) == 2

    await eventually(one_left, 20, what="the not-ready endpoint out of the chain")
    assert "-A KUBE-SVC" in "".join(fake.restores[restores:])

    # Another proxy's service is left alone.
    other = await cluster.admin.services.create(
        service("other", ns, labels={"service.kubernetes.io/service-proxy-name": "else"})
    )
    await cluster.admin.services.delete("web", ns)

    async def web_gone() -> bool:
        return svc_chain not in fake.tables["nat"] and not await rejected()

    await eventually(web_gone, 20, what="the deleted service's chains gone")
    assert other.spec.cluster_ip not in "".join(fake.restores)
    assert proxier.syncs >= 3


# ------------------------------------------------------------------ real iptables
@pytest.fixture
def netns() -> Iterator[list[Netns]]:
    require_root_and_iproute()
    created: list[Netns] = []
    yield created
    for ns in created:
        ns.delete()


async def test_iptables_save_reads_back_what_kube_proxy_restored(
    cluster: Cluster, kube_proxy_runner: Any, netns: list[Netns]
) -> None:
    node = Netns.create("node")
    netns.append(node)
    iptables = ExecIptables(node.prefix)
    await kube_proxy_runner(iptables, rules_config(iptables))
    ns = await new_namespace(cluster.admin, "kp-")
    web = await cluster.admin.services.create(
        service("web", ns, type="NodePort", sessionAffinity="ClientIP")
    )
    empty = await cluster.admin.services.create(service("empty", ns))
    await put_slice(
        cluster.admin, endpoint_slice("web", ns, [("10.244.2.3", True), ("10.244.3.4", True)])
    )
    svc_chain = chain_of("web", ns)
    port = web.spec.ports[0].node_port

    async def saved() -> str:
        out = node.run("iptables-save").stdout
        return out if f"-A {svc_chain} " in out and empty.spec.cluster_ip in out else ""

    out = await eventually(saved, 30, what="the service's rules in iptables-save")
    lines = out.splitlines()
    sep = ch.endpoint_chain(f"{ns}/web:http", "tcp", "10.244.2.3:8080")
    # iptables-save prints rules in its own normal form: check the parts, not the spelling.
    expect = [
        ("-A PREROUTING", "kubernetes service portals", "-j KUBE-SERVICES"),
        ("-A OUTPUT", "kubernetes service portals", "-j KUBE-SERVICES"),
        ("-A POSTROUTING", "kubernetes postrouting rules", "-j KUBE-POSTROUTING"),
        ("-A KUBE-SERVICES", f"-d {web.spec.cluster_ip}/32", "--dport 80", f"-j {svc_chain}"),
        ("-A KUBE-NODEPORTS", f"--dport {port}", "-j KUBE-EXT-"),
        (
            "-A KUBE-SERVICES",
            "-m addrtype --dst-type LOCAL",
            "! -d 127.0.0.0/8",
            "-j KUBE-NODEPORTS",
        ),
        (
            f"-A {svc_chain}",
            "-m recent --rcheck --seconds 10800 --reap",
            f"--name {sep}",
            f"-j {sep}",
        ),
        (f"-A {svc_chain}", "-m statistic --mode random --probability 0.5", f"-j {sep}"),
        (f"-A {sep}", "-s 10.244.2.3/32", "-j KUBE-MARK-MASQ"),
        (f"-A {sep}", "-m recent --set", "-j DNAT --to-destination 10.244.2.3:8080"),
        ("-A KUBE-MARK-MASQ", "-j MARK", "0x4000/0x4000"),
        ("-A KUBE-POSTROUTING", "-j MASQUERADE"),
        ("-A KUBE-SERVICES", f"-d {empty.spec.cluster_ip}/32", "has no endpoints", "-j REJECT"),
        ("-A FORWARD", "-j KUBE-FORWARD"),
        ("-A KUBE-FORWARD", "--ctstate INVALID -j DROP"),
    ]
    for parts in expect:
        assert any(all(p in line for p in parts) for line in lines), (parts, out)

    # Deleting the service deletes its chains (the next syncs are partial).
    await cluster.admin.services.delete("web", ns)

    async def chains_gone() -> bool:
        return svc_chain not in node.run("iptables-save", "-t", "nat").stdout

    await eventually(chains_gone, 20, what="the service's chains deleted")
    assert f":{sep} " not in node.run("iptables-save", "-t", "nat").stdout


# ------------------------------------------------------------------ packets
async def test_packets_reach_the_endpoints_through_the_node(
    cluster: Cluster, kube_proxy_runner: Any, netns: list[Netns], tmp_path: Path
) -> None:
    node, pod, backend = (Netns.create(role) for role in ("node", "pod", "backend"))
    netns.extend((node, pod, backend))
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    uplink(node)
    link(node, "10.244.9.1/24", pod, ["10.244.9.2/24"])
    link(node, "10.244.8.1/24", backend, ["10.244.8.2/24", "10.244.8.3/24"])
    for name, ip in (("a", "10.244.8.2"), ("b", "10.244.8.3")):
        root = tmp_path / name
        root.mkdir()
        (root / "index.html").write_text(f"backend-{name}\n")
        backend.start(
            "python3", "-m", "http.server", "8080", "--bind", ip, "--directory", str(root)
        )
    for ip in ("10.244.8.2", "10.244.8.3"):

        async def listening(ip: str = ip) -> str:
            return (await asyncio.to_thread(fetch, pod, f"http://{ip}:8080/index.html")).stdout

        await eventually(listening, 30, what=f"the backend at {ip} answering the pod directly")
    iptables = ExecIptables(node.prefix)
    await kube_proxy_runner(iptables, rules_config(iptables))

    ns = await new_namespace(cluster.admin, "kp-")
    web = await cluster.admin.services.create(service("web", ns, type="NodePort"))
    sticky = await cluster.admin.services.create(service("sticky", ns, sessionAffinity="ClientIP"))
    both = [("10.244.8.2", True), ("10.244.8.3", True)]
    await put_slice(cluster.admin, endpoint_slice("web", ns, both))
    await put_slice(cluster.admin, endpoint_slice("sticky", ns, both))
    url = f"http://{web.spec.cluster_ip}/index.html"

    async def served() -> str:
        done = await asyncio.to_thread(fetch, pod, url)
        return done.stdout

    await eventually(served, 30, what="the cluster IP answering from the pod namespace")
    answers = []
    for _ in range(30):
        done = await asyncio.to_thread(fetch, pod, url)
        answers.append(done.stdout or done.stderr)
    assert set(answers) == {"backend-a\n", "backend-b\n"}, answers

    # ClientIP affinity: one client, one backend.
    sticky_url = f"http://{sticky.spec.cluster_ip}/index.html"
    await eventually(
        lambda: asyncio.to_thread(lambda: fetch(pod, sticky_url).stdout), 30, what="sticky"
    )
    sticky_answers = {(await asyncio.to_thread(fetch, pod, sticky_url)).stdout for _ in range(15)}
    assert len(sticky_answers) == 1, sticky_answers

    # The node port, on the node's address.
    node_port = f"http://10.244.9.1:{web.spec.ports[0].node_port}/index.html"
    assert (await asyncio.to_thread(fetch, pod, node_port)).stdout.startswith("backend-")

    # No ready endpoint: refused at once, not a timeout.
    await put_slice(
        cluster.admin, endpoint_slice("web", ns, [("10.244.8.2", False), ("10.244.8.3", False)])
    )

    async def refused() -> str:
        done = await asyncio.to_thread(fetch, pod, url)
        return done.stderr if done.returncode != 0 else ""

    message = await eventually(refused, 30, what="connections to the emptied service refused")
    assert "refused" in message.lower(), message
