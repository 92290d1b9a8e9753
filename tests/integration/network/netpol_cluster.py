"""What the NetworkPolicy agent's integration tests share: the real apiserver over TLS on a real
etcd with the agent's reads granted to the nodes (docker/addons/network-policies.yaml: its
ClusterRole and binding to system:nodes) and the node's own client certificate; a "node"
network namespace whose pods are namespaces of their own joined to it by veth pairs, routed as
Calico routes them (a /32 per pod, the pods' gateway a link-local address of the node's on
every veth); the
real agent process (`python -m netpol`), writing the node's rules; busybox servers and probes."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.componentbase import pki
from tests.integration.control_plane import TEST_DISABLED_ADMISSION_PLUGINS
from tests.integration.netns import Netns
from tests.integration.network.addon_identity import apply_addon_identity, wait_until_allowed
from tests.pki_support import cert_credentials, secure_serving
from tests.support import EtcdProcess

ROOT = Path(__file__).parents[3]
ADDON = ROOT / "docker" / "addons" / "network-policies.yaml"
NODE = "np-node-1"
REMOTE_NODE = "np-node-2"
POD_CIDR = "10.244.1.0/24"
GATEWAY = "169.254.1.1"


@dataclass
class Cluster:
    admin: Client
    port: int
    certs: Path


@contextlib.asynccontextmanager
async def netpol_cluster(etcd: EtcdProcess, certs: Path) -> AsyncIterator[Cluster]:
    pki.build(certs, [NODE])
    server = APIServer(
        [etcd.endpoint],
        "127.0.0.1:0",
        security=secure_serving(certs),
        disable_admission_plugins=TEST_DISABLED_ADMISSION_PLUGINS,
    )
    await server.start(etcd_timeout=20)
    admin = Client(
        f"127.0.0.1:{server.port}", timeout=10, credentials=cert_credentials(certs, "admin")
    )
    await apply_addon_identity(admin, ADDON)
    cluster = Cluster(admin, server.port, certs)
    try:
        agent = agent_client(cluster)
        try:
            await wait_until_allowed(
                lambda: agent.networkpolicies.list(""), "podplane:network-policies to take effect"
            )
        finally:
            await agent.close()
        yield cluster
    finally:
        await admin.close()
        await server.stop(0)


def agent_client(cluster: Cluster) -> Client:
    """A client as the node the agent runs on (system:node:<name>, its own certificate)."""
    return Client(
        f"127.0.0.1:{cluster.port}", timeout=10, credentials=cert_credentials(cluster.certs, NODE)
    )


class Node:
    """The node's network namespace and its pods' namespaces."""

    def __init__(self) -> None:
        self.ns = Netns.create("np-node")
        self.ns.run("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
        self.pods: list[Netns] = []

    def attach(self, ip: str) -> Netns:
        """A pod's namespace with address `ip`, routed through the node."""
        pod = Netns.create("np-pod")
        here, there = f"v{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["ip", "link", "add", here, "type", "veth", "peer", "name", there], check=True
        )
        subprocess.run(["ip", "link", "set", here, "netns", self.ns.name], check=True)
        subprocess.run(["ip", "link", "set", there, "netns", pod.name], check=True)
        self.ns.run("ip", "addr", "add", f"{GATEWAY}/32", "dev", here)
        self.ns.run("ip", "link", "set", here, "up")
        self.ns.run("ip", "route", "add", f"{ip}/32", "dev", here)
        pod.run("ip", "addr", "add", f"{ip}/32", "dev", there)
        pod.run("ip", "link", "set", there, "up")
        pod.run("ip", "route", "add", GATEWAY, "dev", there)
        pod.run("ip", "route", "add", "default", "via", GATEWAY, "dev", there)
        self.pods.append(pod)
        return pod

    def delete(self) -> None:
        for pod in self.pods:
            pod.delete()
        self.ns.delete()


@contextlib.contextmanager
def running_agent(cluster: Cluster, node: Node) -> Iterator[subprocess.Popen[bytes]]:
    """The real agent, `python -m netpol`, as a node runs it (with the node's certificate), but
    writing its rules in the node's namespace (--iptables-netns): the apiserver it talks to
    listens on the host's loopback."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netpol",
            f"--server=127.0.0.1:{cluster.port}",
            f"--ca-file={cluster.certs / 'ca.crt'}",
            f"--cert-file={cluster.certs / f'{NODE}.crt'}",
            f"--key-file={cluster.certs / f'{NODE}.key'}",
            f"--hostname-override={NODE}",
            f"--pod-cidr={POD_CIDR}",
            f"--iptables-netns={node.ns.name}",
        ],
        cwd=ROOT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_http(pod: Netns, root: Path, name: str, *ports: int) -> None:
    """busybox httpd on each port, answering `name`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(name)
    for port in ports:
        pod.start("busybox", "httpd", "-f", "-p", str(port), "-h", str(root))


def fetch(client: Netns, ip: str, port: int) -> str:
    """The answer of the server at ip:port, or "" when the connection fails within 2 s (a
    timeout of the command's: this busybox's `wget -T` crashes)."""
    try:
        done = client.run("busybox", "wget", "-qO-", f"http://{ip}:{port}/", check=False, timeout=2)
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout if done.returncode == 0 else ""


UDP_ECHO = (
    "import socket,sys\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "s.bind(('0.0.0.0',int(sys.argv[1])))\n"
    "while True:\n"
    "    d,a=s.recvfrom(512)\n"
    "    s.sendto(d,a)\n"
)
UDP_ASK = (
    "import socket,sys\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "s.settimeout(1)\n"
    "s.sendto(b'hello',(sys.argv[1],int(sys.argv[2])))\n"
    "try:\n"
    "    print(s.recv(512).decode())\n"
    "except OSError:\n"
    "    pass\n"
)


def serve_udp_echo(pod: Netns, port: int) -> None:
    pod.start(sys.executable, "-c", UDP_ECHO, str(port))


def ask_udp(client: Netns, ip: str, port: int) -> str:
    return client.run(sys.executable, "-c", UDP_ASK, ip, str(port), check=False).stdout.strip()


async def create_pod(
    admin: Client,
    namespace: str,
    name: str,
    ip: str,
    node: str = NODE,
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> None:
    """The Pod as the kubelet reports it: bound to `node`, running, with its address."""
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    if ports:
        container["ports"] = ports
    pod = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [container]},
        },
        core_pb2.Pod,
    )
    created = await admin.pods.create(pod)
    created.status.phase = "Running"
    created.status.pod_ip = ip
    created.status.pod_ips.add(ip=ip)
    await admin.pods.update_status(created)


def network_policy(name: str, namespace: str, spec: dict[str, Any]) -> networking_pb2.NetworkPolicy:
    return manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        },
        networking_pb2.NetworkPolicy,
    )
