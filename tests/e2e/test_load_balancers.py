"""LoadBalancer Services on the compose cluster, with the real kubectl: the controller-manager's
service-lb-controller gives each an address of its default pool (.200-.250 of the last /24 of the
compose network, which the nodes and the host's bridge share), kubectl shows it as EXTERNAL-IP
with the service controller's events; one node's kube-proxy holds it on its interface, so that
the host reaches the Service there, and every node's rules let pods reach it too; with
externalTrafficPolicy Local, only the node with the endpoint holds the address, and the health
check node port answers 200 with localEndpoints 1 there and 503 on the others; a deleted Service's
address leaves the nodes' interfaces. The tests share the module's namespace, in order."""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from tests.e2e.compose_cluster import NODES, compose
from tests.e2e.kubectl import Kubectl
from tests.e2e.proxy_rules import wait_for_cluster_ip_endpoints
from tests.e2e.waiting import eventually

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 1
      {placement}
      containers:
      - name: web
        image: busybox
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html
                  && exec httpd -f -p 8080 -h /www"]
        ports:
        - {{name: http, containerPort: 8080}}
        readinessProbe:
          httpGet: {{path: /index.html, port: http}}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: LoadBalancer
  externalTrafficPolicy: {policy}
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
"""

SPREAD = """topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {app: lb-web}"""

JUMPOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: lb-jumpod
spec:
  nodeName: node-3
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


@dataclass(frozen=True)
class Balanced:
    name: str
    address: str
    backends: set[str]  # pod names
    health_check_node_port: int


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def deploy(k: Kubectl, name: str, replicas: int, placement: str, policy: str) -> Balanced:
    manifest = WEB.format(name=name, replicas=replicas, placement=placement, policy=policy)
    k.ok("apply", "-f", "-", stdin=manifest)
    rollout = k.run("rollout", "status", f"deployment/{name}", "--timeout=180s")
    assert rollout.code == 0, rollout

    def assigned() -> dict[str, Any] | None:
        svc: dict[str, Any] = json.loads(k.ok("get", "service", name, "-o", "json"))
        return svc if svc["status"].get("loadBalancer", {}).get("ingress") else None

    svc = eventually(assigned, 60, f"{name}'s load balancer address")
    pods = json.loads(k.ok("get", "pods", "-l", f"app={name}", "-o", "json"))["items"]
    return Balanced(
        name,
        svc["status"]["loadBalancer"]["ingress"][0]["ip"],
        {p["metadata"]["name"] for p in pods},
        int(svc["spec"].get("healthCheckNodePort", 0)),
    )


@pytest.fixture(scope="module")
def web(k: Kubectl) -> Balanced:
    """Three backends, one per node, behind a Cluster-policy load balancer."""
    k.ok("apply", "-f", "-", stdin=JUMPOD)
    balanced = deploy(k, "lb-web", 3, SPREAD, "Cluster")
    k.ok("wait", "--for=condition=Ready", "pod/lb-jumpod", "--timeout=120s")
    return balanced


@pytest.fixture(scope="module")
def local(k: Kubectl) -> Balanced:
    """One backend, on node-2, behind a Local-policy load balancer."""
    return deploy(k, "lb-local", 1, "nodeSelector: {kubernetes.io/hostname: node-2}", "Local")


def node_ips(k: Kubectl) -> dict[str, str]:
    nodes = json.loads(k.ok("get", "nodes", "-o", "json"))["items"]
    return {
        n["metadata"]["name"]: next(
            a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"
        )
        for n in nodes
    }


def holders(address: str) -> list[str]:
    """The nodes whose interfaces hold `address` (kube-proxy's /32, labelled <if>:lb)."""
    held = []
    for node in NODES:
        out = compose("exec", "-T", node, "ip", "-4", "-o", "addr", "show").stdout
        if f" {address}/32 " in out:
            held.append(node)
    return held


def fetch_from_host(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode()).strip()


def health_from_host(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_address_comes_from_the_compose_network_and_kubectl_shows_it(
    k: Kubectl, web: Balanced
) -> None:
    network = ipaddress.ip_network(f"{node_ips(k)['node-1']}/16", strict=False)
    address = ipaddress.ip_address(web.address)
    assert address in network and 200 <= int(address) % 256 <= 250, web.address
    header, row = k.ok("get", "service", "lb-web").splitlines()
    assert header.split()[:5] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"]
    assert row.split()[1] == "LoadBalancer" and row.split()[3] == web.address
    svc = json.loads(k.ok("get", "service", "lb-web", "-o", "json"))
    assert svc["metadata"]["finalizers"] == ["service.kubernetes.io/load-balancer-cleanup"]
    assert svc["status"]["loadBalancer"]["ingress"] == [{"ip": web.address, "ipMode": "VIP"}]

    # The controller records its event after the status write the fixture waited for, and
    # events are written on their own (podplane/client/events.py).
    def described() -> str:
        text = k.ok("describe", "service", "lb-web")
        return text if "EnsuredLoadBalancer" in text else ""

    text = eventually(described, 30, "the EnsuredLoadBalancer event in describe")
    assert f"LoadBalancer Ingress:     {web.address} (VIP)" in text
    assert "EnsuredLoadBalancer" in text and "service-controller" in text


def test_one_node_holds_the_address_and_the_host_reaches_every_backend(
    k: Kubectl, web: Balanced
) -> None:
    held = eventually(partial(holders, web.address), 60, "a node holding the address")
    assert len(held) == 1, held
    url = f"http://{web.address}/index.html"
    eventually(partial(fetch_from_host, url), 60, f"{url} from the host")
    # Every backend in the holder's rules, then the requests: one answer says only that one
    # endpoint is programmed (proxy_rules.py).
    pods = json.loads(k.ok("get", "pods", "-l", "app=lb-web", "-o", "json"))["items"]
    endpoints = {f"{p['status']['podIP']}:8080" for p in pods}
    wait_for_cluster_ip_endpoints(held[0], web.address, 80, endpoints)
    seen = {fetch_from_host(url) for _ in range(30)}
    assert seen == web.backends, seen


def test_a_pod_reaches_the_address(k: Kubectl, web: Balanced) -> None:
    url = f"http://{web.address}/index.html"

    def answered() -> str:
        done = k.run("exec", "lb-jumpod", "--", "timeout", "5", "wget", "-qO-", url)
        return done.out.strip() if done.code == 0 else ""

    assert eventually(answered, 60, f"{url} from a pod") in web.backends


def test_local_policy_answers_health_checks_and_is_held_where_the_endpoint_is(
    k: Kubectl, local: Balanced
) -> None:
    assert local.health_check_node_port
    ips = node_ips(k)
    for node in NODES:
        url = f"http://{ips[node]}:{local.health_check_node_port}/healthz"
        expected = (200, 1) if node == "node-2" else (503, 0)

        def answered(url: str = url, expected: tuple[int, int] = expected) -> dict[str, Any]:
            code, body = health_from_host(url)
            return body if (code, body["localEndpoints"]) == expected else {}

        body = eventually(answered, 60, f"{url}: {expected}")
        assert body == {
            "service": {"namespace": k.namespace, "name": "lb-local"},
            "localEndpoints": expected[1],
            "serviceProxyHealthy": True,
        }
    held = eventually(partial(holders, local.address), 60, "node-2 holding the address")
    assert held == ["node-2"]
    url = f"http://{local.address}/index.html"
    assert eventually(partial(fetch_from_host, url), 60, f"{url} from the host") in local.backends


def test_a_deleted_service_releases_its_address(k: Kubectl, web: Balanced) -> None:
    k.ok("delete", "service", "lb-web", "--timeout=60s")

    def released() -> bool:
        return not holders(web.address)

    eventually(released, 60, "the address off every node")

    # The address leaves the nodes through kube-proxy; the events come from the service
    # controller, written on their own, DeletedLoadBalancer after the finalizer's removal.
    def recorded() -> str:
        events = k.ok("get", "events", "--field-selector", "involvedObject.name=lb-web")
        wanted = ("DeletingLoadBalancer", "DeletedLoadBalancer")
        return events if all(reason in events for reason in wanted) else ""

    events = eventually(recorded, 30, "the service controller's deletion events")
    assert "DeletingLoadBalancer" in events and "DeletedLoadBalancer" in events
