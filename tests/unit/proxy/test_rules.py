"""The rules kube-proxy writes, as a table of cases: each service port's maps in, its rules out,
as Kubernetes' iptables proxier (pkg/proxy/iptables/proxier.go) writes them for the same
Service and EndpointSlices. Rules are compared chain by chain, in order (the order of a chain's
random-balancing rules is what makes each endpoint equally likely)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from proxy.iptables import chains as ch
from proxy.iptables.rules import RulesConfig, build_rules, probability
from proxy.state.endpoints import EndpointInfo
from proxy.state.service_port import ServiceName, ServicePortInfo, ServicePortName

WEB = ServicePortName("ns", "web", "http", "TCP")
DNS = ServicePortName("ns", "dns", "dns", "UDP")
CIDR = "10.244.0.0/16"
# Chain names are Kubernetes' hashes (see test_chain_names_are_kubernetes_hashes); the cases
# below name them by these placeholders.
NAMES = {
    "SVC": "KUBE-SVC-HMALVVKA6APKJPPY",
    "SVL": "KUBE-SVL-HMALVVKA6APKJPPY",
    "EXT": "KUBE-EXT-HMALVVKA6APKJPPY",
    "FW": "KUBE-FW-HMALVVKA6APKJPPY",
    "SEP1": "KUBE-SEP-DT6VVTARLVVOS44S",  # 10.244.1.2:8080, on this node
    "SEP2": "KUBE-SEP-UIWTE3FGYOI3WOYB",  # 10.244.2.3:8080
    "SEP3": "KUBE-SEP-SR2ZID6L5KFKRSOS",  # 10.244.3.4:8080
    "SEP10": "KUBE-SEP-KCSGL6PRDEXKPQMB",  # 10.244.1.10:8080
}
EP1 = EndpointInfo("10.244.1.2", 8080, is_local=True)
EP2 = EndpointInfo("10.244.2.3", 8080)
EP3 = EndpointInfo("10.244.3.4", 8080)
CLUSTER_IP = ServicePortInfo("10.96.0.20", 80, "TCP")
NODE_PORT = ServicePortInfo("10.96.0.20", 80, "TCP", node_port=30080)
LOCAL_NODE_PORT = ServicePortInfo(
    "10.96.0.20", 80, "TCP", node_port=30080, external_policy_local=True
)

# Rules every sync writes whatever the services; the cases leave them out.
FIXED_CHAINS = {
    ch.KUBE_POSTROUTING,
    ch.KUBE_MARK_MASQ,
    ch.KUBE_FORWARD,
    ch.KUBE_FIREWALL,
}
NODEPORTS_LAST = "kubernetes service nodeports"


def expected(text: str) -> list[str]:
    """A case's rules, placeholders replaced by chain names."""
    lines = []
    for line in text.splitlines():
        for placeholder, name in NAMES.items():
            line = re.sub(rf"(?<![-\w]){placeholder}(?![-\w])", name, line)
        lines.append(line)
    return lines


