"""kube-proxy's load balancer side against the real apiserver, as the add-on's service account,
with real rtnetlink and iptables in network namespaces: a "node" whose kube-proxy is chosen for
a LoadBalancer Service's address adds it to its interface (a /32 labelled <if>:lb), so that a
"host" on the same layer 2 link (as the host on the compose network's bridge) reaches the
backend at that address through the node's rules; the health check node port of a Local
Service answers 200 with the node's endpoint count, and 503 once the endpoint is not ready, when
the node also withdraws the address; the address goes when the Service does;
loadBalancerSourceRanges let the host in, then, changed, keep it out (dropped)."""

from __future__ import annotations

import asyncio
import ctypes
import json
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest
from podplane.iptables.runner import ExecIptables
from proxy.iptables.proxier import Proxier
from proxy.loadbalancer.agent import LoadBalancerOptions
from proxy.loadbalancer.netlink import Netlink, gratuitous_arp
from proxy.server import KubeProxy
from proxy.state.tracker import ProxyState
from tests.integration.netns import Netns, link, require_root_and_iproute
from tests.integration.network.kube_proxy_cluster import (
    Cluster,
    fetch,
    kube_proxy_cluster,
    put_slice,
    rules_config,
    service,
)
from tests.support import EtcdProcess, eventually, new_namespace

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
NODE_IP = "10.77.0.2"
LB_IP = "10.77.0.200"


def in_netns(name: str, call: Callable[[], T]) -> T:
    """`call()` made from a thread that entered the namespace: a socket it opens belongs to the
    namespace for good, whichever thread uses it afterwards."""
    out: list[T] = []
    errors: list[BaseException] = []

    def enter_and_call() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            with open(f"/run/netns/{name}") as f:
                if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            out.append(call())
        except BaseException as e:  # noqa: BLE001 - raised in the caller's thread
            errors.append(e)

    thread = threading.Thread(target=enter_and_call)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


async def ready_node(cluster: Cluster, name: str) -> None:
    node = await cluster.admin.nodes.create(
        manifest.from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})  # type: ignore[arg-type]
    )
    node.status.conditions.add(type="Ready", status="True")
    await cluster.admin.nodes.update_status(node)


def slice_on(name: str, ns: str, node: str, ready: bool) -> discovery_pb2.EndpointSlice:
    return manifest.from_dict(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name}-abcde",
                "namespace": ns,
                "labels": {"kubernetes.io/service-name": name},
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": ["10.244.8.2"],
                    "conditions": {"ready": ready, "serving": ready, "terminating": False},
                    "nodeName": node,
                }
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
        discovery_pb2.EndpointSlice,
    )


def lb_addresses(node: Netns) -> list[str]:
    out = node.run("ip", "-j", "-4", "addr", "show").stdout
    return [
        a["local"]
        for link_ in json.loads(out)
        for a in link_.get("addr_info", [])
        if a.get("label", "").endswith(":lb")
    ]


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with kube_proxy_cluster(etcd, tmp_path_factory.mktemp("pki"), "kp-lb-node") as c:
        yield c


@pytest.fixture
def netns() -> Iterator[list[Netns]]:
    require_root_and_iproute()
    created: list[Netns] = []
    yield created
    for ns in created:
        ns.delete()


@pytest_asyncio.fixture
async def node_with_kube_proxy(
    cluster: Cluster, netns: list[Netns], tmp_path: Path
) -> AsyncIterator[tuple[str, Netns, Netns]]:
    """A node (its kube-proxy announcing), the host on its link, a backend at 10.244.8.2:8080."""
    name = f"kp-lb-{uuid.uuid4().hex[:6]}"
    node, host, backend = (Netns.create(role) for role in ("node", "host", "backend"))
    netns.extend((node, host, backend))
    node.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    link(node, f"{NODE_IP}/24", host, ["10.77.0.1/24"])
    link(node, "10.244.8.1/24", backend, ["10.244.8.2/24"])
    (tmp_path / "index.html").write_text("backend\n")
    backend.start(
        "python3", "-m", "http.server", "8080", "--bind", "10.244.8.2", "--directory", str(tmp_path)
    )
    await ready_node(cluster, name)
    iptables = ExecIptables(node.prefix)
    proxier = Proxier(
        ProxyState(name), iptables, rules_config(iptables), min_sync_period=0.0, sync_period=5.0
    )
    kube_proxy = KubeProxy(
        cluster.proxy,
        proxier,
        LoadBalancerOptions(announce=True, node_ip=NODE_IP, health_check_host="127.0.0.1"),
        netlink=lambda: in_netns(node.name, Netlink),
        arp=lambda interface, ip: in_netns(node.name, lambda: gratuitous_arp(interface, ip)),
    )
    task = asyncio.create_task(kube_proxy.run())
    try:
        yield name, node, host
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await cluster.admin.nodes.delete(name)


