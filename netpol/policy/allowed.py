"""What NetworkPolicies allow, per local pod and direction (Kubernetes 1.31's semantics, as
kube-network-policies evaluates them): a pod selected by any policy whose policyTypes name a
direction is isolated in that direction, and allowed whatever any rule of any of those policies
allows (policies are additive). A peer is pods by podSelector in the policy's namespace, pods of
the namespaces a namespaceSelector picks (both: pods by podSelector in those namespaces), or an
ipBlock minus its excepts; no peers is any address. Ports: none is every port; a number, with
endPort a range; a name is looked up in the destination pod's container ports (that pod for
ingress, each peer pod for egress), matching nothing where it names none."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from netpol.policy.pods import PodInfo
from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery.selectors import (
    LabelSelector,
    Requirement,
    SelectorError,
    from_label_selector_message,
)

INGRESS = "Ingress"
EGRESS = "Egress"
# A selector no labels match ("in" an empty set).
_NOTHING = LabelSelector((Requirement("", "in"),))


@dataclass(frozen=True)
class Allow:
    """One kind of traffic allowed: from (ingress) or to (egress) `cidr` (None: any address)
    outside `excepts`, of `protocol` (None: any) on ports `ports` (first, last; None: any)."""

    cidr: str | None = None
    excepts: tuple[str, ...] = ()
    protocol: str | None = None
    ports: tuple[int, int] | None = None


@dataclass(frozen=True)
class PodRules:
    """A local pod's allowed traffic per direction; None where no policy isolates it."""

    pod: PodInfo
    ingress: tuple[Allow, ...] | None
    egress: tuple[Allow, ...] | None


@dataclass(frozen=True)
class _PortSpec:
    protocol: str | None
    port: int | str | None = None
    end: int | None = None

    def resolve(self, pod: PodInfo | None) -> tuple[str | None, tuple[int, int] | None] | None:
        """(protocol, port range) on the destination `pod`; None when a named port is not one
        of its ports (or the destination is no pod)."""
        if self.port is None:
            return self.protocol, None
        if isinstance(self.port, int):
            return self.protocol, (self.port, self.end or self.port)
        number = pod.port_named(self.port, self.protocol or "TCP") if pod is not None else None
        return (self.protocol, (number, number)) if number is not None else None


def _port_specs(ports: Sequence[networking_pb2.NetworkPolicyPort]) -> list[_PortSpec]:
    if not ports:
        return [_PortSpec(None)]
    specs = []
    for p in ports:
        protocol = p.protocol if p.HasField("protocol") else "TCP"
        port: int | str | None = None
        if p.HasField("port"):
            port = int(p.port) if p.port.isdigit() else p.port
        specs.append(_PortSpec(protocol, port, p.end_port if p.HasField("end_port") else None))
    return specs


def _selector(sel: meta_pb2.LabelSelector) -> LabelSelector:
    try:
        return from_label_selector_message(sel)
    except SelectorError:
        return _NOTHING  # refused by validation; selects nothing rather than everything


