"""The Kubernetes network model on the compose cluster: every pod reaches every other pod, on any
node, by its IP, without NAT. A jumpod on one node fetches a page served by a pod on another; a
route between nodes removed by hand is made again."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.e2e import waiting
from tests.e2e.compose_cluster import compose, podctl
from tests.support import eventually


def pod_on(node: str, name: str, namespace: str, command: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": node,
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", command],
                    }
                ],
            },
        }
    )


async def test_a_jumpod_fetches_a_page_from_a_pod_on_another_node(
    client: Client, namespace: str
) -> None:
    await client.pods.create(
        pod_on(
            "node-1",
            "web",
            namespace,
            "mkdir /www && echo served-by-$(hostname) > /www/index.html && "
            "exec httpd -f -p 8080 -h /www",
        )
    )

    async def web_ip() -> str:
        pod = await client.pods.get("web", namespace)
        return str(pod.status.pod_ip) if pod.status.phase == "Running" else ""

    ip = await eventually(web_ip, 120, what="the web pod Running with an IP")
    assert ip.startswith("10.244.1.")

    # (Debian's static busybox wget crashes with -T, hence timeout(1).)
    await client.pods.create(
        pod_on("node-2", "jumpod", namespace, f"timeout 10 wget -qO- http://{ip}:8080/index.html")
    )

    async def fetched() -> Any:
        pod = await client.pods.get("jumpod", namespace)
        return pod if pod.status.phase in ("Succeeded", "Failed") else None

    jumpod = await eventually(fetched, 120, what="the jumpod to finish")
    assert jumpod.status.pod_ip.startswith("10.244.2.")
    assert jumpod.status.phase == "Succeeded"
    assert podctl("logs", "jumpod", "-n", namespace).stdout == "served-by-web\n"


@pytest.mark.disruptive
def test_a_route_to_another_nodes_pods_removed_by_hand_comes_back() -> None:
    """Each node's route keeper (netpol --pod-routes, flannel's host-gw) checks the machine's routes
    every 30 s and makes a missing one again: here node-3's route to node-1's pods, deleted with
    `ip route del` (node-3's pods cannot reach node-1's meanwhile: disruptive)."""

    def route() -> str:
        shown = compose("exec", "-T", "node-3", "ip", "route", "show", "10.244.1.0/24")
        return shown.stdout.strip()

    before = route()
    assert before.startswith("10.244.1.0/24 via "), before
    compose("exec", "-T", "node-3", "ip", "route", "del", "10.244.1.0/24")
    assert route() == ""
    assert waiting.eventually(lambda: route() or None, 60, "the route back") == before
