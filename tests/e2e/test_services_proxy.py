"""Services through kube-proxy on the compose cluster, with the real kubectl: a 3-replica
Deployment spread over the three nodes behind a NodePort Service. From a jumpod on each node, 30
requests to the cluster IP reach all three backends (two of them on other nodes), once that
node's kube-proxy rules lead to all three (proxy_rules.py: one answer says only that one is
programmed); the node port answers on every node's IP from the host; a backend that turns
not-ready stops receiving traffic; killing kube-proxy's container (the DaemonSet
kube-system/kube-proxy's pod on the node, which the kubelet restarts) leaves traffic flowing and
later changes still programmed (a test that runs alone); scaled to 0, connections are refused at
once. The tests share the module's namespace and Service, in order. (By cluster IP: names are
the cluster DNS's part.)"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from tests.e2e.compose_cluster import NODES, compose, kill_node_container, node_containers
from tests.e2e.kubectl import Kubectl
from tests.e2e.proxy_rules import wait_for_cluster_ip_endpoints, wait_for_node_port_endpoints
from tests.e2e.waiting import eventually

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      # One backend per node: every client then reaches two backends on other nodes.
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {app: web}
      containers:
      - name: web
        image: busybox
        # index.html names the pod; /www/ready is what the readiness probe fetches.
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && echo ok > /www/ready
                  && exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
"""

JUMPOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: jumpod-{node}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


@dataclass(frozen=True)
class Web:
    cluster_ip: str
    node_port: int
    backends: dict[str, str]  # pod name -> node name
    endpoints: dict[str, str]  # pod name -> its endpoint, podIP:8080

    def endpoints_but(self, *pods: str) -> set[str]:
        return {ep for pod, ep in self.endpoints.items() if pod not in pods}


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


def web_pods(k: Kubectl) -> list[dict[str, Any]]:
    listed = k.ok("get", "pods", "-l", "app=web", "-o", "json")
    pods: list[dict[str, Any]] = json.loads(listed)["items"]
    return pods


@pytest.fixture(scope="module")
def web(k: Kubectl) -> Web:
    k.ok("apply", "-f", "-", stdin=WEB)
    for node in NODES:
        k.ok("apply", "-f", "-", stdin=JUMPOD.format(node=node))
    rollout = k.run("rollout", "status", "deployment/web", "--timeout=180s")
    assert rollout.code == 0, rollout
    k.ok("wait", "--for=condition=Ready", "pod", *(f"jumpod-{n}" for n in NODES), "--timeout=120s")
    service = json.loads(k.ok("get", "service", "web", "-o", "json"))
    pods = web_pods(k)
    placed = {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods}
    assert sorted(placed.values()) == sorted(NODES), placed
    endpoints = {p["metadata"]["name"]: f"{p['status']['podIP']}:8080" for p in pods}
    return Web(
        service["spec"]["clusterIP"], service["spec"]["ports"][0]["nodePort"], placed, endpoints
    )


def requests_script(url: str, times: int, pause: float = 0) -> str:
    """A jumpod's shell loop: per request one line, the backend's name or FAILED and wget's
    error. (Debian's static busybox wget crashes with -T, hence timeout(1).)"""
    return (
        f"for i in $(seq {times}); do "
        f'if out=$(timeout 5 wget -qO- {url} 2>&1); then echo "$out"; else echo "FAILED $out"; fi; '
        f"sleep {pause}; done"
    )


def fetch_from(k: Kubectl, node: str, url: str, times: int = 1) -> list[str]:
    """What `times` requests from the jumpod on `node` got, one line each."""
    script = requests_script(url, times)
    result = k.run("exec", f"jumpod-{node}", "--", "sh", "-c", script, timeout=30 + 6 * times)
    assert result.code == 0, result
    return result.out.splitlines()


def reaches_a_backend(k: Kubectl, node: str, url: str, web: Web) -> bool:
    answers = fetch_from(k, node, url)
    return bool(answers) and set(answers) <= set(web.backends)


def fetch_from_host(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode()).strip()


def answered_by_a_backend(url: str, web: Web) -> bool:
    return fetch_from_host(url) in web.backends


def refused_from_host(url: str) -> bool:
    try:
        fetch_from_host(url)
    except urllib.error.URLError as e:
        return isinstance(e.reason, ConnectionRefusedError)
    return False