def by_chain(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line:
            continue
        assert line.startswith("-A "), line
        chain = line.split()[1]
        if chain in FIXED_CHAINS or NODEPORTS_LAST in line:
            continue
        out.setdefault(chain, []).append(line)
    return out


@dataclass
class Case:
    id: str
    svc: ServicePortInfo
    endpoints: tuple[EndpointInfo, ...]
    nat: str
    filter: str = ""
    config: RulesConfig = field(default_factory=lambda: RulesConfig(cluster_cidr=CIDR))
    name: ServicePortName = WEB


CASES = [
    Case(
        "cluster IP, one endpoint: jump, masquerade off-cluster sources, DNAT",
        CLUSTER_IP,
        (EP2,),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "three endpoints: 1/3, then 1/2, then the last for sure",
        CLUSTER_IP,
        (EP1, EP2, EP3),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A SVC -m comment --comment "ns/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.3333333333 -j SEP1
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -m statistic --mode random --probability 0.5000000000 -j SEP2
        -A SVC -m comment --comment "ns/web:http -> 10.244.3.4:8080" -j SEP3
        -A SEP1 -m comment --comment ns/web:http -s 10.244.1.2 -j KUBE-MARK-MASQ
        -A SEP1 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.2:8080
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        -A SEP3 -m comment --comment ns/web:http -s 10.244.3.4 -j KUBE-MARK-MASQ
        -A SEP3 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.3.4:8080
        """,  # noqa: E501
    ),
    Case(
        "no endpoints: no nat rules, REJECT in filter (connection refused at once)",
        NODE_PORT,
        (),
        nat="",
        filter="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http has no endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j REJECT
        -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT
        """,  # noqa: E501
    ),
    Case(
        "not ready endpoints are not used: as none at all",
        CLUSTER_IP,
        (EndpointInfo("10.244.2.3", 8080, ready=False, serving=False),),
        nat="",
        filter="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http has no endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j REJECT
        """,  # noqa: E501
    ),
    Case(
        "only terminating but serving endpoints: used rather than none (KEP-1669)",
        CLUSTER_IP,
        (
            EndpointInfo("10.244.2.3", 8080, ready=False, serving=True, terminating=True),
            EndpointInfo("10.244.3.4", 8080, ready=False, serving=False, terminating=True),
        ),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "node port, Cluster policy: KUBE-NODEPORTS to EXT, which masquerades",
        NODE_PORT,
        (EP2,),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j EXT
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
        -A EXT -j SVC
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "node port, Local policy: outside traffic to this node's endpoints only (SVL), the "
        "node's and pods' own to any (SVC)",
        LOCAL_NODE_PORT,
        (EP1, EP2),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j EXT
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "pod traffic for ns/web:http external destinations" -s 10.244.0.0/16 -j SVC
        -A EXT -m comment --comment "masquerade LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "route LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j SVC
        -A EXT -j SVL
        -A SVC -m comment --comment "ns/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.5000000000 -j SEP1
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SVL -m comment --comment "ns/web:http -> 10.244.1.2:8080" -j SEP1
        -A SEP1 -m comment --comment ns/web:http -s 10.244.1.2 -j KUBE-MARK-MASQ
        -A SEP1 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.2:8080
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "node port, Local policy, no endpoint here: outside traffic dropped, the rest served",
        LOCAL_NODE_PORT,
        (EP2,),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j EXT
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "pod traffic for ns/web:http external destinations" -s 10.244.0.0/16 -j SVC
        -A EXT -m comment --comment "masquerade LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "route LOCAL traffic for ns/web:http external destinations" -m addrtype --src-type LOCAL -j SVC
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
        filter="""
        -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP
        """,  # noqa: E501
    ),
    Case(
        "internalTrafficPolicy Local, no endpoint here: the cluster IP drops",
        ServicePortInfo("10.96.0.20", 80, "TCP", internal_policy_local=True),
        (EP2,),
        nat="",
        filter="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http has no local endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j DROP
        """,  # noqa: E501
    ),
    Case(
        "internalTrafficPolicy Local: the cluster IP goes to SVL, this node's endpoints",
        ServicePortInfo("10.96.0.20", 80, "TCP", internal_policy_local=True),
        (EP1, EP2),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVL
        -A SVL -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A SVL -m comment --comment "ns/web:http -> 10.244.1.2:8080" -j SEP1
        -A SEP1 -m comment --comment ns/web:http -s 10.244.1.2 -j KUBE-MARK-MASQ
        -A SEP1 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.1.2:8080
        """,  # noqa: E501
    ),
    Case(
        "sessionAffinity ClientIP: a client's last endpoint first (-m recent), then at random",
        ServicePortInfo("10.96.0.20", 80, "TCP", sticky_max_age_seconds=10800),
        (EP2, EP3),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -m recent --name SEP2 --rcheck --seconds 10800 --reap -j SEP2
        -A SVC -m comment --comment "ns/web:http -> 10.244.3.4:8080" -m recent --name SEP3 --rcheck --seconds 10800 --reap -j SEP3
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -m statistic --mode random --probability 0.5000000000 -j SEP2
        -A SVC -m comment --comment "ns/web:http -> 10.244.3.4:8080" -j SEP3
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m recent --name SEP2 --set -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        -A SEP3 -m comment --comment ns/web:http -s 10.244.3.4 -j KUBE-MARK-MASQ
        -A SEP3 -m comment --comment ns/web:http -m recent --name SEP3 --set -m tcp -p tcp -j DNAT --to-destination 10.244.3.4:8080
        """,  # noqa: E501
    ),
    Case(
        "external IP: to EXT; without endpoints, REJECT in KUBE-EXTERNAL-SERVICES",
        ServicePortInfo("10.96.0.20", 80, "TCP", external_ips=("192.0.2.10",)),
        (EP2,),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A KUBE-SERVICES -m comment --comment "ns/web:http external IP" -m tcp -p tcp -d 192.0.2.10 --dport 80 -j EXT
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
        -A EXT -j SVC
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "load balancer IP with source ranges: through FW, the rest dropped",
        ServicePortInfo(
            "10.96.0.20",
            80,
            "TCP",
            node_port=30080,
            load_balancer_vips=("198.51.100.7",),
            load_balancer_source_ranges=("203.0.113.0/24",),
        ),
        (EP2,),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A KUBE-SERVICES -m comment --comment "ns/web:http loadbalancer IP" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j FW
        -A KUBE-NODEPORTS -m comment --comment ns/web:http -m tcp -p tcp --dport 30080 -j EXT
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A EXT -m comment --comment "masquerade traffic for ns/web:http external destinations" -j KUBE-MARK-MASQ
        -A EXT -j SVC
        -A FW -m comment --comment "ns/web:http loadbalancer IP" -s 203.0.113.0/24 -j EXT
        -A FW -m comment --comment "other traffic to ns/web:http will be dropped by KUBE-PROXY-FIREWALL"
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
        filter="""
        -A KUBE-PROXY-FIREWALL -m comment --comment "ns/web:http traffic not accepted by FW" -m tcp -p tcp -d 198.51.100.7 --dport 80 -j DROP
        """,  # noqa: E501
    ),
    Case(
        "health check node port of a Local load balancer: accepted",
        ServicePortInfo(
            "10.96.0.20",
            80,
            "TCP",
            node_port=30080,
            health_check_node_port=32000,
            external_policy_local=True,
        ),
        (),
        nat="",
        filter="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http has no endpoints" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j REJECT
        -A KUBE-EXTERNAL-SERVICES -m comment --comment "ns/web:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT
        -A KUBE-NODEPORTS -m comment --comment "ns/web:http health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT
        """,  # noqa: E501
    ),
    Case(
        "UDP",
        ServicePortInfo("10.96.0.10", 53, "UDP"),
        (EndpointInfo("10.244.1.5", 53),),
        name=DNS,
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 -j KUBE-SVC-NEXYWIMJL2KQZCDE
        -A KUBE-SVC-NEXYWIMJL2KQZCDE -m comment --comment "ns/dns:dns cluster IP" -m udp -p udp -d 10.96.0.10 --dport 53 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ
        -A KUBE-SVC-NEXYWIMJL2KQZCDE -m comment --comment "ns/dns:dns -> 10.244.1.5:53" -j KUBE-SEP-E52OK72IVZR5K4U7
        -A KUBE-SEP-E52OK72IVZR5K4U7 -m comment --comment ns/dns:dns -s 10.244.1.5 -j KUBE-MARK-MASQ
        -A KUBE-SEP-E52OK72IVZR5K4U7 -m comment --comment ns/dns:dns -m udp -p udp -j DNAT --to-destination 10.244.1.5:53
        """,  # noqa: E501
    ),
    Case(
        "no cluster CIDR: off-cluster traffic cannot be told apart, nothing is masqueraded",
        CLUSTER_IP,
        (EP2,),
        config=RulesConfig(),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
    Case(
        "masquerade all: every cluster IP connection",
        CLUSTER_IP,
        (EP2,),
        config=RulesConfig(cluster_cidr=CIDR, masquerade_all=True),
        nat="""
        -A KUBE-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j SVC
        -A SVC -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-MARK-MASQ
        -A SVC -m comment --comment "ns/web:http -> 10.244.2.3:8080" -j SEP2
        -A SEP2 -m comment --comment ns/web:http -s 10.244.2.3 -j KUBE-MARK-MASQ
        -A SEP2 -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.244.2.3:8080
        """,  # noqa: E501
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rules_of_a_service_port(case: Case) -> None:
    out = build_rules({case.name: case.svc}, {case.name: case.endpoints}, case.config)
    assert by_chain(out.nat_rules) == by_chain(expected(case.nat))
    assert by_chain(out.filter_rules) == by_chain(expected(case.filter))
    # Every chain a rule is in or jumps to is declared.
    declared = {line[1:].split()[0] for line in out.nat_chains}
    used = {line.split()[1] for line in out.nat_rules} | {
        m.group(1) for line in out.nat_rules for m in [re.search(r"-j (KUBE-\S+)", line)] if m
    }
    assert used <= declared


def test_endpoints_are_in_the_order_given() -> None:
    """The maps hold each port's endpoints sorted by "ip:port" (as Kubernetes sorts them):
    10.244.1.10 before 10.244.1.2."""
    ep10 = EndpointInfo("10.244.1.10", 8080)
    out = build_rules({WEB: CLUSTER_IP}, {WEB: (ep10, EP1)}, RulesConfig())
    svc = [r for r in out.nat_rules if r.startswith(f"-A {NAMES['SVC']} ")]
    assert [r.rsplit(" ", 1)[1] for r in svc] == [NAMES["SEP10"], NAMES["SEP1"]]


def test_chain_names_are_kubernetes_hashes() -> None:
    # The values Kubernetes' own proxier tests expect for "ns1/svc1:p80" and its endpoint.
    assert ch.service_chains("ns1/svc1:p80", "TCP")[0] == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert ch.endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80") == (
        "KUBE-SEP-SXIVWICOYRO3J4NJ"
    )
    assert str(ServicePortName("ns", "web", "", "TCP")) == "ns/web"


@pytest.mark.parametrize(
    ("n", "expected"),
    [(2, "0.5000000000"), (3, "0.3333333333"), (7, "0.1428571429"), (1000, "0.0010000000")],
)
def test_probability_is_one_in_n_with_ten_decimals(n: int, expected: str) -> None:
    assert probability(n) == expected


@pytest.mark.parametrize(
    ("config", "nat", "filter_"),
    [
        (
            RulesConfig(),
            [
                "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
                "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
                '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring '
                'SNAT" -j MASQUERADE',
                "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
                '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this '
                'must be the last rule in this chain" -m addrtype --dst-type LOCAL '
                "-j KUBE-NODEPORTS",
            ],
            [
                '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" '
                "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate "
                "RELATED,ESTABLISHED,DNAT -j DROP",
                "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
                '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" '
                "-m mark --mark 0x4000/0x4000 -j ACCEPT",
                '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
                "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            ],
        ),
        (
            RulesConfig(
                masquerade_mark="0x004000",
                localhost_nodeports=False,
                conntrack_tcp_liberal=True,
                random_fully=True,
            ),
            [
                "-A KUBE-POSTROUTING -m mark ! --mark 0x004000/0x004000 -j RETURN",
                "-A KUBE-POSTROUTING -j MARK --xor-mark 0x004000",
                '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring '
                'SNAT" -j MASQUERADE --random-fully',
                "-A KUBE-MARK-MASQ -j MARK --or-mark 0x004000",
                '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this '
                'must be the last rule in this chain" -m addrtype --dst-type LOCAL '
                "! -d 127.0.0.0/8 -j KUBE-NODEPORTS",
            ],
            [
                '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" '
                "-m mark --mark 0x004000/0x004000 -j ACCEPT",
                '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
                "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            ],
        ),
    ],
    ids=["defaults", "localhost node ports off, liberal conntrack, --random-fully"],
)
def test_rules_every_sync_writes(config: RulesConfig, nat: list[str], filter_: list[str]) -> None:
    out = build_rules({}, {}, config)
    assert out.nat_rules == nat
    assert out.filter_rules == filter_
    assert out.restore_input() == "\n".join(
        [
            "*filter",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-EXTERNAL-SERVICES - [0:0]",
            ":KUBE-FORWARD - [0:0]",
            ":KUBE-NODEPORTS - [0:0]",
            ":KUBE-PROXY-FIREWALL - [0:0]",
            *([":KUBE-FIREWALL - [0:0]"] if config.localhost_nodeports else []),
            *filter_,
            "COMMIT",
            "*nat",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-NODEPORTS - [0:0]",
            ":KUBE-POSTROUTING - [0:0]",
            ":KUBE-MARK-MASQ - [0:0]",
            *nat,
            "COMMIT",
            "",
        ]
    )


def test_the_node_ports_rule_is_last_in_kube_services() -> None:
    out = build_rules({WEB: NODE_PORT}, {WEB: (EP1,)}, RulesConfig(cluster_cidr=CIDR))
    services = [r for r in out.nat_rules if r.startswith("-A KUBE-SERVICES ")]
    assert NODEPORTS_LAST in services[-1]
    assert len(services) == 2


def test_large_clusters_leave_out_per_endpoint_comments() -> None:
    """Past 1000 endpoints, SEP and balancing rules carry no comment (the input is smaller)."""
    endpoints = tuple(EndpointInfo(f"10.244.{i // 250}.{i % 250 + 1}", 80) for i in range(1001))
    out = build_rules({WEB: CLUSTER_IP}, {WEB: endpoints}, RulesConfig(cluster_cidr=CIDR))
    sep = [r for r in out.nat_rules if r.startswith("-A KUBE-SEP-")]
    balancing = [r for r in out.nat_rules if r.startswith(f"-A {NAMES['SVC']} ")]
    assert len(sep) == 2002
    assert all("--comment" not in r for r in sep + balancing[1:])
    assert "--comment" in balancing[0]  # the masquerade rule keeps its comment
    assert balancing[1].endswith(
        "-m statistic --mode random --probability 0.0009990010 -j "
        + ch.endpoint_chain("ns/web:http", "tcp", "10.244.0.1:80")
    )


OLD = ServicePortName("ns", "old", "http", "TCP")


def test_a_partial_sync_writes_only_the_changed_services_chains() -> None:
    services = {WEB: CLUSTER_IP, OLD: ServicePortInfo("10.96.0.30", 80, "TCP")}
    endpoints = {WEB: (EP2,), OLD: (EP3,)}
    full = build_rules(services, endpoints, RulesConfig(cluster_cidr=CIDR))
    partial = build_rules(
        services, endpoints, RulesConfig(cluster_cidr=CIDR), changed={ServiceName("ns", "web")}
    )
    old_chain = ch.service_chains("ns/old:http", "tcp")[0]
    # KUBE-SERVICES is whole in both; old's own chains are only in the full one.
    kube_services = [r for r in full.nat_rules if r.startswith("-A KUBE-SERVICES")]
    assert [r for r in partial.nat_rules if r.startswith("-A KUBE-SERVICES")] == kube_services
    assert any(r.startswith(f"-A {old_chain}") for r in full.nat_rules)
    assert not any(old_chain in c for c in partial.nat_chains)
    assert not any(r.startswith(f"-A {old_chain}") for r in partial.nat_rules)
    # Still in use: not deleted by the next sync.
    assert partial.active_nat_chains == full.active_nat_chains
    assert partial.skipped_nat_rules == 4  # old's masquerade, balancing and SEP rules


def test_chains_no_service_uses_are_deleted_and_others_left_alone() -> None:
    old_svc, _, _, _ = ch.service_chains("ns/old:http", "tcp")
    existing = {old_svc, "KUBE-SEP-AAAAAAAAAAAAAAAA", "DOCKER", "KUBE-SERVICES", NAMES["SVC"]}
    out = build_rules({WEB: CLUSTER_IP}, {WEB: (EP2,)}, RulesConfig(), existing_nat_chains=existing)
    assert [r for r in out.nat_rules if r.startswith("-X")] == [
        "-X KUBE-SEP-AAAAAAAAAAAAAAAA",
        f"-X {old_svc}",
    ]
    assert out.deleted_chains == 2
    # A deleted chain is declared (flushed) first, as iptables-restore requires.
    assert f":{old_svc} - [0:0]" in out.nat_chains
