"""Defaults of networking.k8s.io/v1 (kubernetes pkg/apis/networking/v1/defaults.go): a
NetworkPolicy's ports are TCP unless they say otherwise, and a policy that names no policy types
is an Ingress policy, and an Egress one too when it has egress rules; an IngressClass's
parameters are cluster-scoped unless they say otherwise. An Ingress has no defaults (a path's
pathType is required, never defaulted, in v1)."""

from __future__ import annotations

from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import networking


def network_policy(obj: networking_pb2.NetworkPolicy) -> None:
    spec = obj.spec
    ports = [p for r in spec.ingress for p in r.ports] + [p for r in spec.egress for p in r.ports]
    for port in ports:
        if not port.HasField("protocol"):
            port.protocol = networking.PROTOCOL_TCP
    if not spec.policy_types:
        spec.policy_types.append(networking.POLICY_TYPE_INGRESS)
        if spec.egress:
            spec.policy_types.append(networking.POLICY_TYPE_EGRESS)


def ingress_class(obj: networking_pb2.IngressClass) -> None:
    parameters = obj.spec.parameters
    if obj.spec.HasField("parameters") and not parameters.HasField("scope"):
        parameters.scope = networking.SCOPE_CLUSTER
