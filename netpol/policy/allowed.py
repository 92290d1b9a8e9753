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
from typing import TypeAlias

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


# An address block and the addresses excluded from it; a pod is its /32.
Peer: TypeAlias = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Allow:
    """One kind of traffic allowed: from (ingress) or to (egress) any of `peers` (None: any
    address), of `protocol` (None: any) on ports `ports` (first, last; None: any)."""

    peers: tuple[Peer, ...] | None = None
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
        self._selected: dict[tuple[str, bytes], list[PodInfo]] = {}

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
        if not rule.from_:
            return [Allow(None, protocol, ports) for protocol, ports in resolved]
        sources: list[Peer] = []
        for peer in rule.from_:
            if peer.HasField("ip_block"):
                sources.append(_block(peer.ip_block))
            else:
                sources += [(f"{p.ip}/32", ()) for p in self._peer_pods(namespace, peer)]
        if not sources:
            return []
        return [Allow(tuple(sources), protocol, ports) for protocol, ports in resolved]

    def _egress(self, namespace: str, rule: networking_pb2.NetworkPolicyEgressRule) -> list[Allow]:
        """Numbered ports (or none) to every peer at once; a named port to each destination
        pod that has it (to no peers: any pod), grouped by the number it resolves to."""
        specs = _port_specs(rule.ports)
        blocks = [_block(p.ip_block) for p in rule.to if p.HasField("ip_block")]
        pods: dict[str, PodInfo] = {}
        for peer in rule.to:
            if not peer.HasField("ip_block"):
                pods.update((p.ip, p) for p in self._peer_pods(namespace, peer))
        named: dict[tuple[str | None, tuple[int, int] | None], list[Peer]] = {}
        out: list[Allow] = []
        for spec in specs:
            if not isinstance(spec.port, str):
                resolved = spec.resolve(None)
                assert resolved is not None
                if not rule.to:
                    out.append(Allow(None, *resolved))
                elif blocks or pods:
                    peers = [*blocks, *((f"{ip}/32", ()) for ip in pods)]
                    out.append(Allow(tuple(peers), *resolved))
                continue
            targets = list(pods.values())
            if not rule.to:
                targets = list(self.pods)
            targets += [p for p in self.pods if any(_inside(p.ip, *b) for b in blocks)]
            for dest in targets:
                if (found := spec.resolve(dest)) is not None:
                    named.setdefault(found, []).append((f"{dest.ip}/32", ()))
        out += [Allow(tuple(dict.fromkeys(peers)), *key) for key, peers in named.items()]
        return out

    def _peer_pods(self, namespace: str, peer: networking_pb2.NetworkPolicyPeer) -> list[PodInfo]:
        """The pods `peer` of a policy in `namespace` selects (computed once per peer)."""
        key = (namespace, peer.SerializeToString(deterministic=True))
        if key not in self._selected:
            self._selected[key] = self._select(namespace, peer)
        return self._selected[key]

    def _select(self, namespace: str, peer: networking_pb2.NetworkPolicyPeer) -> list[PodInfo]:
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


def _block(block: networking_pb2.IPBlock) -> Peer:
    return _network(block.cidr), tuple(map(_network, block.except_))


def _network(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr, strict=False))


def _inside(ip: str, cidr: str, excepts: Sequence[str]) -> bool:
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(cidr):
        return False
    return not any(address in ipaddress.ip_network(e) for e in excepts)


def _unique(allows: list[Allow] | None) -> tuple[Allow, ...] | None:
    return None if allows is None else tuple(dict.fromkeys(allows))