def node_ips(k: Kubectl) -> dict[str, str]:
    nodes = json.loads(k.ok("get", "nodes", "-o", "json"))["items"]
    return {
        n["metadata"]["name"]: next(
            a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"
        )
        for n in nodes
    }


@pytest.mark.parametrize("node", NODES)
def test_the_cluster_ip_reaches_every_backend_from_every_node(
    k: Kubectl, web: Web, node: str
) -> None:
    url = f"http://{web.cluster_ip}/index.html"
    # Every backend in this node's rules, then the requests.
    wait_for_cluster_ip_endpoints(node, web.cluster_ip, 80, web.endpoints_but())
    answers = fetch_from(k, node, url, times=30)
    assert len(answers) == 30 and set(answers) == set(web.backends), answers


@pytest.mark.parametrize("node", NODES)
def test_the_service_name_reaches_every_backend_from_every_node(
    k: Kubectl, web: Web, node: str
) -> None:
    """`wget http://web` as a user writes it: the name through the pod's resolver (the cluster
    DNS at 10.96.0.10, itself behind kube-proxy, by the search path), then the cluster IP."""
    url = "http://web/index.html"
    wait_for_cluster_ip_endpoints(node, web.cluster_ip, 80, web.endpoints_but())
    # The name resolving (the cluster DNS's own rules), then the requests.
    eventually(partial(reaches_a_backend, k, node, url, web), 60, f"http://web answering on {node}")
    answers = fetch_from(k, node, url, times=30)
    assert len(answers) == 30 and set(answers) == set(web.backends), answers


def test_the_node_port_answers_on_every_node_ip_from_the_host(k: Kubectl, web: Web) -> None:
    ips = node_ips(k)
    assert set(ips) >= set(NODES), ips
    for node in NODES:
        url = f"http://{ips[node]}:{web.node_port}/index.html"
        wait_for_node_port_endpoints(node, web.node_port, web.endpoints_but())
        eventually(partial(answered_by_a_backend, url, web), 60, f"{url} from the host")
        # Through any node, to backends on every node (masqueraded, so replies come back).
        seen = {fetch_from_host(url) for _ in range(30)}
        assert seen == set(web.backends), (node, seen)


def test_a_backend_that_turns_not_ready_stops_receiving_traffic(k: Kubectl, web: Web) -> None:
    url = f"http://{web.cluster_ip}/index.html"
    pod = next(name for name, node in web.backends.items() if node == "node-2")
    k.ok("exec", pod, "--", "rm", "/www/ready")
    k.ok("wait", "--for=condition=Ready=false", f"pod/{pod}", "--timeout=60s")
    # Out of node-1's rules, then out of its traffic.
    wait_for_cluster_ip_endpoints("node-1", web.cluster_ip, 80, web.endpoints_but(pod))
    answers = fetch_from(k, "node-1", url, times=30)
    assert set(answers) == set(web.backends) - {pod}, answers

    # Ready again: back in the rules, and in the rotation.
    k.ok("exec", pod, "--", "sh", "-c", "echo ok > /www/ready")
    k.ok("wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=60s")
    wait_for_cluster_ip_endpoints("node-1", web.cluster_ip, 80, web.endpoints_but())
    answers = fetch_from(k, "node-1", url, times=30)
    assert set(answers) == set(web.backends), answers


SYSTEM = Kubectl("kube-system")


def kube_proxy_pod(node: str) -> tuple[str, int]:
    """The name and restart count of the kube-proxy pod on `node`."""
    pods = json.loads(
        SYSTEM.ok(
            "get",
            "pods",
            "-l",
            "k8s-app=kube-proxy",
            f"--field-selector=spec.nodeName={node}",
            "-o",
            "json",
        )
    )["items"]
    assert len(pods) == 1, pods
    statuses = pods[0]["status"].get("containerStatuses") or [{}]
    return pods[0]["metadata"]["name"], int(statuses[0].get("restartCount", 0))


def kube_proxy_healthy(node: str) -> str:
    """kube-proxy's /healthz on `node`, once its first sync has succeeded (lastUpdated is the
    epoch until then); empty before."""
    done = compose("exec", "-T", node, "busybox", "wget", "-qO-", "http://127.0.0.1:10256/healthz")
    return done.stdout if '"lastUpdated": "1970' not in done.stdout else ""