class PolicySet:
    """The cluster's policies, pods and namespaces' labels at one moment, asked per local pod."""

    def __init__(
        self,
        policies: Iterable[networking_pb2.NetworkPolicy],
        pods: Iterable[PodInfo],
        namespaces: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.policies = sorted(policies, key=lambda p: (p.metadata.namespace, p.metadata.name))
        self.pods = sorted(pods, key=lambda p: (p.namespace, p.name))
        self.namespaces = namespaces

    def rules_of(self, pod: PodInfo) -> PodRules:
        ingress: list[Allow] | None = None
        egress: list[Allow] | None = None
        for policy in self.policies:
            spec = policy.spec
            if policy.metadata.namespace != pod.namespace:
                continue
            if not _selector(spec.pod_selector).matches(pod.labels):
                continue
            types = list(spec.policy_types) or [INGRESS, *([EGRESS] if spec.egress else [])]
            ns = policy.metadata.namespace
            if INGRESS in types:
                ingress = ingress if ingress is not None else []
                for rule in spec.ingress:
                    ingress += self._ingress(pod, ns, rule)
            if EGRESS in types:
                egress = egress if egress is not None else []
                for erule in spec.egress:
                    egress += self._egress(ns, erule)
        return PodRules(pod, _unique(ingress), _unique(egress))

    def _ingress(
        self, pod: PodInfo, namespace: str, rule: networking_pb2.NetworkPolicyIngressRule
    ) -> list[Allow]:
        resolved = [r for spec in _port_specs(rule.ports) if (r := spec.resolve(pod)) is not None]
        out = []
        for cidr, excepts in self._sources(namespace, rule.from_):
            out += [Allow(cidr, excepts, protocol, ports) for protocol, ports in resolved]
        return out

    def _sources(
        self, namespace: str, peers: Sequence[networking_pb2.NetworkPolicyPeer]
    ) -> list[tuple[str | None, tuple[str, ...]]]:
        if not peers:
            return [(None, ())]
        out: list[tuple[str | None, tuple[str, ...]]] = []
        for peer in peers:
            if peer.HasField("ip_block"):
                out.append(
                    (_network(peer.ip_block.cidr), tuple(map(_network, peer.ip_block.except_)))
                )
            else:
                out += [(f"{p.ip}/32", ()) for p in self._peer_pods(namespace, peer)]
        return out

    def _egress(self, namespace: str, rule: networking_pb2.NetworkPolicyEgressRule) -> list[Allow]:
        specs = _port_specs(rule.ports)
        out: list[Allow] = []
        # No peers: anywhere, as a block of every address (whose Allow names no address).
        peers = list(rule.to) or [_ANYWHERE]
        for peer in peers:
            if not peer.HasField("ip_block"):
                for dest in self._peer_pods(namespace, peer):
                    out += _to_pod(dest, specs)
                continue
            block = peer.ip_block
            cidr, excepts = _network(block.cidr), tuple(map(_network, block.except_))
            for spec in specs:
                if not isinstance(spec.port, str):
                    resolved = spec.resolve(None)
                    assert resolved is not None
                    out.append(Allow(None if not rule.to else cidr, excepts, *resolved))
                    continue
                # A named port to an address block: the pods in it that have the port.
                for dest in self.pods:
                    if _inside(dest.ip, cidr, excepts):
                        out += _to_pod(dest, [spec])
        return out

    def _peer_pods(self, namespace: str, peer: networking_pb2.NetworkPolicyPeer) -> list[PodInfo]:
        pods = _selector(peer.pod_selector) if peer.HasField("pod_selector") else None
        spaces = _selector(peer.namespace_selector) if peer.HasField("namespace_selector") else None
        out = []
        for pod in self.pods:
            if spaces is None:
                if pod.namespace != namespace:
                    continue
            else:
                labels = self.namespaces.get(pod.namespace)
                if labels is None or not spaces.matches(labels):
                    continue
            if pods is not None and not pods.matches(pod.labels):
                continue
            out.append(pod)
        return out


_ANYWHERE = networking_pb2.NetworkPolicyPeer(ip_block=networking_pb2.IPBlock(cidr="0.0.0.0/0"))


def _to_pod(dest: PodInfo, specs: Sequence[_PortSpec]) -> list[Allow]:
    return [
        Allow(f"{dest.ip}/32", (), *resolved)
        for spec in specs
        if (resolved := spec.resolve(dest)) is not None
    ]


def _network(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr, strict=False))


def _inside(ip: str, cidr: str, excepts: Sequence[str]) -> bool:
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(cidr):
        return False
    return not any(address in ipaddress.ip_network(e) for e in excepts)


def _unique(allows: list[Allow] | None) -> tuple[Allow, ...] | None:
    return None if allows is None else tuple(dict.fromkeys(allows))
