"""Cluster DNS on the compose cluster, with the real kubectl: the add-on that `make up` deploys
(Deployment kube-system/coredns, 2 replicas, behind the Service kube-dns at 10.96.0.10), each
pod's resolv.conf by dnsPolicy, the service environment variables, and names resolved from pods.

The cluster DNS's Service address 10.96.0.10 is a virtual IP that kube-proxy programs on every
node; most tests here query the DNS pods at their own addresses, to test the server apart from
kube-proxy; two go through 10.96.0.10 as every pod does (one shows that the Service spreads the
queries over both replicas, the last that a pod's own resolver finds names through it)."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.compose_cluster import ROOT
from tests.e2e.kubectl import Kubectl, Result
from tests.e2e.proxy_rules import wait_for_cluster_ip_endpoints
from tests.e2e.waiting import eventually

WEB = ROOT / "examples" / "web-deployment.yaml"
CLUSTER_DNS_IP = "10.96.0.10"
SYSTEM = Kubectl("kube-system")

HEADLESS = """\
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: http, port: 80}
"""


def pod(name: str, extra_spec: str = "") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
{extra_spec}  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


def addresses(nslookup_output: str) -> set[str]:
    """The addresses of busybox nslookup's answers: the `Address:` lines after a `Name:` line (the
    first `Address:` line is the server's own, `10.244.1.3:53`)."""
    _, _, answers = nslookup_output.partition("\nName:")
    return set(re.findall(r"^Address:\s*(\S+)\s*$", answers, re.M))


def resolv_conf(k: Kubectl, pod_name: str) -> dict[str, list[str]]:
    """nameserver, search and options of a pod's /etc/resolv.conf."""
    out: dict[str, list[str]] = {"nameserver": [], "search": [], "options": []}
    for line in k.ok("exec", pod_name, "--", "cat", "/etc/resolv.conf").splitlines():
        words = line.split()
        if words and words[0] in out:
            out[words[0]] += words[1:]
    return out


@pytest.fixture(scope="module")
def dns_pods() -> dict[str, str]:
    """The cluster DNS replicas, rolled out: pod name -> IP."""
    rollout = SYSTEM.run("rollout", "status", "deployment/coredns", "--timeout=180s", timeout=200)
    assert rollout.code == 0, rollout
    out = SYSTEM.ok(
        "get", "pods", "-l", "k8s-app=kube-dns", "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{'\\n'}{end}",
    )  # fmt: skip
    pods = dict(line.split() for line in out.splitlines() if line.strip())
    assert len(pods) == 2, out
    return pods


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Kubectl:
    return Kubectl(kubectl_namespace)


@pytest.fixture(scope="module")
def web(k: Kubectl) -> dict[str, str]:
    """examples/web-deployment.yaml (3 replicas) behind the Service web and the headless
    web-headless; then the client pods (created after the Services: a container gets the
    variables of the Services that exist when it starts). Returns web's cluster IP and the pods'
    IPs (`pods`, space-separated)."""
    k.ok("apply", "-f", str(WEB))
    k.ok("expose", "deployment", "web", "--port", "80", "--name", "web")
    k.ok("apply", "-f", "-", stdin=HEADLESS)
    rollout = k.run("rollout", "status", "deployment/web", "--timeout=120s")
    assert rollout.code == 0, rollout
    k.ok("apply", "-f", "-", stdin=pod("jumpod"))
    k.ok("apply", "-f", "-", stdin=pod("nolinks", "  enableServiceLinks: false\n"))
    k.ok("apply", "-f", "-", stdin=pod("host-resolver", "  dnsPolicy: Default\n"))
    k.ok(
        "apply", "-f", "-",
        stdin=pod(
            "custom",
            "  dnsPolicy: None\n  dnsConfig:\n    nameservers: [1.1.1.1]\n"
            "    searches: [example.org]\n    options: [{name: ndots, value: '2'}]\n",
        ),
    )  # fmt: skip
    for name in ("jumpod", "nolinks", "host-resolver", "custom"):
        wait = k.run("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s")
        assert wait.code == 0, wait
    ips = k.ok("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}")
    return {
        "cluster_ip": k.ok("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"),
        "pods": ips,
    }


def nslookup(k: Kubectl, name: str, server: str = "") -> Result:
    return k.run("exec", "jumpod", "--", "nslookup", name, *([server] if server else []))


# ---------------------------------------------------------------- the kubelet's side


