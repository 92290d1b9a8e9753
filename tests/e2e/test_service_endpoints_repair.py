"""A Service keeps its endpoints whatever is done to its EndpointSlices (issue 41), on the compose
cluster with the real kubectl: a slice deleted by hand is made again, one edited by hand is
repaired, and a Service deleted and exposed again under its name gets slices and Endpoints
again; each time a request from a pod to the cluster IP is answered by a backend again within a
sync, and the jumpod's node's kube-proxy rules lead to every backend. The tests share the
module's namespace, Deployment and jumpod, in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.kubectl import Kubectl
from tests.e2e.proxy_rules import wait_for_cluster_ip_endpoints
from tests.e2e.waiting import eventually

# How long a repair may take: the controller's sync and kube-proxy's (the bug was "never").
SYNC = 30
NODE = "node-1"  # the jumpod's

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox
        # index.html names the pod; port 80, as `kubectl expose --port 80` targets it.
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html
                  && exec httpd -f -p 80 -h /www"]
        ports:
        - {containerPort: 80}
        readinessProbe:
          httpGet: {path: /index.html, port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: jumpod
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


@dataclass(frozen=True)
class Backends:
    pods: dict[str, str]  # pod name -> its IP

    @property
    def endpoints(self) -> set[str]:
        return {f"{ip}:80" for ip in self.pods.values()}


@dataclass(frozen=True)
class Service:
    uid: str
    cluster_ip: str


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def backends(k: Kubectl) -> Backends:
    k.ok("apply", "-f", "-", stdin=WEB)
    rollout = k.run("rollout", "status", "deployment/web", "--timeout=180s")
    assert rollout.code == 0, rollout
    k.ok("wait", "--for=condition=Ready", "pod/jumpod", "--timeout=120s")
    # The Service as the user made it.
    k.ok("expose", "deployment", "web", "--port", "80")
    pods = json.loads(k.ok("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    return Backends({p["metadata"]["name"]: p["status"]["podIP"] for p in pods})


def service(k: Kubectl) -> Service:
    svc = json.loads(k.ok("get", "service", "web", "-o", "json"))
    return Service(svc["metadata"]["uid"], svc["spec"]["clusterIP"])


def slices(k: Kubectl) -> list[dict[str, Any]]:
    listed = k.ok("get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed)["items"]
    return items


def owners(eps: dict[str, Any]) -> set[str]:
    return {ref["uid"] for ref in eps["metadata"].get("ownerReferences", [])}


def ready_addresses(items: list[dict[str, Any]]) -> set[str]:
    return {
        address
        for eps in items
        for ep in eps.get("endpoints") or []
        if (ep.get("conditions") or {}).get("ready")
        for address in ep["addresses"]
    }


def slices_of(k: Kubectl, svc: Service, backends: Backends) -> list[dict[str, Any]] | None:
    """The Service's slices once they are its own only and hold every backend, ready."""
    items = slices(k)
    if not items or any(owners(eps) != {svc.uid} for eps in items):
        return None
    return items if ready_addresses(items) == set(backends.pods.values()) else None


def answers(k: Kubectl, svc: Service, times: int) -> list[str]:
    """What `times` requests from the jumpod to the cluster IP got, a line each: the backend's
    name, or FAILED and wget's error. (Debian's static busybox wget crashes with -T, hence
    timeout(1).)"""
    url = f"http://{svc.cluster_ip}/index.html"
    script = (
        f"for i in $(seq {times}); do "
        f'if out=$(timeout 5 wget -qO- {url} 2>&1); then echo "$out"; else echo "FAILED $out"; fi; '
        "done"
    )
    result = k.run("exec", "jumpod", "--", "sh", "-c", script, timeout=30 + 6 * times)
    assert result.code == 0, result
    return result.out.splitlines()


def assert_traffic_resumes(k: Kubectl, svc: Service, backends: Backends) -> None:
    """A request answered by a backend within a sync; then, with every backend in the node's
    rules, every request answered and each backend reached."""
    eventually(
        lambda: (got := answers(k, svc, 1)) and set(got) <= set(backends.pods),
        SYNC,
        f"a backend answering at {svc.cluster_ip} from {NODE}",
    )
    wait_for_cluster_ip_endpoints(NODE, svc.cluster_ip, 80, backends.endpoints, SYNC)
    got = answers(k, svc, 20)
    assert len(got) == 20 and set(got) == set(backends.pods), got


def test_a_slice_deleted_by_hand_is_made_again(k: Kubectl, backends: Backends) -> None:
    svc = service(k)
    (first,) = eventually(lambda: slices_of(k, svc, backends), SYNC, "web's slice")
    assert_traffic_resumes(k, svc, backends)

    name = first["metadata"]["name"]
    k.ok("delete", "endpointslice", name)
    eventually(
        lambda: (
            (items := slices_of(k, svc, backends))
            and name not in {eps["metadata"]["name"] for eps in items}
        ),
        SYNC,
        f"a slice for web again after {name} was deleted",
    )
    assert_traffic_resumes(k, svc, backends)


def test_a_slice_edited_by_hand_is_repaired(k: Kubectl, backends: Backends) -> None:
    svc = service(k)
    (current,) = eventually(lambda: slices_of(k, svc, backends), SYNC, "web's slice")
    name = current["metadata"]["name"]
    # Every endpoint replaced by one that answers nothing (its generation moves).
    bogus = [{"addresses": ["10.244.250.250"], "conditions": {"ready": True}}]
    patch = json.dumps([{"op": "replace", "path": "/endpoints", "value": bogus}])
    k.ok("patch", "endpointslice", name, "--type=json", "-p", patch)
    repaired = eventually(lambda: slices_of(k, svc, backends), SYNC, f"{name} repaired")
    assert "10.244.250.250" not in ready_addresses(repaired), repaired
    assert_traffic_resumes(k, svc, backends)


def endpoints_ips(k: Kubectl) -> set[str]:
    ep = json.loads(k.ok("get", "endpoints", "web", "-o", "json"))
    return {a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []}


def test_a_service_deleted_and_exposed_again_gets_its_endpoints(
    k: Kubectl, backends: Backends
) -> None:
    old = service(k)
    k.ok("delete", "service", "web")
    k.ok("expose", "deployment", "web", "--port", "80")
    new = service(k)
    assert new.uid != old.uid
    # Slices of the new Service only (the old one's deleted), with every backend; the Endpoints
    # mirror too.
    eventually(lambda: slices_of(k, new, backends), SYNC, "the new Service's slices")
    eventually(
        lambda: endpoints_ips(k) == set(backends.pods.values()), SYNC, "web's Endpoints again"
    )
    assert_traffic_resumes(k, new, backends)