async def test_the_chosen_node_announces_the_address_and_carries_its_traffic(
    cluster: Cluster, node_with_kube_proxy: tuple[str, Netns, Netns]
) -> None:
    name, node, host = node_with_kube_proxy
    ns = await new_namespace(cluster.admin, "kp-lb-")
    web = await cluster.admin.services.create(
        service("web", ns, type="LoadBalancer", externalTrafficPolicy="Local")
    )
    web.status.load_balancer.ingress.add(ip=LB_IP, ip_mode="VIP")
    await cluster.admin.services.update_status(web)
    port = web.spec.health_check_node_port
    assert port

    # No endpoint on this node: not announced, and the health check says so.
    await put_slice(cluster.admin, slice_on("web", ns, "elsewhere", ready=True))

    async def unhealthy() -> dict[str, Any] | None:
        try:
            code, body = await asyncio.to_thread(health, port)
        except OSError:
            return None
        return body if code == 503 else None

    assert await eventually(unhealthy, 30, what="the health check port") == {
        "service": {"namespace": ns, "name": "web"},
        "localEndpoints": 0,
        "serviceProxyHealthy": True,
    }
    assert lb_addresses(node) == []

    # A ready endpoint here: announced, reachable from the host, healthy.
    await put_slice(cluster.admin, slice_on("web", ns, name, ready=True))

    async def announced() -> bool:
        return lb_addresses(node) == [LB_IP]

    await eventually(announced, 30, what="the address on the node's interface")
    code, body = await asyncio.to_thread(health, port)
    assert (code, body["localEndpoints"]) == (200, 1)

    async def served() -> str:
        return (await asyncio.to_thread(fetch, host, f"http://{LB_IP}/index.html")).stdout

    assert await eventually(served, 30, what="the address answering the host") == "backend\n"
    neighbours = host.run("ip", "neigh", "show", LB_IP).stdout
    assert "lladdr" in neighbours, neighbours

    # Not ready any more: withdrawn and unhealthy.
    await put_slice(cluster.admin, slice_on("web", ns, name, ready=False))

    async def withdrawn() -> bool:
        return lb_addresses(node) == []

    await eventually(withdrawn, 30, what="the address withdrawn")
    assert (await eventually(unhealthy, 30, what="503"))["localEndpoints"] == 0

    # Ready again, then the Service deleted: the address goes with it.
    await put_slice(cluster.admin, slice_on("web", ns, name, ready=True))
    await eventually(announced, 30, what="the address announced again")
    await cluster.admin.services.delete("web", ns)
    await eventually(withdrawn, 30, what="the address gone with the Service")


def fetch_briefly(client: Netns, url: str) -> subprocess.CompletedProcess[str]:
    """A request given 3 s: a dropped one times out rather than being refused."""
    return client.run("timeout", "3", "busybox", "wget", "-qO-", url, check=False)


async def test_load_balancer_source_ranges_keep_other_clients_out(
    cluster: Cluster, node_with_kube_proxy: tuple[str, Netns, Netns]
) -> None:
    name, node, host = node_with_kube_proxy
    ns = await new_namespace(cluster.admin, "kp-lb-")
    web = await cluster.admin.services.create(
        service(
            "ranged",
            ns,
            type="LoadBalancer",
            externalTrafficPolicy="Local",
            loadBalancerSourceRanges=["10.77.0.1/32"],
        )
    )
    web.status.load_balancer.ingress.add(ip=LB_IP, ip_mode="VIP")
    web = await cluster.admin.services.update_status(web)
    await put_slice(cluster.admin, slice_on("ranged", ns, name, ready=True))
    url = f"http://{LB_IP}/index.html"

    async def served() -> str:
        return (await asyncio.to_thread(fetch_briefly, host, url)).stdout

    assert await eventually(served, 30, what="the allowed host served") == "backend\n"

    # The host is no longer in the ranges: its packets are dropped (no answer at all), while the
    # node still holds the address.
    web.spec.ClearField("load_balancer_source_ranges")
    web.spec.load_balancer_source_ranges.append("192.0.2.0/24")
    await cluster.admin.services.update(web)

    async def dropped() -> subprocess.CompletedProcess[str] | None:
        done = await asyncio.to_thread(fetch_briefly, host, url)
        return done if done.returncode != 0 else None

    done = await eventually(dropped, 30, what="the host's requests dropped")
    assert done.stdout == "" and "refused" not in done.stderr, done
    assert lb_addresses(node) == [LB_IP]
    await cluster.admin.services.delete("ranged", ns)
