"""Validation of NetworkPolicies (kubernetes pkg/apis/networking/validation, as of 1.31): the pod
selector and each rule's ports (a protocol Kubernetes knows, a port number or name, an endPort
only after a numeric port and not below it) and peers (exactly one of an ipBlock or selectors; an
ipBlock's CIDR, and its exceptions strictly inside it); at most the two policy types."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from apiserver.validation import fields, network
from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from apiserver.validation.network import go_strings
from apiserver.validation.policy import label_selector
from podplane.api.meta.v1 import meta_pb2
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import networking
from podplane.apimachinery.service import target_port_number
from podplane.apimachinery.structural.formats import parse_ip_sloppy

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Rule = networking_pb2.NetworkPolicyIngressRule | networking_pb2.NetworkPolicyEgressRule
NOT_A_CIDR = "not a valid CIDR"


def parse_cidr(value: str) -> Network | None:
    """netutils.ParseCIDRSloppy: an address (IPv4 may have leading zeros) and a prefix length;
    the network it is in."""
    address, slash, prefix = value.partition("/")
    ip = parse_ip_sloppy(address)
    if ip is None or not slash or not prefix.isascii() or not prefix.isdigit():
        return None
    if int(prefix) > ip.max_prefixlen:
        return None
    return ipaddress.ip_network((ip, int(prefix)), strict=False)


def _port(path: str, port: networking_pb2.NetworkPolicyPort) -> list[FieldError]:
    """ValidateNetworkPolicyPort."""
    errs: list[FieldError] = []
    if port.HasField("protocol") and port.protocol not in networking.POLICY_PROTOCOLS:
        errs.append(
            fields.unsupported(f"{path}.protocol", port.protocol, networking.POLICY_PROTOCOLS)
        )
    end = port.end_port if port.HasField("end_port") else None
    if not port.HasField("port"):
        if end is not None:
            errs.append(
                fields.invalid(
                    f"{path}.endPort", end, "may not be specified when `port` is not specified"
                )
            )
        return errs
    number = target_port_number(port.port)
    if number is None:
        if end is not None:
            errs.append(
                fields.invalid(
                    f"{path}.endPort", end, "may not be specified when `port` is non-numeric"
                )
            )
        return errs + network.port_name(f"{path}.port", port.port)
    errs += network.port_number(f"{path}.port", number)
    if end is not None:
        if end < number:
            errs.append(
                fields.invalid(f"{path}.endPort", end, "must be greater than or equal to `port`")
            )
        errs += network.port_number(f"{path}.endPort", end)
    return errs


def _ip_block(path: str, block: networking_pb2.IPBlock) -> list[FieldError]:
    """ValidateIPBlock: each exception a CIDR strictly inside the block's (the first invalid
    one ends the check)."""
    if not block.cidr:
        return [fields.required(f"{path}.cidr")]
    cidr = parse_cidr(block.cidr)
    if cidr is None:
        return [fields.invalid(f"{path}.cidr", block.cidr, NOT_A_CIDR)]
    errs: list[FieldError] = []
    for i, value in enumerate(block.except_):
        except_path = f"{path}.except[{i}]"
        excepted = parse_cidr(value)
        if excepted is None:
            return [*errs, fields.invalid(except_path, value, NOT_A_CIDR)]
        inside = excepted.version == cidr.version and excepted.network_address in cidr
        if not inside or cidr.prefixlen >= excepted.prefixlen:
            errs.append(fields.invalid(except_path, value, "must be a strict subset of `cidr`"))
    return errs


def _peer(path: str, peer: networking_pb2.NetworkPolicyPeer, allow: bool) -> list[FieldError]:
    """ValidateNetworkPolicyPeer: an ipBlock alone, or pod and namespace selectors."""
    errs: list[FieldError] = []
    for name, field_name in (
        ("podSelector", "pod_selector"),
        ("namespaceSelector", "namespace_selector"),
    ):
        if peer.HasField(field_name):
            selector: meta_pb2.LabelSelector = getattr(peer, field_name)
            errs += label_selector(f"{path}.{name}", selector, allow_invalid_values=allow)
    if peer.HasField("ip_block"):
        errs += _ip_block(f"{path}.ipBlock", peer.ip_block)
    given = sum(peer.HasField(f) for f in ("pod_selector", "namespace_selector", "ip_block"))
    if given == 0:
        errs.append(fields.required(path, "must specify a peer"))
    elif given > 1 and peer.HasField("ip_block"):
        errs.append(fields.forbidden(path, "may not specify both ipBlock and another peer"))
    return errs


def _rules(
    path: str,
    rules: Iterable[Rule],
    peers: str,
    allow: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        for j, port in enumerate(rule.ports):
            errs += _port(f"{path}[{i}].ports[{j}]", port)
        field_name = "from_" if peers == "from" else peers
        for j, peer in enumerate(getattr(rule, field_name)):
            errs += _peer(f"{path}[{i}].{peers}[{j}]", peer, allow)
    return errs


def _spec(spec: networking_pb2.NetworkPolicySpec, allow: bool) -> list[FieldError]:
    """ValidateNetworkPolicySpec."""
    errs = label_selector("spec.podSelector", spec.pod_selector, allow_invalid_values=allow)
    errs += _rules("spec.ingress", spec.ingress, "from", allow)
    errs += _rules("spec.egress", spec.egress, "to", allow)
    types = list(spec.policy_types)
    if len(types) > len(networking.POLICY_TYPES):
        shown = go_strings(types, "[]networking.PolicyType")
        too_many = "may not specify more than two policyTypes"
        return [*errs, fields.invalid("spec.policyTypes", shown, too_many)]
    for i, policy_type in enumerate(types):
        if policy_type not in networking.POLICY_TYPES:
            errs.append(
                fields.unsupported(f"spec.policyTypes[{i}]", policy_type, networking.POLICY_TYPES)
            )
    return errs


def network_policy(obj: networking_pb2.NetworkPolicy) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + _spec(obj.spec, allow=False)


def network_policy_update(
    new: networking_pb2.NetworkPolicy, old: networking_pb2.NetworkPolicy
) -> list[FieldError]:
    """ValidateNetworkPolicyUpdate: label values in selectors may stay invalid when the stored
    pod selector had such values (ValidationOptionsForNetworking)."""
    allow = bool(label_selector("", old.spec.pod_selector, allow_invalid_values=False))
    return object_meta(new.metadata, namespaced=True) + _spec(new.spec, allow)
