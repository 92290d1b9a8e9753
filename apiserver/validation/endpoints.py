"""Endpoints and EndpointSlice validation (kubernetes pkg/apis/core/validation ValidateEndpoints and
pkg/apis/discovery/validation ValidateEndpointSlice, with their updates)."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable
from apiserver.validation.meta import object_meta
from apiserver.validation.network import (
    non_special_ip,
    port_number,
    protocol,
    qualified_name,
    valid_ip,
)
from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svc_helper

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000
MAX_TOPOLOGY_LABELS = 16
MAX_ZONE_HINTS = 8


def _too_many(path: str, count: int, limit: int) -> FieldError:
    return fields.FieldError(path, "Too many", count, f"must have at most {limit} items")


def _address(path: str, address: service_pb2.EndpointAddress) -> list[FieldError]:
    errs = valid_ip(f"{path}.ip", address.ip)
    if address.hostname:
        errs += fields.dns1123_label(f"{path}.hostname", address.hostname)
    if address.HasField("node_name"):
        errs += fields.dns1123_subdomain(f"{path}.nodeName", address.node_name)
    if not errs:
        errs += non_special_ip(f"{path}.ip", address.ip)
    return errs


def _endpoint_port(
    path: str, port: service_pb2.EndpointPort, require_name: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not port.name:
        errs.append(fields.required(f"{path}.name"))
    elif port.name:
        errs += fields.dns1123_label(f"{path}.name", port.name)
    errs += port_number(f"{path}.port", port.port)
    errs += protocol(f"{path}.protocol", port.protocol)
    if port.HasField("app_protocol"):
        errs += qualified_name(f"{path}.appProtocol", port.app_protocol)
    return errs


def endpoints(obj: service_pb2.Endpoints) -> list[FieldError]:
    """ValidateEndpoints: every subset has an address; addresses are IPs that are not special;
    ports are named when there are several."""
    errs = object_meta(obj.metadata, namespaced=True)
    for i, subset in enumerate(obj.subsets):
        path = f"subsets[{i}]"
        if not subset.addresses and not subset.not_ready_addresses:
            errs.append(fields.required(path, "must specify `addresses` or `notReadyAddresses`"))
        for j, address in enumerate(subset.addresses):
            errs += _address(f"{path}.addresses[{j}]", address)
        for j, address in enumerate(subset.not_ready_addresses):
            errs += _address(f"{path}.notReadyAddresses[{j}]", address)
        for j, port in enumerate(subset.ports):
            errs += _endpoint_port(f"{path}.ports[{j}]", port, len(subset.ports) > 1)
    return errs


def endpoints_update(new: service_pb2.Endpoints, old: service_pb2.Endpoints) -> list[FieldError]:
    return endpoints(new)


# ------------------------------------------------------------------ EndpointSlice


def _slice_address(path: str, address_type: str, address: str) -> list[FieldError]:
    if address_type in (svc_helper.IPV4, svc_helper.IPV6):
        errs: list[FieldError] = []
        if svc_helper.ip_family(address) != address_type:
            errs.append(fields.invalid(path, address, f"must be a valid {address_type} address"))
        return errs + non_special_ip(path, address)
    if address_type == "FQDN":
        return _fully_qualified_domain_name(path, address)
    return []  # an unknown type is refused by addressType's own check


def _fully_qualified_domain_name(path: str, name: str) -> list[FieldError]:
    if not name:
        return [fields.required(path)]
    name = name.removesuffix(".")
    errs = fields.dns1123_subdomain(path, name)
    if errs:
        return errs
    labels = name.split(".")
    if len(labels) < 2:
        return [
            fields.invalid(
                path, name, "should be a domain with at least two segments separated by dots"
            )
        ]
    for label in labels:
        label_errs = fields.dns1123_label(path, label)
        if label_errs:
            return label_errs
    return []


def _slice_endpoint(path: str, address_type: str, ep: discovery_pb2.Endpoint) -> list[FieldError]:
    errs: list[FieldError] = []
    addresses_path = f"{path}.addresses"
    if not ep.addresses:
        errs.append(fields.required(addresses_path, "must contain at least 1 address"))
    elif len(ep.addresses) > MAX_ADDRESSES:
        errs.append(_too_many(addresses_path, len(ep.addresses), MAX_ADDRESSES))
    for i, address in enumerate(ep.addresses):
        errs += _slice_address(f"{addresses_path}[{i}]", address_type, address)
    if ep.HasField("node_name"):
        errs += fields.dns1123_subdomain(f"{path}.nodeName", ep.node_name)
    topology_path = f"{path}.deprecatedTopology"
    if len(ep.deprecated_topology) > MAX_TOPOLOGY_LABELS:
        errs.append(_too_many(topology_path, len(ep.deprecated_topology), MAX_TOPOLOGY_LABELS))
    errs += fields.label_map(topology_path, ep.deprecated_topology)
    if ep.HasField("hostname"):
        errs += fields.dns1123_label(f"{path}.hostname", ep.hostname)
    if ep.HasField("hints"):
        zones_path = f"{path}.hints.forZones"
        zones = ep.hints.for_zones
        if len(zones) > MAX_ZONE_HINTS:
            errs.append(_too_many(zones_path, len(zones), MAX_ZONE_HINTS))
        else:
            seen: set[str] = set()
            for i, zone in enumerate(zones):
                name_path = f"{zones_path}[{i}].name"
                if zone.name in seen:
                    errs.append(fields.duplicate(name_path, zone.name))
                seen.add(zone.name)
                errs += [
                    fields.invalid(name_path, zone.name, e.detail)
                    for e in fields.label_map(name_path, {"k": zone.name})
                ]
    return errs


def _slice_ports(ports: list[discovery_pb2.EndpointPort]) -> list[FieldError]:
    if len(ports) > MAX_PORTS:
        return [_too_many("ports", len(ports), MAX_PORTS)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        path = f"ports[{i}]"
        if port.name:
            errs += fields.dns1123_label(f"{path}.name", port.name)
        if port.name in names:
            errs.append(fields.duplicate(f"{path}.name", port.name))
        names.add(port.name)
        if not port.HasField("protocol"):
            errs.append(fields.required(f"{path}.protocol"))
        else:
            errs += protocol(f"{path}.protocol", port.protocol)
        if port.HasField("app_protocol"):
            errs += qualified_name(f"{path}.appProtocol", port.app_protocol)
    return errs


def endpoint_slice(obj: discovery_pb2.EndpointSlice) -> list[FieldError]:
    """ValidateEndpointSlice."""
    errs = object_meta(obj.metadata, namespaced=True)
    if not obj.address_type:
        errs.append(fields.required("addressType"))
    elif obj.address_type not in ADDRESS_TYPES:
        errs.append(fields.unsupported("addressType", obj.address_type, ADDRESS_TYPES))
    if len(obj.endpoints) > MAX_ENDPOINTS:
        errs.append(_too_many("endpoints", len(obj.endpoints), MAX_ENDPOINTS))
    else:
        for i, ep in enumerate(obj.endpoints):
            errs += _slice_endpoint(f"endpoints[{i}]", obj.address_type, ep)
    return errs + _slice_ports(list(obj.ports))


def endpoint_slice_update(
    new: discovery_pb2.EndpointSlice, old: discovery_pb2.EndpointSlice
) -> list[FieldError]:
    return endpoint_slice(new) + immutable("addressType", new.address_type, old.address_type)
