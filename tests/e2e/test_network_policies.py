"""NetworkPolicies on the compose cluster, with the real kubectl: the agent running on every
node (python -m netpol --pod-routes, the node's own process: docker/node-entrypoint.sh), then
deny and allow between pods on different nodes as policies are applied and
deleted, and names resolved through the cluster DNS under an egress policy that allows only
DNS (UDP and TCP 53 to kube-system's k8s-app=kube-dns pods)."""

from __future__ import annotations

import functools

import pytest

from netpol.iptables import rules
from tests.e2e.compose_cluster import compose
from tests.e2e.kubectl import Kubectl
from tests.e2e.waiting import eventually


def pod(name: str, node: str, labels: str, command: str) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{{labels}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, {command!r}]
"""


WEB = "mkdir /www && echo web > /www/index.html && exec httpd -f -p 8080 -h /www"
SLEEP = "exec sleep 3600"

DENY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""

ALLOW_CLIENTS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-clients
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports:
    - {protocol: TCP, port: 8080}
"""

DNS_ONLY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: dns-only
spec:
  podSelector: {matchLabels: {role: resolver}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
"""


@pytest.fixture(scope="module")
def agents() -> None:
    """The agent running on every node: its first sync has hooked its chain into the node's
    mangle FORWARD, as it does before any policy exists."""
    hook = " ".join(f'"{word}"' if " " in word else word for word in rules.HOOK_RULE)
    for node in ("node-1", "node-2", "node-3"):

        def hooked(node: str = node) -> bool:
            shown = compose("exec", "-T", node, "iptables", "-t", rules.TABLE, "-S")
            return f"-A {rules.HOOK_CHAIN} {hook}" in shown.stdout.splitlines()

        eventually(hooked, 60, f"the network policy agent's hook on {node}")


def running_ip(k: Kubectl, name: str) -> str:
    def ip() -> str:
        out = k.ok("get", "pod", name, "-o", "jsonpath={.status.phase} {.status.podIP}")
        phase, _, address = out.partition(" ")
        return address if phase == "Running" else ""

    return eventually(ip, 120, f"pod {name} running")


def fetch(k: Kubectl, client: str, url: str) -> str:
    """What `client` gets from url, "" when it cannot connect (busybox's wget crashes with -T:
    timeout(1) bounds it)."""
    result = k.run("exec", client, "--", "timeout", "3", "wget", "-qO-", url, timeout=30)
    return result.out.strip() if result.code == 0 else ""


def test_deny_and_allow_between_pods_on_different_nodes(
    agents: None, kubectl_namespace: str
) -> None:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=pod("web", "node-1", "app: web", WEB))
    k.ok("apply", "-f", "-", stdin=pod("client-a", "node-2", "role: client", SLEEP))
    k.ok("apply", "-f", "-", stdin=pod("client-b", "node-3", "role: other", SLEEP))
    url = f"http://{running_ip(k, 'web')}:8080/"
    for client in ("client-a", "client-b"):
        running_ip(k, client)

    def reached(client: str, expected: bool) -> bool:
        return (fetch(k, client, url) == "web") == expected

    def each(expected: bool, what: str) -> None:
        for client in ("client-a", "client-b"):
            check = functools.partial(reached, client, expected)
            eventually(check, 60, f"{client} -> web: {what}")

    each(True, "before any policy")
    k.ok("apply", "-f", "-", stdin=DENY_INGRESS)
    each(False, "denied by default deny")
    k.ok("apply", "-f", "-", stdin=ALLOW_CLIENTS)
    eventually(lambda: reached("client-a", True), 60, "client-a allowed by its label")
    assert reached("client-b", False)
    k.ok("delete", "networkpolicy", "default-deny-ingress", "allow-clients")
    eventually(lambda: reached("client-b", True), 60, "client-b reaches web once deleted")


def test_dns_resolves_under_an_egress_policy_that_allows_only_dns(
    agents: None, kubectl_namespace: str
) -> None:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=pod("dns-web", "node-3", "app: dns-web", WEB))
    k.ok("apply", "-f", "-", stdin=pod("resolver", "node-2", "role: resolver", SLEEP))
    url = f"http://{running_ip(k, 'dns-web')}:8080/"
    running_ip(k, "resolver")
    eventually(lambda: fetch(k, "resolver", url) == "web", 60, "resolver -> web before")
    k.ok("apply", "-f", "-", stdin=DNS_ONLY)
    eventually(lambda: fetch(k, "resolver", url) == "", 60, "egress to web denied")

    def resolves() -> bool:
        result = k.run(
            "exec", "resolver", "--", "nslookup", "kubernetes.default.svc.cluster.local",
            timeout=30,
        )  # fmt: skip
        return result.code == 0 and "10.96.0.1" in result.out

    eventually(resolves, 60, "the cluster DNS answers through 10.96.0.10 under the policy")
    k.ok("delete", "networkpolicy", "dns-only")