def fresh_kube_proxy(node: str) -> str:
    """The kube-proxy pod on `node` replaced by a new one of the DaemonSet's, synced. A container
    that crashed before is restarted after the kubelet's back-off, which doubles from 10 s to 5
    minutes with each crash within 10 minutes of the last (as Kubernetes' does): a run of this
    test soon after another would otherwise wait minutes for its restart."""
    old, _ = kube_proxy_pod(node)
    SYSTEM.ok("delete", "pod", old, "--timeout=120s")

    def replaced() -> str:
        name, _ = kube_proxy_pod(node)
        return name if name != old else ""

    pod = eventually(replaced, 60, f"a new kube-proxy pod on {node}")
    SYSTEM.ok("wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=60s")
    eventually(partial(kube_proxy_healthy, node), 60, f"the new kube-proxy healthy on {node}")
    return pod


# It kills node-1's kube-proxy, on which every other test's pods on node-1 rely for the Services
# they create meanwhile: it runs alone, after the tests that share the cluster (conftest.py).
@pytest.mark.disruptive
def test_restarting_kube_proxy_keeps_traffic_flowing(k: Kubectl, web: Web) -> None:
    url = f"http://{web.cluster_ip}/index.html"
    pod = fresh_kube_proxy("node-1")
    wait_for_cluster_ip_endpoints("node-1", web.cluster_ip, 80, web.endpoints_but())
    _, restarts = kube_proxy_pod("node-1")
    # Requests from node-1 all along, while its kube-proxy is killed and started again: the
    # rules stay in the kernel, and the new kube-proxy's first (full) sync replaces them whole.
    requests = k.popen("exec", "jumpod-node-1", "--", "sh", "-c", requests_script(url, 40, 0.2))
    assert requests.stdout is not None
    first = requests.stdout.readline()  # the requests are under way
    # Its container killed in node-1's engine, as a crash would end it: the kubelet starts it
    # again (restartPolicy Always), in the same pod.
    container = node_containers(
        "node-1",
        {
            "io.kubernetes.pod.namespace": "kube-system",
            "io.kubernetes.pod.name": pod,
            "io.kubernetes.container.name": "kube-proxy",
        },
    )
    assert len(container) == 1, container
    kill_node_container("node-1", container[0].id)
    out, err = requests.communicate(timeout=120)
    assert requests.returncode == 0, err
    answers = (first + out).splitlines()
    assert len(answers) == 40 and set(answers) <= set(web.backends), answers

    eventually(lambda: kube_proxy_pod("node-1") == (pod, restarts + 1), 60, "kube-proxy restarted")
    eventually(partial(kube_proxy_healthy, "node-1"), 60, "the restarted kube-proxy healthy")
    # The restarted kube-proxy follows changes: a Service created now is programmed on node-1.
    k.ok(
        "expose",
        "deployment",
        "web",
        "--name",
        "web-again",
        "--port",
        "81",
        "--target-port",
        "8080",
    )
    again = json.loads(k.ok("get", "service", "web-again", "-o", "json"))["spec"]["clusterIP"]
    eventually(
        partial(reaches_a_backend, k, "node-1", f"http://{again}:81/index.html", web),
        60,
        "a Service created after the restart reachable from node-1",
    )


def test_scaled_to_zero_connections_are_refused(k: Kubectl, web: Web) -> None:
    k.ok("scale", "deployment", "web", "--replicas=0")
    k.ok("wait", "--for=delete", "pod", *web.backends, "--timeout=120s")
    # The name still resolves (the Service is there) and its cluster IP refuses at once (REJECT),
    # not a timeout (which would print no error before FAILED).
    url = "http://web/index.html"
    ip = re.escape(web.cluster_ip)
    refused = re.compile(
        rf"^FAILED wget: can't connect to remote host \({ip}\): Connection refused$"
    )
    for node in NODES:

        def refused_on(node: str = node) -> list[str]:
            answers = fetch_from(k, node, url, times=3)
            return answers if all(refused.match(line) for line in answers) else []

        assert len(eventually(refused_on, 60, f"the cluster IP refused on {node}")) == 3
    # The node port too, from the host.
    for node, ip in node_ips(k).items():
        url = f"http://{ip}:{web.node_port}/"
        eventually(partial(refused_from_host, url), 60, f"{url} refused ({node})")
