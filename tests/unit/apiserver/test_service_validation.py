"""Service, Endpoints and EndpointSlice rules as Kubernetes words them (ValidateService,
ValidateServiceUpdate, ValidateEndpoints, ValidateEndpointSlice), after SetDefaults_Service and the
create and update preparation (normalized cluster IPs, allocated values kept, fields of a former
type cleared), as tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import service as defaulting
from apiserver.defaulting import service_prepare
from apiserver.validation import endpoints, service
from apiserver.validation.fields import DNS1035_LABEL_MSG, FieldError
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest


def svc(name: str = "web", **spec: Any) -> service_pb2.Service:
    """A Service as the apiserver validates it: defaulted and prepared for create, with the IP
    family fields the allocator sets."""
    spec.setdefault("ports", [{"port": 80}])
    obj: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    )
    defaulting.service(obj)
    service_prepare.prepare_for_create(obj)
    return obj  # type: ignore[no-any-return]


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def test_defaults_are_kubernetes() -> None:
    got = manifest.to_dict(
        svc(type="NodePort", ports=[{"port": 80}, {"port": 53, "protocol": "UDP", "name": "dns"}])
    )
    assert got["spec"] == {
        "ports": [
            {"protocol": "TCP", "port": 80, "targetPort": "80"},
            {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": "53"},
        ],
        "type": "NodePort",
        "sessionAffinity": "None",
        "externalTrafficPolicy": "Cluster",
        "internalTrafficPolicy": "Cluster",
    }
    affinity = manifest.to_dict(svc(sessionAffinity="ClientIP"))["spec"]
    assert affinity["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    lb = svc(type="LoadBalancer")
    assert lb.spec.allocate_load_balancer_node_ports
    external_name = manifest.to_dict(svc(type="ExternalName", externalName="db.example.com"))
    assert "internalTrafficPolicy" not in external_name["spec"]
    assert list(svc(clusterIP="10.96.0.10").spec.cluster_ips) == ["10.96.0.10"]


def test_valid_services_have_no_errors() -> None:
    for obj in (
        svc(),
        svc(type="NodePort", ports=[{"port": 80, "nodePort": 30080, "targetPort": "http"}]),
        svc(clusterIP="None", ports=[]),
        svc(type="ExternalName", externalName="db.example.com.", ports=[]),
        svc(type="LoadBalancer", externalTrafficPolicy="Local"),
        svc(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}}),
        svc(ports=[{"name": "a", "port": 53}, {"name": "b", "port": 53, "protocol": "UDP"}]),
    ):
        assert strings(service.service(obj)) == [], manifest.to_dict(obj)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "1web"}, f'metadata.name: Invalid value: "1web": {DNS1035_LABEL_MSG}'),
        ({"ports": []}, "spec.ports: Required value"),
        (
            {"ports": [{"port": 80}, {"port": 81}]},
            "spec.ports[0].name: Required value",
        ),
        (
            {"ports": [{"port": 0}]},
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        ),
        (
            {"ports": [{"port": 80, "protocol": "HTTP"}]},
            'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", '
            '"UDP"',
        ),
        (
            {"ports": [{"port": 80, "targetPort": "Http_1"}]},
            'spec.ports[0].targetPort: Invalid value: "Http_1": must contain only alpha-numeric '
            "characters (a-z, 0-9), and hyphens (-)",
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
            'spec.ports[1].name: Duplicate value: "a"',
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]},
            'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
            "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, "
            'IntVal:0, StrVal:""}, NodePort:0}',
        ),
        (
            {"ports": [{"port": 80, "nodePort": 30080}]},
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        ),
        (
            {
                "type": "NodePort",
                "ports": [
                    {"name": "a", "port": 80, "nodePort": 30080},
                    {"name": "b", "port": 81, "nodePort": 30080},
                ],
            },
            "spec.ports[1].nodePort: Duplicate value: 30080",
        ),
        (
            {"type": "Magic"},
            'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", '
            '"ExternalName", "LoadBalancer", "NodePort"',
        ),
        (
            {"type": "NodePort", "clusterIP": "None"},
            "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort "
            "services",
        ),
        ({"type": "ExternalName", "ports": []}, "spec.externalName: Required value"),
        (
            {"type": "ExternalName", "externalName": "db.example.com", "clusterIP": "10.96.0.9"},
            "spec.clusterIPs: Forbidden: may not be set for ExternalName services",
        ),
        (
            {"type": "ExternalName", "externalName": "Not_A_Name"},
            'spec.externalName: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain',
        ),
        (
            {"clusterIP": "10.96.0.300"},
            'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. '
            "10.9.8.7 or 2001:db8::ffff)",
        ),
        (
            {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.6"]},
            'spec.clusterIPs: Invalid value: []string{"10.96.0.6"}: first value must match '
            "`clusterIP`",
        ),
        (
            {"clusterIPs": ["10.96.0.6"]},
            'spec.clusterIPs: Invalid value: []string{"10.96.0.6"}: must be empty when '
            "`clusterIP` is not specified",
        ),
        (
            {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5", "10.96.0.6"]},
            'spec.clusterIPs: Invalid value: []string{"10.96.0.5", "10.96.0.6"}: may specify no '
            "more than one IP for each IP family",
        ),
        (
            {"ipFamilies": ["IPv5"]},
            'spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"',
        ),
        ({"ipFamilyPolicy": "Both"}, 'spec.ipFamilyPolicy: Unsupported value: "Both"'),
        (
            {"sessionAffinity": "Cookie"},
            'spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", '
            '"None"',
        ),
        (
            {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 90000}},
            },
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 90000: must be "
            "greater than 0 and less than 86400",
        ),
        ({"selector": {"app": "a b"}}, 'spec.selector: Invalid value: "a b"'),
        (
            {"externalIPs": ["127.0.0.1"]},
            'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range '
            "(127.0.0.0/8, ::1/128)",
        ),
        (
            {"externalIPs": ["x"]},
            'spec.externalIPs[0]: Invalid value: "x": must be a valid IP address',
        ),
        (
            {"externalTrafficPolicy": "Local"},
            'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for '
            "externally-accessible services",
        ),
        (
            {"type": "NodePort", "externalTrafficPolicy": "Nearest"},
            'spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: '
            '"Cluster", "Local"',
        ),
        (
            {"healthCheckNodePort": 30500},
            "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is "
            "'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
        (
            {"internalTrafficPolicy": "Node"},
            'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", '
            '"Local"',
        ),
        (
            {"allocateLoadBalancerNodePorts": False},
            "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is "
            "'LoadBalancer'",
        ),
        (
            {"loadBalancerClass": "example.com/lb"},
            "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
        ),
        (
            {"loadBalancerSourceRanges": ["10.0.0.0/8"]},
            "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is "
            "'LoadBalancer'",
        ),
        (
            {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0"]},
            'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0": must be a valid CIDR '
            "value",
        ),
        (
            {"trafficDistribution": "Anywhere"},
            'spec.trafficDistribution: Unsupported value: "Anywhere": supported values: '
            '"PreferClose"',
        ),
        (
            {"ports": [{"port": 80, "appProtocol": "a b"}]},
            'spec.ports[0].appProtocol: Invalid value: "a b"',
        ),
    ],
)
def test_invalid_service_names_the_field(fields: dict[str, Any], expected: str) -> None:
    name = fields.pop("name", "web")
    errs = strings(service.service(svc(name, **fields)))
    assert any(e.startswith(expected) for e in errs), errs


def _updated(old: service_pb2.Service, **spec: Any) -> service_pb2.Service:
    new = service_pb2.Service()
    new.CopyFrom(old)
    changed: Any = manifest.from_dict({"apiVersion": "v1", "kind": "Service", "spec": spec})
    new.spec.MergeFrom(changed.spec)
    defaulting.service(new)
    service_prepare.prepare_for_update(new, old)
    return new


def _stored(**spec: Any) -> service_pb2.Service:
    obj = svc(**spec)
    obj.spec.ip_family_policy = obj.spec.ip_family_policy or "SingleStack"
    if obj.spec.type != "ExternalName" and not obj.spec.ip_families:
        obj.spec.ip_families.append("IPv4")
    return obj


@pytest.mark.parametrize(
    ("old", "change", "expected"),
    [
        (
            {"clusterIP": "10.96.0.5"},
            {"clusterIP": "10.96.0.6"},
            'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: may not change once set',
        ),
        (
            {
                "type": "LoadBalancer",
                "externalTrafficPolicy": "Local",
                "healthCheckNodePort": 30500,
            },
            {"healthCheckNodePort": 30501},
            "spec.healthCheckNodePort: Forbidden: field is immutable",
        ),
        (
            {"type": "LoadBalancer", "loadBalancerClass": "example.com/a"},
            {"loadBalancerClass": "example.com/b"},
            'spec.loadBalancerClass: Invalid value: "example.com/b": may not change once set',
        ),
    ],
)
def test_invalid_updates(old: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    stored = _stored(**old)
    errs = strings(service.service_update(_updated(stored, **change), stored))
    assert any(e.startswith(expected) for e in errs), errs


@pytest.mark.parametrize(
    ("old", "change", "kept"),
    [
        # A resubmitted object without the allocated values keeps them.
        ({"clusterIP": "10.96.0.5"}, {}, {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]}),
        (
            {"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]},
            {"ports": [{"name": "http", "port": 80}]},
            {
                "ports": [
                    {
                        "name": "http",
                        "protocol": "TCP",
                        "port": 80,
                        "targetPort": "80",
                        "nodePort": 30080,
                    }
                ]
            },
        ),
        # Node ports go with NodePort, the cluster IP and families with an ExternalName switch.
        (
            {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
            {"type": "ClusterIP"},
            {
                "ports": [{"protocol": "TCP", "port": 80, "targetPort": "80"}],
                "externalTrafficPolicy": None,
            },
        ),
        (
            {"clusterIP": "10.96.0.5"},
            {"type": "ExternalName", "externalName": "db.example.com"},
            {"clusterIP": None, "clusterIPs": None, "ipFamilies": None, "ipFamilyPolicy": None},
        ),
    ],
)
def test_updates_keep_allocated_values_and_drop_those_of_the_old_type(
    old: dict[str, Any], change: dict[str, Any], kept: dict[str, Any]
) -> None:
    stored = _stored(**old)
    new = _updated(stored, **change)
    if "ports" in change:
        del new.spec.ports[:]
        for p in change["ports"]:
            new.spec.ports.add(name=p.get("name", ""), port=p["port"])
        defaulting.service(new)
        service_prepare.prepare_for_update(new, stored)
    got = manifest.to_dict(new)["spec"]
    for field, value in kept.items():
        assert got.get(field) == value, (field, got)
    assert strings(service.service_update(new, stored)) == []


def test_a_type_change_away_from_load_balancer_clears_its_status() -> None:
    """As Kubernetes' dropTypeDependentFields: the update is not refused for the address the
    load balancer controller has not released yet."""
    stored = _stored(type="LoadBalancer", ports=[{"port": 80, "nodePort": 30080}])
    stored.status.load_balancer.ingress.add(ip="172.18.255.200", ip_mode="VIP")
    new = _updated(stored, type="NodePort")
    assert not new.status.load_balancer.ingress
    assert strings(service.service_update(new, stored)) == []
    kept = _updated(stored, sessionAffinity="ClientIP")
    assert [i.ip for i in kept.status.load_balancer.ingress] == ["172.18.255.200"]


# ------------------------------------------------------------------ Endpoints and EndpointSlices


def endpoints_of(subsets: list[dict[str, Any]]) -> service_pb2.Endpoints:
    obj: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"}, "subsets": subsets}
    )
    defaulting.endpoints(obj)
    return obj  # type: ignore[no-any-return]


def slice_of(**fields: Any) -> discovery_pb2.EndpointSlice:
    fields.setdefault("addressType", "IPv4")
    fields.setdefault("endpoints", [])
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "web-x"},
            **fields,
        }
    )
    defaulting.endpoint_slice(obj)
    return obj  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("subsets", "expected"),
    [
        (
            [{"ports": [{"port": 80}]}],
            "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
        ),
        (
            [{"addresses": [{"ip": "x"}]}],
            'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. '
            "10.9.8.7 or 2001:db8::ffff)",
        ),
        (
            [{"addresses": [{"ip": "127.0.0.1"}]}],
            'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback '
            "range (127.0.0.0/8, ::1/128)",
        ),
        (
            [{"addresses": [{"ip": "169.254.1.1"}]}],
            'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the '
            "link-local range (169.254.0.0/16, fe80::/10)",
        ),
        (
            [{"notReadyAddresses": [{"ip": "10.1.1.1", "hostname": "A"}]}],
            'subsets[0].notReadyAddresses[0].hostname: Invalid value: "A"',
        ),
        (
            [{"addresses": [{"ip": "10.1.1.1"}], "ports": [{"port": 80}, {"port": 81}]}],
            "subsets[0].ports[0].name: Required value",
        ),
        (
            [{"addresses": [{"ip": "10.1.1.1"}], "ports": [{"port": 0}]}],
            "subsets[0].ports[0].port: Invalid value: 0",
        ),
    ],
)
def test_invalid_endpoints(subsets: list[dict[str, Any]], expected: str) -> None:
    errs = strings(endpoints.endpoints(endpoints_of(subsets)))
    assert any(e.startswith(expected) for e in errs), errs


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"addressType": ""}, "addressType: Required value"),
        (
            {"addressType": "IP"},
            'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
        ),
        (
            {"endpoints": [{"addresses": []}]},
            "endpoints[0].addresses: Required value: must contain at least 1 address",
        ),
        (
            {"endpoints": [{"addresses": ["fd00::1"]}]},
            'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        ),
        (
            {"endpoints": [{"addresses": ["10.0.0.1"], "hostname": "A"}]},
            'endpoints[0].hostname: Invalid value: "A"',
        ),
        (
            {"addressType": "FQDN", "endpoints": [{"addresses": ["localhost"]}]},
            'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at '
            "least two segments separated by dots",
        ),
        (
            {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
            'ports[1].name: Duplicate value: "a"',
        ),
        (
            {"ports": [{"name": "a", "protocol": "HTTP"}]},
            'ports[0].protocol: Unsupported value: "HTTP"',
        ),
        (
            {"endpoints": [{"addresses": ["10.0.0.1"]}] * 1001},
            "endpoints: Too many: 1001: must have at most 1000 items",
        ),
    ],
)
def test_invalid_endpoint_slices(fields: dict[str, Any], expected: str) -> None:
    errs = strings(endpoints.endpoint_slice(slice_of(**fields)))
    assert any(e.startswith(expected) for e in errs), errs


def test_endpoint_slice_defaults_and_immutable_address_type() -> None:
    eps = slice_of(endpoints=[{"addresses": ["10.0.0.1"]}], ports=[{"port": 80}])
    assert (eps.ports[0].HasField("name"), eps.ports[0].name, eps.ports[0].protocol) == (
        True,
        "",
        "TCP",
    )
    assert strings(endpoints.endpoint_slice(eps)) == []
    changed = slice_of(addressType="IPv6")
    assert 'addressType: Invalid value: "IPv6": field is immutable' in strings(
        endpoints.endpoint_slice_update(changed, eps)
    )