def test_cluster_first_pod_resolv_conf(k: Kubectl, web: dict[str, str]) -> None:
    conf = resolv_conf(k, "jumpod")
    ns = k.namespace
    assert conf["nameserver"] == [CLUSTER_DNS_IP]
    assert conf["search"][:3] == [f"{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert conf["options"] == ["ndots:5"]


def test_default_and_none_policies(k: Kubectl, web: dict[str, str]) -> None:
    # Default: the node's resolver, which pods reach at their bridge's address (10.244.N.1).
    host = resolv_conf(k, "host-resolver")
    assert len(host["nameserver"]) == 1 and re.fullmatch(r"10\.244\.\d+\.1", host["nameserver"][0])
    # ... and through it the compose project's names.
    lookup = k.run("exec", "host-resolver", "--", "nslookup", "registry")
    assert addresses(lookup.out), lookup
    # None: only the pod's dnsConfig.
    assert resolv_conf(k, "custom") == {
        "nameserver": ["1.1.1.1"],
        "search": ["example.org"],
        "options": ["ndots:2"],
    }


def test_service_environment_variables(k: Kubectl, web: dict[str, str]) -> None:
    ip = web["cluster_ip"]
    env = dict(
        line.split("=", 1)
        for line in k.ok("exec", "jumpod", "--", "env").splitlines()
        if "=" in line
    )
    assert env["WEB_SERVICE_HOST"] == ip and env["WEB_SERVICE_PORT"] == "80"
    assert env["WEB_PORT"] == env["WEB_PORT_80_TCP"] == f"tcp://{ip}:80"
    assert (env["WEB_PORT_80_TCP_PROTO"], env["WEB_PORT_80_TCP_ADDR"]) == ("tcp", ip)
    assert "WEB_HEADLESS_SERVICE_HOST" not in env  # headless: no address to give
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    # enableServiceLinks: false: only the kubernetes Service.
    nolinks = k.ok("exec", "nolinks", "--", "env")
    assert "WEB_SERVICE_HOST" not in nolinks and "KUBERNETES_SERVICE_HOST=10.96.0.1" in nolinks


# ---------------------------------------------------------------- the DNS server's side


def test_dns_addon_is_deployed_behind_kube_dns(dns_pods: dict[str, str]) -> None:
    svc = SYSTEM.ok("get", "service", "kube-dns", "-o", "jsonpath={.spec.clusterIP}")
    assert svc == CLUSTER_DNS_IP

    # The endpoints controller writes the Endpoints after the replicas are ready, on its own
    # path: `rollout status` (the Deployment's status) does not wait for it.
    def endpoints() -> set[str]:
        listed = SYSTEM.ok(
            "get", "endpoints", "kube-dns", "-o", "jsonpath={.subsets[*].addresses[*].ip}"
        )
        assert set(listed.split()) == set(dns_pods.values()), listed
        return set(listed.split())

    eventually(endpoints, 60, "the kube-dns Endpoints listing both replicas")


def test_dns_pods_run_as_their_service_account_with_only_its_rights(
    dns_pods: dict[str, str],
) -> None:
    """As kubeadm's CoreDNS: the service account kube-system/coredns, a token in every replica,
    and the ClusterRole system:coredns (list and watch what DNS answers for), nothing more."""
    jsonpath = "jsonpath={.items[*].spec.serviceAccountName}"
    accounts = SYSTEM.ok("get", "pods", "-l", "k8s-app=kube-dns", "-o", jsonpath)
    assert accounts.split() == ["coredns"] * len(dns_pods)
    coredns = "--as=system:serviceaccount:kube-system:coredns"
    for verb, resource in (("watch", "endpointslices.discovery.k8s.io"), ("list", "services")):
        assert SYSTEM.ok("auth", "can-i", verb, resource, "-A", coredns) == "yes\n"
    refused = SYSTEM.run("auth", "can-i", "get", "secrets", coredns)
    assert (refused.code, refused.out) == (1, "no\n")
    pod = next(iter(dns_pods))
    token = SYSTEM.ok(
        "exec", pod, "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"
    )
    assert token.count(".") == 2  # the JWT the kubelet keeps fresh


def test_service_name_resolves_to_its_cluster_ip(
    k: Kubectl, web: dict[str, str], dns_pods: dict[str, str]
) -> None:
    name = f"web.{k.namespace}.svc.cluster.local"
    for server in dns_pods.values():  # each replica answers alike
        answer = nslookup(k, name, server)
        assert addresses(answer.out) == {web["cluster_ip"]}, answer


def test_headless_service_resolves_to_the_pod_ips(
    k: Kubectl, web: dict[str, str], dns_pods: dict[str, str]
) -> None:
    server = next(iter(dns_pods.values()))

    # A headless Service's records are its EndpointSlices' ready endpoints, which the
    # EndpointSlice controller writes and the DNS server's informer receives on their own path,
    # after the pods' readiness that `rollout status` waited for.
    def resolved() -> Result:
        answer = nslookup(k, f"web-headless.{k.namespace}.svc.cluster.local", server)
        assert addresses(answer.out) == set(web["pods"].split()), answer
        return answer

    answer = eventually(resolved, 60, "web-headless resolving to the three pods")
    assert len(addresses(answer.out)) == 3


def test_unknown_names_and_names_outside_the_cluster(
    k: Kubectl, web: dict[str, str], dns_pods: dict[str, str]
) -> None:
    server = next(iter(dns_pods.values()))
    missing = nslookup(k, f"nope.{k.namespace}.svc.cluster.local", server)
    assert "NXDOMAIN" in missing.out + missing.err, missing
    # Outside the cluster domain: forwarded to the node's resolver (which knows the compose
    # project's services).
    forwarded = nslookup(k, "registry.", server)
    assert addresses(forwarded.out), forwarded


def txt_queries(k: Kubectl, server: str) -> float:
    """The TXT queries a DNS replica has answered: its `coredns_dns_requests_total{type="TXT"}`
    (summed over zones and protocols), read from its metrics port."""
    out = k.ok("exec", "jumpod", "--", "wget", "-qO-", f"http://{server}:9153/metrics")
    counts = re.findall(r'^coredns_dns_requests_total\{[^}]*type="TXT"[^}]*\} (\S+)$', out, re.M)
    return sum(float(n) for n in counts)


def test_the_kube_dns_service_spreads_queries_over_both_replicas(
    k: Kubectl, web: dict[str, str], dns_pods: dict[str, str]
) -> None:
    """Queries sent to 10.96.0.10 reach both replicas: kube-proxy picks an endpoint at random
    for each new flow (each nslookup is one, from a port of its own). Counted by each replica's
    metrics for TXT, a query type nothing else in the cluster sends, asking for the zone's
    `dns-version` record (absolute: one query per nslookup, no search-path variants). Runs
    before a replica is killed below, while `dns_pods` are the Service's endpoints."""
    queries = 20  # all on one replica by chance: 2 in 2**20
    # Both replicas in the rules of the jumpod's node: `rollout status` says the replicas are
    # available, not that this node's kube-proxy has them yet (proxy_rules.py).
    node = k.ok("get", "pod", "jumpod", "-o", "jsonpath={.spec.nodeName}")
    dns_endpoints = {f"{ip}:53" for ip in dns_pods.values()}
    wait_for_cluster_ip_endpoints(node, CLUSTER_DNS_IP, 53, dns_endpoints)
    before = {ip: txt_queries(k, ip) for ip in dns_pods.values()}
    ask = f"nslookup -type=TXT dns-version.cluster.local. {CLUSTER_DNS_IP}"
    k.ok("exec", "jumpod", "--", "sh", "-c", f"for i in $(seq {queries}); do {ask} || exit; done")
    grown = {ip: txt_queries(k, ip) - before[ip] for ip in dns_pods.values()}
    assert sum(grown.values()) == queries, grown  # every query reached a replica, once
    assert all(n > 0 for n in grown.values()), grown  # ... and both replicas had some


# It deletes a coredns pod, which the other tests' names resolve through: it runs alone, after the
# tests that share the cluster (conftest.py).
@pytest.mark.disruptive
def test_killing_one_replica_leaves_resolution_working(
    k: Kubectl, web: dict[str, str], dns_pods: dict[str, str]
) -> None:
    """A client whose resolver lists both replicas at their own addresses (the resolver tries
    the next when one does not answer; the Service's own spreading is the test above) resolves
    while one replica is gone, and the Deployment brings the second back."""
    servers = list(dns_pods.values())
    k.ok(
        "apply", "-f", "-",
        stdin=pod(
            "two-servers",
            f"  dnsPolicy: None\n  dnsConfig:\n    nameservers: [{servers[0]}, {servers[1]}]\n",
        ),
    )  # fmt: skip
    assert k.run("wait", "--for=condition=Ready", "pod/two-servers", "--timeout=120s").code == 0
    name = f"web.{k.namespace}.svc.cluster.local"
    killed = next(p for p, ip in dns_pods.items() if ip == servers[0])
    SYSTEM.ok("delete", "pod", killed, "--wait=false")
    # While the replica stops (it answers on, not ready, for its lameduck seconds) and after it
    # is gone (its address answers nothing), every lookup succeeds.
    after_gone = 0
    deadline = time.monotonic() + 120
    while after_gone < 3:
        assert time.monotonic() < deadline, f"{killed} still listed or answering after 120 s"
        gone = killed not in SYSTEM.ok("get", "pods", "-l", "k8s-app=kube-dns", "-o", "name")
        answer = k.run("exec", "two-servers", "--", "nslookup", name)
        assert addresses(answer.out) == {web["cluster_ip"]}, answer
        after_gone += gone

    def two_ready() -> bool:
        out = SYSTEM.ok("get", "deployment", "coredns", "-o", "jsonpath={.status.readyReplicas}")
        names = SYSTEM.ok("get", "pods", "-l", "k8s-app=kube-dns", "-o", "name")
        return out == "2" and f"pod/{killed}" not in names

    eventually(two_ready, 120, "the Deployment to bring back a second DNS replica")


# ---------------------------------------------------------------- through the Service address


def test_names_resolve_through_the_kube_dns_service(k: Kubectl, web: dict[str, str]) -> None:
    """The pod's own resolver (10.96.0.10, the kube-dns Service, reached through kube-proxy's
    rules; the search path) finds `web`."""
    answer = nslookup(k, "web")
    assert addresses(answer.out) == {web["cluster_ip"]}, answer

    # The headless Service's endpoints reach each replica's informer on their own (the test
    # above asked one replica; 10.96.0.10 may lead to the other).
    def headless() -> Result:
        answer = nslookup(k, "web-headless")
        assert addresses(answer.out) == set(web["pods"].split()), answer
        return answer

    eventually(headless, 60, "web-headless resolving to the three pods through 10.96.0.10")
