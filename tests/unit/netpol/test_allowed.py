"""What policies allow, per local pod and direction: the cases of Kubernetes' NetworkPolicy
documentation and e2e suite, as tables of a pod, the policies and the Allow rows expected."""

from __future__ import annotations

from typing import Any

import pytest

from netpol.policy.allowed import Allow, Peer, PolicySet
from netpol.policy.pods import PodInfo, pod_info
from podplane.api.core.v1 import core_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import manifest

NAMESPACES = {
    "x": {"kubernetes.io/metadata.name": "x", "team": "a"},
    "y": {"kubernetes.io/metadata.name": "y", "team": "b"},
    "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
}
WEB = PodInfo("x", "web", "10.244.1.2", "node-1", {"app": "web"}, {("http", "TCP"): 8080})
CLIENT = PodInfo("x", "client", "10.244.1.3", "node-1", {"app": "client"})
OTHER = PodInfo("y", "other", "10.244.2.4", "node-2", {"app": "client"}, {("http", "TCP"): 9090})
DNS = PodInfo("kube-system", "dns", "10.244.3.5", "node-3", {"k8s-app": "kube-dns"})
PODS = [WEB, CLIENT, OTHER, DNS]


def policy(name: str, spec: dict[str, Any], namespace: str = "x") -> networking_pb2.NetworkPolicy:
    return manifest.from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        },
        networking_pb2.NetworkPolicy,
    )


def pods(*ips: str) -> tuple[Peer, ...]:
    return tuple((f"{ip}/32", ()) for ip in ips)


WEB_ONLY = {"matchLabels": {"app": "web"}}

INGRESS_CASES = [
    ("no policy: not isolated", [], None),
    (
        "default deny ingress",
        [{"podSelector": {}, "policyTypes": ["Ingress"]}],
        (),
    ),
    (
        "allow all ingress",
        [{"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}],
        (Allow(),),
    ),
    (
        "policy of another pod: not isolated",
        [{"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]}],
        None,
    ),
    (
        "egress-only policy: not isolated for ingress",
        [{"podSelector": {}, "policyTypes": ["Egress"]}],
        None,
    ),
    (
        "no policyTypes: Ingress",
        [{"podSelector": WEB_ONLY}],
        (),
    ),
    (
        "from pods by label, same namespace only",
        [
            {
                "podSelector": WEB_ONLY,
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}],
            }
        ],
        (Allow(pods("10.244.1.3")),),
    ),
    (
        "from a namespace",
        [
            {
                "podSelector": WEB_ONLY,
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}],
            }
        ],
        (Allow(pods("10.244.2.4")),),
    ),
    (
        "from pods by label in namespaces (both in one peer)",
        [
            {
                "podSelector": WEB_ONLY,
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {},
                                "podSelector": {"matchLabels": {"app": "client"}},
                            }
                        ]
                    }
                ],
            }
        ],
        (Allow(pods("10.244.1.3", "10.244.2.4")),),
    ),
    (
        "ipBlock with except",
        [
            {
                "podSelector": WEB_ONLY,
                "ingress": [
                    {"from": [{"ipBlock": {"cidr": "10.244.0.0/16", "except": ["10.244.2.0/24"]}}]}
                ],
            }
        ],
        (Allow((("10.244.0.0/16", ("10.244.2.0/24",)),)),),
    ),
    (
        "ports: number, range, named (resolved on the pod), unknown name matches nothing",
        [
            {
                "podSelector": WEB_ONLY,
                "ingress": [
                    {
                        "ports": [
                            {"port": 80},
                            {"protocol": "UDP", "port": 5000, "endPort": 5010},
                            {"port": "http"},
                            {"port": "nope"},
                            {"protocol": "SCTP"},
                        ]
                    }
                ],
            }
        ],
        (
            Allow(None, "TCP", (80, 80)),
            Allow(None, "UDP", (5000, 5010)),
            Allow(None, "TCP", (8080, 8080)),
            Allow(None, "SCTP", None),
        ),
    ),
    (
        "policies are additive",
        [
            {"podSelector": {}, "policyTypes": ["Ingress"]},
            {"podSelector": WEB_ONLY, "ingress": [{"ports": [{"port": 80}]}]},
        ],
        (Allow(None, "TCP", (80, 80)),),
    ),
]


@pytest.mark.parametrize(
    ("case", "specs", "expected"), INGRESS_CASES, ids=[c[0] for c in INGRESS_CASES]
)
def test_ingress(case: str, specs: list[dict[str, Any]], expected: Any) -> None:
    policies = [policy(f"p{i}", s) for i, s in enumerate(specs)]
    assert PolicySet(policies, PODS, NAMESPACES).rules_of(WEB).ingress == expected


EGRESS_CASES = [
    ("ingress-only policy: not isolated", [{"podSelector": {}}], None),
    ("default deny egress", [{"podSelector": {}, "policyTypes": ["Egress"]}], ()),
    (
        "egress rules without policyTypes: both",
        [{"podSelector": {}, "egress": [{"ports": [{"port": 443}]}]}],
        (Allow(None, "TCP", (443, 443)),),
    ),
    (
        "DNS only",
        [
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            }
        ],
        (Allow(pods("10.244.3.5"), "UDP", (53, 53)), Allow(pods("10.244.3.5"), "TCP", (53, 53))),
    ),
    (
        "named port resolved on each destination pod",
        [{"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "http"}]}]}],
        (
            Allow(pods("10.244.1.2"), "TCP", (8080, 8080)),
            Allow(pods("10.244.2.4"), "TCP", (9090, 9090)),
        ),
    ),
    (
        "named port to an ipBlock: its pods with the port",
        [
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"ipBlock": {"cidr": "10.244.2.0/24"}}], "ports": [{"port": "http"}]}
                ],
            }
        ],
        (Allow(pods("10.244.2.4"), "TCP", (9090, 9090)),),
    ),
]


@pytest.mark.parametrize(
    ("case", "specs", "expected"), EGRESS_CASES, ids=[c[0] for c in EGRESS_CASES]
)
def test_egress(case: str, specs: list[dict[str, Any]], expected: Any) -> None:
    policies = [policy(f"p{i}", s) for i, s in enumerate(specs)]
    assert PolicySet(policies, PODS, NAMESPACES).rules_of(CLIENT).egress == expected


def test_a_policy_of_another_namespace_does_not_isolate() -> None:
    policies = [policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, "y")]
    rules = PolicySet(policies, PODS, NAMESPACES).rules_of(WEB)
    assert (rules.ingress, rules.egress) == (None, None)


def test_pods_without_their_own_address_take_no_part() -> None:
    pod = core_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace = "p", "x"
    pod.spec.node_name = "node-1"
    assert pod_info(pod) is None  # no IP yet
    pod.status.pod_ip = "10.244.1.9"
    pod.spec.containers.add(name="c").ports.add(name="http", container_port=80)
    info = pod_info(pod)
    assert info is not None and info.port_named("http", "TCP") == 80
    pod.status.phase = "Succeeded"
    assert pod_info(pod) is None
    pod.status.phase = "Running"
    pod.spec.host_network = True
    assert pod_info(pod) is None
