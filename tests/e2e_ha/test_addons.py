"""The add-ons of the highly available profile, as `kubeadm init` installs them (make up-ha:
python -m adm addons): kube-proxy on every node, control-plane machines included, and the
cluster DNS, both talking to the apiservers through the load balancer. A Service is reached by
its DNS name from a pod on a control-plane machine, its backend on a worker."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from tests.e2e_ha.ha_cluster import MEMBERS, kubectl, pod_on, ready_nodes


def test_kube_proxy_runs_on_every_node_and_a_service_answers_by_its_dns_name() -> None:
    nodes = ready_nodes()
    assert set(MEMBERS) <= nodes, nodes
    workers = sorted(nodes - set(MEMBERS))
    assert workers, "no Ready worker: `make up-ha` joins one (HA_WORKERS)"

    # One kube-proxy pod Running and ready on each node (it tolerates the control-plane taint).
    proxies = json.loads(
        kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "json").stdout
    )["items"]
    running = {
        p["spec"]["nodeName"]
        for p in proxies
        if p["status"].get("phase") == "Running" and _ready(p)
    }
    assert running >= nodes, f"no kube-proxy running on {sorted(nodes - running)}"
    dns = json.loads(
        kubectl("get", "deployment", "coredns", "-n", "kube-system", "-o", "json").stdout
    )
    assert dns["status"].get("availableReplicas") == dns["spec"]["replicas"], dns["status"]

    namespace = f"ha-svc-{secrets.token_hex(3)}"
    try:
        kubectl("create", "namespace", namespace)
        pod_on(
            namespace,
            "web",
            workers[0],
            "mkdir -p /www; echo served > /www/index.html; httpd -f -p 8080 -h /www",
            labels="app=web",
        )
        kubectl("create", "service", "clusterip", "web", "-n", namespace, "--tcp=80:8080")
        pod_on(namespace, "client", sorted(MEMBERS)[0], "sleep 3600")

        # The name resolves through the cluster DNS to the Service's IP ...
        cluster_ip = kubectl(
            "get", "service", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"
        ).stdout
        name = f"web.{namespace}.svc.cluster.local"
        looked_up = _until_ok(namespace, "client", "nslookup", name)
        assert cluster_ip in looked_up, looked_up
        # ... and the Service's IP reaches the pod on the worker through cp-1's kube-proxy.
        fetched = _until_ok(namespace, "client", "wget", "-T", "5", "-qO-", f"http://{name}/")
        assert fetched.strip() == "served"
        # The short name, through the pod's search path.
        assert _until_ok(namespace, "client", "wget", "-T", "5", "-qO-", "http://web/").strip() == (
            "served"
        )
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod["status"].get("conditions") or []
    )


def _until_ok(namespace: str, pod: str, *command: str, timeout: float = 60) -> str:
    """The command's output once it succeeds in the pod: the endpoints and kube-proxy's rules
    follow the pods' readiness by a moment."""
    deadline = time.monotonic() + timeout
    while True:
        done = kubectl("exec", "-n", namespace, pod, "--", *command, check=False, timeout=30)
        if done.returncode == 0:
            return done.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"{' '.join(command)} in {pod}: {done.stdout}{done.stderr}")
        time.sleep(2)
