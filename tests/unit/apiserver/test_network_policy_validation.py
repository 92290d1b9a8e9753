"""NetworkPolicy defaults (networking/v1 defaults.go) and validation
(pkg/apis/networking/validation, as of 1.31) with Kubernetes' texts and field paths."""

from __future__ import annotations

import pytest

from apiserver.defaulting import networking as defaulting
from apiserver.validation import network_policy as validation
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue

_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def _policy(**spec: JSONValue) -> networking_pb2.NetworkPolicy:
    body: JSONObject = {"podSelector": {}}
    body.update(spec)
    doc = {"metadata": {"name": "np", "namespace": "default"}, "spec": body}
    return codec.decode(networking_pb2.NetworkPolicy, doc)[0]


def _errors(obj: networking_pb2.NetworkPolicy) -> list[str]:
    return [str(e) for e in validation.network_policy(obj)]


@pytest.mark.parametrize(
    "spec, policy_types",
    [
        ({}, ["Ingress"]),
        ({"ingress": [{}]}, ["Ingress"]),
        ({"egress": [{}]}, ["Ingress", "Egress"]),
        ({"egress": [{}], "policyTypes": ["Egress"]}, ["Egress"]),
    ],
)
def test_policy_types_default(spec: JSONObject, policy_types: list[str]) -> None:
    obj = _policy(**spec)
    defaulting.network_policy(obj)
    assert list(obj.spec.policy_types) == policy_types


def test_ports_default_to_tcp() -> None:
    obj = _policy(
        ingress=[{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}],
        egress=[{"ports": [{}]}],
    )
    defaulting.network_policy(obj)
    assert codec.encode(obj)["spec"] == {
        "podSelector": {},
        "ingress": [{"ports": [{"protocol": "TCP", "port": 80}, {"protocol": "UDP", "port": 53}]}],
        "egress": [{"ports": [{"protocol": "TCP"}]}],
        "policyTypes": ["Ingress", "Egress"],
    }


def test_the_documentation_example_is_valid() -> None:
    obj = _policy(
        podSelector={"matchLabels": {"role": "db"}},
        policyTypes=["Ingress", "Egress"],
        ingress=[
            {
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 6379}],
            }
        ],
        egress=[
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}],
            }
        ],
    )
    assert _errors(obj) == []


@pytest.mark.parametrize(
    "spec, errors",
    [
        (
            {"ingress": [{"ports": [{"protocol": "ICMP", "port": 0}]}]},
            [
                'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
                '"TCP", "UDP", "SCTP"',
                "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, "
                "inclusive",
            ],
        ),
        (
            {"egress": [{"ports": [{"port": 100, "endPort": 99}]}]},
            [
                "spec.egress[0].ports[0].endPort: Invalid value: 99: must be greater than or "
                "equal to `port`"
            ],
        ),
        (
            {"egress": [{"ports": [{"port": 100, "endPort": 70000}]}]},
            [
                "spec.egress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and "
                "65535, inclusive"
            ],
        ),
        (
            {"egress": [{"ports": [{"port": "http", "endPort": 90}]}]},
            [
                "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when "
                "`port` is non-numeric"
            ],
        ),
        (
            {"egress": [{"ports": [{"endPort": 90}]}]},
            [
                "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when "
                "`port` is not specified"
            ],
        ),
        (
            {"ingress": [{"ports": [{"port": "Http_"}]}]},
            [
                'spec.ingress[0].ports[0].port: Invalid value: "Http_": must contain only '
                "alpha-numeric characters (a-z, 0-9), and hyphens (-)"
            ],
        ),
        (
            {"ingress": [{"from": [{}]}]},
            ["spec.ingress[0].from[0]: Required value: must specify a peer"],
        ),
        (
            {"ingress": [{"from": [{"podSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}}]}]},
            ["spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"],
        ),
        (
            {"egress": [{"to": [{"ipBlock": {"cidr": ""}}]}]},
            ["spec.egress[0].to[0].ipBlock.cidr: Required value"],
        ),
        (
            {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}]}]},
            ['spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0": not a valid CIDR'],
        ),
        (
            {
                "egress": [
                    {
                        "to": [
                            {
                                "ipBlock": {
                                    "cidr": "10.0.0.0/8",
                                    "except": ["10.0.0.0/8", "11.0.0.0/16", "x", "10.1.0.0/16"],
                                }
                            }
                        ]
                    }
                ]
            },
            [
                'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a '
                "strict subset of `cidr`",
                'spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "11.0.0.0/16": must be '
                "a strict subset of `cidr`",
                # The first invalid exception ends the check (1.31's return).
                'spec.egress[0].to[0].ipBlock.except[2]: Invalid value: "x": not a valid CIDR',
            ],
        ),
        (
            # Leading zeros, as Go's sloppy parser reads them; an IPv6 block.
            {
                "egress": [
                    {
                        "to": [
                            {"ipBlock": {"cidr": "010.0.0.0/8"}},
                            {"ipBlock": {"cidr": "fd00::/8"}},
                        ]
                    }
                ]
            },
            [],
        ),
        (
            {"podSelector": {"matchLabels": {"app": "-bad"}}},
            [f'spec.podSelector.matchLabels: Invalid value: "-bad": {_LABEL_VALUE_MSG}'],
        ),
        (
            {"policyTypes": ["Ingress", "Egress", "Ingress"]},
            [
                'spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", '
                '"Ingress"}: may not specify more than two policyTypes'
            ],
        ),
        (
            {"policyTypes": ["ingress"]},
            [
                'spec.policyTypes[0]: Unsupported value: "ingress": supported values: '
                '"Ingress", "Egress"'
            ],
        ),
    ],
)
def test_spec_errors(spec: JSONObject, errors: list[str]) -> None:
    assert _errors(_policy(**spec)) == errors


def test_invalid_selector_values_stay_allowed_once_stored() -> None:
    expression = {"key": "app", "operator": "In", "values": ["-bad"]}
    old = _policy(podSelector={"matchExpressions": [expression]})
    assert [str(e) for e in validation.network_policy(old)] == [
        f'spec.podSelector.matchExpressions[0].values[0]: Invalid value: "-bad": {_LABEL_VALUE_MSG}'
    ]
    assert validation.network_policy_update(old, old) == []
    fresh = _policy()
    assert [str(e) for e in validation.network_policy_update(old, fresh)] == [
        f'spec.podSelector.matchExpressions[0].values[0]: Invalid value: "-bad": {_LABEL_VALUE_MSG}'
    ]
