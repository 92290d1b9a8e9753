"""kube-proxy as kubeadm deploys it, on the compose cluster: the DaemonSet kube-system/kube-proxy
(docker/addons/kube-proxy.yaml, applied by the addon-manager) is 3/3 ready after `make up`, one
pod per node, in the node's network namespace (its pod IP is the node's), privileged,
system-node-critical, as the service account kube-system/kube-proxy with system:node-proxier's
rights and no more, named by the downward API. A Service's cluster IP works from a pod on every
node. A deleted kube-proxy pod is replaced by the DaemonSet on the same node while traffic flows
on (the rules stay in the kernel) and the replacement programs a Service created after it. A node
container restarted (its network namespace and engine made afresh) gets its kube-proxy pod back
and Services work on it again. The tests share the module's namespace, in order; the restart is
last."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.compose_cluster import NODES, compose
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually

SYSTEM = Kubectl("kube-system")
ACCOUNT = "--as=system:serviceaccount:kube-system:kube-proxy"

ECHO = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 2
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: echo
        image: busybox
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html
                  && exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          tcpSocket: {port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector: {app: echo}
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


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def echo(k: Kubectl) -> str:
    """The Service echo (2 busybox httpd replicas) and a jumpod on every node; its cluster IP."""
    k.ok("apply", "-f", "-", stdin=ECHO)
    for node in NODES:
        k.ok("apply", "-f", "-", stdin=JUMPOD.format(node=node))
    rollout = k.run("rollout", "status", "deployment/echo", "--timeout=180s")
    assert rollout.code == 0, rollout
    k.ok("wait", "--for=condition=Ready", "pod", *(f"jumpod-{n}" for n in NODES), "--timeout=120s")
    return str(json.loads(k.ok("get", "service", "echo", "-o", "json"))["spec"]["clusterIP"])


def proxies() -> dict[str, dict[str, Any]]:
    """The kube-proxy pods not being deleted, by node."""
    pods = json.loads(SYSTEM.ok("get", "pods", "-l", "k8s-app=kube-proxy", "-o", "json"))
    by_node: dict[str, dict[str, Any]] = {}
    for pod in pods["items"]:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        node = pod["spec"]["nodeName"]
        assert node not in by_node, f"two kube-proxy pods on {node}"
        by_node[node] = pod
    return by_node


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod["status"].get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def echoes(k: Kubectl, node: str, url: str, times: int = 1) -> list[str]:
    """What `times` requests from the jumpod on `node` got: a line each, the answering pod's
    name or FAILED."""
    script = (
        f"for i in $(seq {times}); do "
        f'if out=$(timeout 5 wget -qO- {url} 2>&1); then echo "$out"; else echo "FAILED $out"; fi;'
        " done"
    )
    result = k.run("exec", f"jumpod-{node}", "--", "sh", "-c", script, timeout=30 + 6 * times)
    assert result.code == 0, result
    return result.out.splitlines()


def echo_pods(k: Kubectl) -> set[str]:
    return set(k.ok("get", "pods", "-l", "app=echo", "-o", "name").replace("pod/", "").split())


def reaches_echo(k: Kubectl, node: str, url: str) -> bool:
    answers = echoes(k, node, url, times=3)
    return bool(answers) and set(answers) <= echo_pods(k)


def test_the_daemon_set_is_ready_on_every_node() -> None:
    lines = SYSTEM.ok("get", "ds", "kube-proxy").splitlines()
    header, row = (re.split(r"\s{2,}", line.strip()) for line in lines)
    assert header[:7] == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE SELECTOR",
    ]
    assert row[:7] == ["kube-proxy", "3", "3", "3", "3", "3", "kubernetes.io/os=linux"], row


def test_one_pod_per_node_in_the_nodes_network_privileged_and_node_critical() -> None:
    pods = proxies()
    assert sorted(pods) == sorted(NODES)
    nodes = json.loads(SYSTEM.ok("get", "nodes", "-o", "json"))["items"]
    node_ips = {
        n["metadata"]["name"]: next(
            a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"
        )
        for n in nodes
    }
    for node, pod in pods.items():
        spec, status = pod["spec"], pod["status"]
        assert ready(pod) and status["phase"] == "Running", (node, status)
        owner = pod["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == (
            "DaemonSet",
            "kube-proxy",
            True,
        )
        # hostNetwork: the pod's address is its node's.
        assert spec["hostNetwork"] is True
        assert status["podIP"] == status["hostIP"] == node_ips[node], (node, status)
        (container,) = spec["containers"]
        assert container["securityContext"] == {"privileged": True}
        assert "--hostname-override=$(NODE_NAME)" in container["command"]
        assert "--server=apiserver:6444" in container["command"]  # not the `kubernetes` VIP
        assert (spec["priorityClassName"], spec["priority"]) == ("system-node-critical", 2000001000)
        assert spec["serviceAccountName"] == "kube-proxy"
        # Every taint tolerated (kubeadm's one toleration), besides the DaemonSet controller's.
        assert any(
            t.get("operator") == "Exists" and not t.get("key") and not t.get("effect")
            for t in spec["tolerations"]
        ), spec["tolerations"]
        # Its node name from the downward API, in its own words.
        logs = SYSTEM.ok("logs", pod["metadata"]["name"])
        assert f"kube-proxy on {node} (iptables mode" in logs, logs


def test_it_runs_as_its_service_account_with_the_node_proxier_rights() -> None:
    for verb, resource in (
        ("watch", "endpointslices.discovery.k8s.io"),
        ("list", "services"),
        ("get", "nodes"),
        ("create", "events"),
    ):
        assert SYSTEM.ok("auth", "can-i", verb, resource, "-A", ACCOUNT) == "yes\n", resource
    refused = SYSTEM.run("auth", "can-i", "update", "services", ACCOUNT)
    assert (refused.code, refused.out) == (1, "no\n")
    binding = json.loads(
        SYSTEM.ok("get", "clusterrolebinding", "kubeadm:node-proxier", "-o", "json")
    )
    assert binding["roleRef"]["name"] == "system:node-proxier"


@pytest.mark.parametrize("node", NODES)
def test_a_service_ip_works_from_a_pod_on_every_node(k: Kubectl, echo: str, node: str) -> None:
    url = f"http://{echo}/index.html"
    eventually(lambda: reaches_echo(k, node, url), 60, f"the cluster IP answering on {node}")


# It deletes node-3's kube-proxy pod: it runs alone, after the tests that share the cluster
# (conftest.py).
@pytest.mark.disruptive
def test_a_deleted_kube_proxy_pod_is_replaced_and_its_node_resyncs(k: Kubectl, echo: str) -> None:
    node = "node-3"
    url = f"http://{echo}/index.html"
    old = proxies()[node]["metadata"]["name"]
    # Requests from the node all along, while its kube-proxy is gone and replaced: the rules
    # stay in the node's kernel.
    script = (
        "for i in $(seq 40); do "
        f'if out=$(timeout 5 wget -qO- {url} 2>&1); then echo "$out"; else echo "FAILED $out"; fi;'
        " sleep 0.25; done"
    )
    requests = k.popen("exec", f"jumpod-{node}", "--", "sh", "-c", script)
    assert requests.stdout is not None
    first = requests.stdout.readline()  # the requests are under way
    SYSTEM.ok("delete", "pod", old, "--timeout=60s")

    def replaced() -> dict[str, Any] | None:
        pod = proxies().get(node)
        return pod if pod and pod["metadata"]["name"] != old and ready(pod) else None

    new = eventually(replaced, 90, f"a new kube-proxy pod ready on {node}")
    assert new["spec"]["nodeName"] == node
    out, err = requests.communicate(timeout=120)
    assert requests.returncode == 0, err
    answers = (first + out).splitlines()
    assert len(answers) == 40 and set(answers) <= echo_pods(k), answers

    # The new kube-proxy programs what changed after it started: a Service created now.
    k.ok(
        "expose",
        "deployment",
        "echo",
        "--name",
        "echo-again",
        "--port",
        "81",
        "--target-port",
        "8080",
    )
    again = json.loads(k.ok("get", "service", "echo-again", "-o", "json"))["spec"]["clusterIP"]
    eventually(
        lambda: reaches_echo(k, node, f"http://{again}:81/index.html"),
        60,
        f"a Service created after the replacement reachable from {node}",
    )


@pytest.fixture
def restarted_node() -> Iterator[str]:
    """node-2, restarted by the test; healthy again (and kube-proxy 3/3) afterwards."""
    node = "node-2"
    try:
        yield node
    finally:
        compose("start", node, check=False)
        eventually(
            lambda: (
                re.split(r"\s{2,}", SYSTEM.ok("get", "ds", "kube-proxy").splitlines()[1])[3] == "3"
            ),
            180,
            "kube-proxy ready on every node again",
        )


# It restarts a node: it runs alone, after the tests that share the cluster (conftest.py).
@pytest.mark.disruptive
def test_a_restarted_node_gets_its_kube_proxy_back(
    k: Kubectl, echo: str, restarted_node: str
) -> None:
    node = restarted_node
    before = proxies()[node]["metadata"]["name"]
    started = time.time()
    # The node container stopped and started: its engine, its containers and its network
    # namespace (with every iptables rule) are made afresh.
    compose("restart", node, timeout=180)

    def back() -> dict[str, Any] | None:
        pod = proxies().get(node)
        if not pod or not ready(pod):
            return None
        (status,) = pod["status"]["containerStatuses"]
        since = status["state"].get("running", {}).get("startedAt", "")
        restarted = since and datetime.fromisoformat(since).timestamp() >= int(started)
        return pod if restarted else None

    pod = eventually(back, 180, f"kube-proxy running again on {node}")
    # The DaemonSet's pod, bound to the node, is the same: the node's kubelet ran it again.
    assert pod["metadata"]["name"] == before
    url = f"http://{echo}/index.html"
    eventually(lambda: reaches_echo(k, node, url), 120, f"the cluster IP answering on {node}")
