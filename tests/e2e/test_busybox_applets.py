"""The nodes' busybox (1.37.0, busybox's defconfig, as Docker Hub's busybox:latest) in the
tutorials' one-off client pods on the compose cluster: `kubectl run client --image busybox -i --rm
--restart Never -- wget -T 2 -qO- http://web` prints the page of an httpd pod behind a Service (the
nodes' former Debian busybox 1.35 died of a segmentation fault on any -T), a server that never
answers ends in busybox's "download timed out", nc reaches the Service, and nslookup asks the
cluster DNS. nslookup 1.37 applies the search list to dotless names only, as on any Kubernetes
cluster with busybox:latest: `kubernetes.default` is asked as it is and not found; the full name
is, and so is a Service's short name through the search list."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.kubectl import Kubectl, Result
from tests.e2e.proxy_rules import wait_for_cluster_ip_on_every_node

CLUSTER_DNS = "10.96.0.10"
KUBERNETES_SERVICE = "10.96.0.1"
SERVERS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: [sh, -c, "mkdir -p /www && echo hello from busybox httpd > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: silent
  labels: {app: silent}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nc
    image: busybox
    command: [nc, -lk, -p, "8080", -e, sleep, "3600"]
---
apiVersion: v1
kind: Service
metadata:
  name: silent
spec:
  selector: {app: silent}
  ports: [{port: 80, targetPort: 8080}]
"""  # noqa: E501  (the httpd command as tutorials write it, on one line)


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    """The httpd pod behind the Service web, and behind the Service silent a pod whose server
    accepts connections and never answers (nc running `sleep` for each); each Service in every
    node's rules."""
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=SERVERS)
    for pod in ("web", "silent"):
        ready = k.run("wait", "--for=condition=Ready", f"pod/{pod}", "--timeout=120s")
        assert ready.code == 0, ready
        pod_ip = k.ok("get", "pod", pod, "-o", "jsonpath={.status.podIP}")
        deadline = time.monotonic() + 60
        jsonpath = "jsonpath={.subsets[*].addresses[*].ip}"
        while k.run("get", "endpoints", pod, "-o", jsonpath).out != pod_ip:
            assert time.monotonic() < deadline, f"the Service {pod} never got its endpoint"
            time.sleep(1)
        cluster_ip = k.ok("get", "service", pod, "-o", "jsonpath={.spec.clusterIP}")
        wait_for_cluster_ip_on_every_node(cluster_ip, 80, {f"{pod_ip}:8080"})
    return k


def client(k: Kubectl, *command: str) -> Result:
    """`kubectl run client --image busybox -i --rm --restart Never -- COMMAND`; its pod is gone
    afterwards, whatever the command's exit code. The command's output is what kubectl printed
    before its own last line, which reports the deletion (`pod "client" deleted`, and in newer
    kubectls `... from <namespace> namespace`), as it does on any cluster."""
    result = k.run(
        "run", "client", "--image", "busybox", "-i", "--rm", "--restart", "Never", "--", *command,
        timeout=120,
    )  # fmt: skip
    gone = k.run("get", "pod", "client", "--ignore-not-found", "-o", "name")
    assert gone.out == "", f"--rm left the pod behind: {gone}"
    assert 'pod "client" deleted' in result.out, result
    output, deleted = result.out.rsplit('pod "client" deleted', 1)
    assert deleted in ("\n", f" from {k.namespace} namespace\n"), result
    # kubectl 1.36 prints the log before attaching; when the attach is refused (the command was
    # over), it prints the log again since a time in whole seconds, so the same second's output
    # comes twice, as on any cluster (kubernetes/kubectl#1848).
    half = len(output) // 2
    if "falling back to streaming logs" in result.err and output == output[:half] * 2:
        output = output[:half]
    return Result(result.code, output, result.err)


def test_wget_with_a_timeout_prints_the_services_page(k: Kubectl) -> None:
    for _ in range(3):
        result = client(k, "wget", "-T", "2", "-qO-", "http://web")
        assert (result.code, result.out) == (0, "hello from busybox httpd\n"), result


def test_wget_gives_up_on_a_server_that_never_answers(k: Kubectl) -> None:
    result = client(k, "wget", "-T", "2", "-qO-", "http://silent")
    # busybox's message and exit code 1, as kubectl reports a failed command: no segfault (139).
    assert result.code == 1, result
    assert "wget: download timed out" in result.out + result.err, result
    assert f"pod {k.namespace}/client terminated (Error)" in result.err, result


def test_wget_shows_the_response_headers(k: Kubectl) -> None:
    result = client(k, "wget", "-S", "--spider", "-T", "2", "http://web")
    assert result.code == 0, result
    assert "HTTP/1.1 200 OK" in result.out + result.err, result


def test_nc_reaches_the_service(k: Kubectl) -> None:
    scan = client(k, "nc", "-z", "-w", "2", "web", "80")
    assert scan.code == 0, scan
    get = client(k, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 80")
    assert get.code == 0 and get.out.endswith("hello from busybox httpd\n"), get


def test_nslookup_asks_the_cluster_dns(k: Kubectl) -> None:
    full = client(k, "nslookup", "kubernetes.default.svc.cluster.local")
    assert full.code == 0, full
    assert full.out.startswith(f"Server:\t\t{CLUSTER_DNS}\nAddress:\t{CLUSTER_DNS}:53\n\n"), full
    assert (
        f"Name:\tkubernetes.default.svc.cluster.local\nAddress: {KUBERNETES_SERVICE}\n" in full.out
    ), full
    # A dotless name goes through the pod's search list: web.<namespace>.svc.cluster.local.
    web_ip = k.ok("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
    web = client(k, "nslookup", "web")
    assert f"Name:\tweb.{k.namespace}.svc.cluster.local\nAddress: {web_ip}\n" in web.out, web


def test_nslookup_asks_a_dotted_name_as_it_is(k: Kubectl) -> None:
    """busybox 1.37's nslookup (Docker Hub's busybox:latest, on any cluster) asks for
    `kubernetes.default` itself, outside the cluster domain: not found, exit code 1; tutorials
    written for busybox 1.28 get this answer on Kubernetes too."""
    short = client(k, "nslookup", "kubernetes.default")
    assert short.code == 1, short
    assert re.search(r"\*\* server can't find kubernetes\.default: (NXDOMAIN|SERVFAIL)", short.out)
    assert not re.search(rf"\b{re.escape(KUBERNETES_SERVICE)}\b", short.out), short
