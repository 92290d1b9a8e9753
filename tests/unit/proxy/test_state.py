"""What kube-proxy makes of Services and EndpointSlices: each port's settings, its endpoints per
service port, which endpoints a node's traffic uses, and which events change the rules at all.
Tables of cases."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from proxy.state.endpoints import EndpointInfo, service_endpoints
from proxy.state.service_port import ServiceName, ServicePortInfo, ServicePortName, service_ports
from proxy.state.topology import categorize_endpoints
from proxy.state.tracker import ProxyState
from tests.unit.proxy.objects import endpoint_slice, ep, service

WEB = ServiceName("ns", "web")
HTTP = ServicePortName("ns", "web", "http", "TCP")


# ------------------------------------------------------------------ service ports
SERVICE_CASES: list[tuple[str, service_pb2.Service, dict[ServicePortName, ServicePortInfo]]] = [
    (
        "a cluster IP port",
        service(),
        {HTTP: ServicePortInfo("10.96.0.20", 80, "TCP")},
    ),
    ("headless: not proxied", service({"clusterIP": "None", "clusterIPs": ["None"]}), {}),
    (
        "ExternalName: not proxied",
        service({"type": "ExternalName", "clusterIP": "", "clusterIPs": [], "ports": []}),
        {},
    ),
    (
        "another proxy's: not proxied",
        service(labels={"service.kubernetes.io/service-proxy-name": "other"}),
        {},
    ),
    (
        "an IPv6 service: not this proxier's family",
        service({"clusterIP": "fd00::20", "clusterIPs": ["fd00::20"]}),
        {},
    ),
    (
        "ClientIP affinity without a timeout: 10800 s",
        service({"sessionAffinity": "ClientIP"}),
        {HTTP: ServicePortInfo("10.96.0.20", 80, "TCP", sticky_max_age_seconds=10800)},
    ),
    (
        "ClientIP affinity with a timeout",
        service(
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            }
        ),
        {HTTP: ServicePortInfo("10.96.0.20", 80, "TCP", sticky_max_age_seconds=60)},
    ),
    (
        "NodePort with Local policy and both port numbers; UDP and TCP ports",
        service(
            {
                "type": "NodePort",
                "externalTrafficPolicy": "Local",
                "ports": [
                    {
                        "name": "dns",
                        "port": 53,
                        "targetPort": "53",
                        "protocol": "UDP",
                        "nodePort": 30053,
                    },
                    {
                        "name": "dns-tcp",
                        "port": 53,
                        "targetPort": "53",
                        "protocol": "TCP",
                        "nodePort": 30053,
                    },
                ],
            }
        ),
        {
            ServicePortName("ns", "web", "dns", "UDP"): ServicePortInfo(
                "10.96.0.20", 53, "UDP", node_port=30053, external_policy_local=True
            ),
            ServicePortName("ns", "web", "dns-tcp", "TCP"): ServicePortInfo(
                "10.96.0.20", 53, "TCP", node_port=30053, external_policy_local=True
            ),
        },
    ),
    (
        "Local external policy on a ClusterIP service without external IPs means nothing",
        service({"externalTrafficPolicy": "Local", "internalTrafficPolicy": "Local"}),
        {HTTP: ServicePortInfo("10.96.0.20", 80, "TCP", internal_policy_local=True)},
    ),
    (
        "LoadBalancer: VIP-mode ingress IPs of the family, source ranges, health check port",
        service(
            {
                "type": "LoadBalancer",
                "externalTrafficPolicy": "Local",
                "healthCheckNodePort": 32000,
                "externalIPs": ["192.0.2.10", "2001:db8::1"],
                "loadBalancerSourceRanges": ["203.0.113.0/24", " 198.51.100.1/24"],
                "ports": [
                    {
                        "name": "http",
                        "port": 80,
                        "targetPort": "8080",
                        "protocol": "TCP",
                        "nodePort": 30080,
                    }
                ],
            },
            status={
                "loadBalancer": {
                    "ingress": [
                        {"ip": "198.51.100.7", "ipMode": "VIP"},
                        {"ip": "198.51.100.8"},
                        {"ip": "198.51.100.9", "ipMode": "Proxy"},
                        {"hostname": "lb.example.com"},
                    ]
                }
            },
        ),
        {
            HTTP: ServicePortInfo(
                "10.96.0.20",
                80,
                "TCP",
                node_port=30080,
                health_check_node_port=32000,
                external_ips=("192.0.2.10",),
                load_balancer_vips=("198.51.100.7", "198.51.100.8"),
                load_balancer_source_ranges=("203.0.113.0/24", "198.51.100.0/24"),
                external_policy_local=True,
            )
        },
    ),
]


@pytest.mark.parametrize(
    ("svc", "expected"), [c[1:] for c in SERVICE_CASES], ids=[c[0] for c in SERVICE_CASES]
)
def test_service_ports(
    svc: service_pb2.Service, expected: dict[ServicePortName, ServicePortInfo]
) -> None:
    assert service_ports(svc) == expected


@pytest.mark.parametrize(
    ("info", "cluster", "local"),
    [
        (ServicePortInfo("10.96.0.1", 80, "TCP"), True, False),
        (ServicePortInfo("10.96.0.1", 80, "TCP", internal_policy_local=True), False, True),
        (
            ServicePortInfo("10.96.0.1", 80, "TCP", node_port=30000, external_policy_local=True),
            True,
            True,
        ),
        (
            ServicePortInfo("10.96.0.1", 80, "TCP", node_port=30000, internal_policy_local=True),
            True,
            True,
        ),
    ],
)
def test_which_endpoints_a_port_uses(info: ServicePortInfo, cluster: bool, local: bool) -> None:
    assert (info.uses_cluster_endpoints, info.uses_local_endpoints) == (cluster, local)


# ------------------------------------------------------------------ endpoints from slices
ENDPOINT_CASES: list[
    tuple[str, list[discovery_pb2.EndpointSlice], dict[ServicePortName, tuple[EndpointInfo, ...]]]
] = [
    (
        "unset conditions are ready and serving; this node's endpoints are local",
        [endpoint_slice(endpoints=[ep("10.244.1.2", node="node-1"), ep("10.244.2.3")])],
        {HTTP: (EndpointInfo("10.244.1.2", 8080, is_local=True), EndpointInfo("10.244.2.3", 8080))},
    ),
    (
        "conditions as written; sorted by ip:port as strings",
        [
            endpoint_slice(
                endpoints=[
                    ep("10.244.2.3", ready=False, serving=True, terminating=True),
                    ep("10.244.2.10", ready=False),
                ]
            )
        ],
        {
            HTTP: (
                EndpointInfo("10.244.2.10", 8080, ready=False),
                EndpointInfo("10.244.2.3", 8080, ready=False, serving=True, terminating=True),
            )
        },
    ),
    (
        "two slices of one service are joined; an address in both is kept once, running first",
        [
            endpoint_slice("a", [ep("10.244.2.3", ready=False, serving=False, terminating=True)]),
            endpoint_slice("b", [ep("10.244.2.3"), ep("10.244.3.4")]),
        ],
        {HTTP: (EndpointInfo("10.244.2.3", 8080), EndpointInfo("10.244.3.4", 8080))},
    ),
    (
        "IPv6 and FQDN slices are not this proxier's",
        [
            endpoint_slice("v6", [{"addresses": ["fd00::3"]}], address_type="IPv6"),
            endpoint_slice("fqdn", [{"addresses": ["example.com"]}], address_type="FQDN"),
        ],
        {},
    ),
    (
        "ports without a name or a number are ignored; an unnamed port is named ''",
        [
            endpoint_slice(
                endpoints=[ep("10.244.2.3")],
                ports=[{"port": 1}, {"name": "zero", "port": 0}, {"name": "", "port": 8080}],
            )
        ],
        {ServicePortName("ns", "web", "", "TCP"): (EndpointInfo("10.244.2.3", 8080),)},
    ),
    (
        "a slice without endpoints: the port has none",
        [endpoint_slice(endpoints=[])],
        {},
    ),
]


@pytest.mark.parametrize(
    ("slices", "expected"), [c[1:] for c in ENDPOINT_CASES], ids=[c[0] for c in ENDPOINT_CASES]
)
def test_service_endpoints(
    slices: list[discovery_pb2.EndpointSlice],
    expected: dict[ServicePortName, tuple[EndpointInfo, ...]],
) -> None:
    assert service_endpoints(WEB, slices, "node-1") == expected


# ------------------------------------------------------------------ topology
READY_LOCAL = EndpointInfo("10.244.1.2", 80, is_local=True)
READY_REMOTE = EndpointInfo("10.244.2.3", 80)
TERMINATING_LOCAL = EndpointInfo(
    "10.244.1.5", 80, is_local=True, ready=False, serving=True, terminating=True
)
CLUSTER = ServicePortInfo("10.96.0.1", 80, "TCP")
INTERNAL_LOCAL = ServicePortInfo("10.96.0.1", 80, "TCP", internal_policy_local=True)
EXTERNAL_LOCAL = ServicePortInfo(
    "10.96.0.1", 80, "TCP", node_port=30000, external_policy_local=True
)


@pytest.mark.parametrize(
    ("info", "endpoints", "cluster", "local", "reachable", "has_any"),
    [
        (
            CLUSTER,
            [READY_LOCAL, READY_REMOTE],
            [READY_LOCAL, READY_REMOTE],
            [],
            [READY_LOCAL, READY_REMOTE],
            True,
        ),
        (CLUSTER, [], [], [], [], False),
        (CLUSTER, [READY_REMOTE, TERMINATING_LOCAL], [READY_REMOTE], [], [READY_REMOTE], True),
        (CLUSTER, [TERMINATING_LOCAL], [TERMINATING_LOCAL], [], [TERMINATING_LOCAL], True),
        (INTERNAL_LOCAL, [READY_LOCAL, READY_REMOTE], [], [READY_LOCAL], [READY_LOCAL], True),
        (INTERNAL_LOCAL, [READY_REMOTE], [], [], [], True),
        (
            INTERNAL_LOCAL,
            [TERMINATING_LOCAL, READY_REMOTE],
            [],
            [TERMINATING_LOCAL],
            [TERMINATING_LOCAL],
            True,
        ),
        (
            EXTERNAL_LOCAL,
            [READY_LOCAL, READY_REMOTE],
            [READY_LOCAL, READY_REMOTE],
            [READY_LOCAL],
            [READY_LOCAL, READY_REMOTE],
            True,
        ),
    ],
    ids=[
        "Cluster: every ready endpoint",
        "Cluster: none",
        "Cluster: ready ones before terminating ones",
        "Cluster: terminating serving ones when none is ready",
        "internal Local: this node's",
        "internal Local: none here, but some elsewhere",
        "internal Local: this node's terminating one when no ready one is here",
        "external Local: the node's for outside traffic, all for the rest",
    ],
)
def test_categorize_endpoints(
    info: ServicePortInfo,
    endpoints: list[EndpointInfo],
    cluster: list[EndpointInfo],
    local: list[EndpointInfo],
    reachable: list[EndpointInfo],
    has_any: bool,
) -> None:
    got = categorize_endpoints(endpoints, info)
    assert (list(got.cluster), list(got.local), list(got.reachable), got.has_any) == (
        cluster,
        local,
        reachable,
        has_any,
    )


# ------------------------------------------------------------------ the tracker
def test_events_that_change_no_rule_are_not_changes() -> None:
    state = ProxyState("node-1")
    assert state.service_updated(service())
    assert state.slice_updated(endpoint_slice(endpoints=[ep("10.244.2.3")]))
    snapshot = state.checkout()
    assert snapshot.changed == {WEB}
    assert (snapshot.service_changes, snapshot.endpoint_changes) == (1, 1)
    assert snapshot.services == {HTTP: ServicePortInfo("10.96.0.20", 80, "TCP")}
    assert snapshot.endpoints == {HTTP: (EndpointInfo("10.244.2.3", 8080),)}

    relabelled = service(labels={"team": "b"})
    relabelled.status.conditions.add(type="Ready")
    assert not state.service_updated(relabelled)
    assert not state.slice_updated(endpoint_slice(endpoints=[ep("10.244.2.3")]))
    assert state.checkout().changed == frozenset()
    assert state.pending() == (0, 0)


def test_changes_are_collected_until_checkout() -> None:
    state = ProxyState("node-1")
    state.service_updated(service())
    state.checkout()
    state.slice_updated(endpoint_slice("a", [ep("10.244.2.3")]))
    state.slice_updated(endpoint_slice("b", [ep("10.244.3.4")]))
    assert state.pending() == (0, 1)
    snapshot = state.checkout()
    assert snapshot.endpoints[HTTP] == (
        EndpointInfo("10.244.2.3", 8080),
        EndpointInfo("10.244.3.4", 8080),
    )
    state.slice_deleted(endpoint_slice("a"))
    state.service_deleted(service())
    snapshot = state.checkout()
    assert snapshot.changed == {WEB}
    assert snapshot.services == {}
    assert snapshot.endpoints == {HTTP: (EndpointInfo("10.244.3.4", 8080),)}


def test_a_slice_relabelled_to_another_service_leaves_the_first() -> None:
    state = ProxyState("node-1")
    state.slice_updated(endpoint_slice("s", [ep("10.244.2.3")], service_name="web"))
    state.checkout()
    assert state.slice_updated(endpoint_slice("s", [ep("10.244.2.3")], service_name="api"))
    snapshot = state.checkout()
    assert snapshot.changed == {WEB, ServiceName("ns", "api")}
    assert list(snapshot.endpoints) == [ServicePortName("ns", "api", "http", "TCP")]
    # Without the label at all: it belongs to no service.
    assert state.slice_updated(endpoint_slice("s", [ep("10.244.2.3")], service_name=""))
    assert state.checkout().endpoints == {}
