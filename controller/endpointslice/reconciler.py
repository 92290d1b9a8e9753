"""From a Service and its pods to the EndpointSlices that should exist (kubernetes
staging/src/k8s.io/endpointslice reconciler.go and utils.go), as plain functions of the cached
objects: what to create, update and delete, which the controller then writes.

A pod is an endpoint of each address type the Service has: its addresses of that type, its
conditions (ready, serving, terminating), node, zone, hostname and a reference to it. Endpoints
are grouped by the ports they expose (a named target port can be a different number on each pod),
each group into slices of at most max_endpoints (100). Existing slices are changed as little as
possible: an endpoint stays in its slice, new ones fill the slices already being written, then
the slice closest to full, then new slices; a slice left empty is deleted, or reused for a slice
that would be created."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from controller.framework import endpoint_pods, pod_state
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import SERVICE_NAME_LABEL

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
ZONE_LABEL = "topology.kubernetes.io/zone"
MAX_ENDPOINTS_PER_SLICE = 100
_RESERVED_LABELS = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, svc_helper.HEADLESS_LABEL)

# A set of ports, as a hashable key (NewPortMapKey).
PortKey = tuple[tuple[str, str, int, str], ...]
# An endpoint's identity in a slice (hashEndpoint): addresses, hostname and the pod it is.
EndpointKey = tuple[tuple[str, ...], str, str, str]


def port_key(ports: Sequence[discovery_pb2.EndpointPort]) -> PortKey:
    return tuple(
        sorted(
            (
                p.name,
                p.protocol,
                p.port if p.HasField("port") else -1,
                p.app_protocol if p.HasField("app_protocol") else "",
            )
            for p in ports
        )
    )


def endpoint_key(ep: discovery_pb2.Endpoint) -> EndpointKey:
    ref = ep.target_ref
    return (tuple(sorted(ep.addresses)), ep.hostname, ref.namespace, ref.name)


@dataclass
class Desired:
    """The endpoints that expose one set of ports, by their identity."""

    ports: list[discovery_pb2.EndpointPort]
    endpoints: dict[EndpointKey, discovery_pb2.Endpoint] = field(default_factory=dict)


def endpoint_ports(svc: service_pb2.Service, pod: core_pb2.Pod) -> list[discovery_pb2.EndpointPort]:
    """getEndpointPorts: each service port the pod has, with the pod's number for it; a port
    whose named target the pod lacks is left out."""
    out = []
    for sp in svc.spec.ports:
        number = svc_helper.find_port(pod, sp)
        if number is None:
            continue
        port = discovery_pb2.EndpointPort(name=sp.name, protocol=sp.protocol, port=number)
        if sp.HasField("app_protocol"):
            port.app_protocol = sp.app_protocol
        out.append(port)
    return out


def pod_endpoint(
    pod: core_pb2.Pod, node: core_pb2.Node | None, svc: service_pb2.Service, family: str
) -> discovery_pb2.Endpoint:
    """podToEndpoint: ready is never true for a terminating pod, unless the Service publishes
    not-ready addresses; serving is the pod's readiness, terminating or not."""
    serving = pod_state.is_ready(pod)
    terminating = bool(pod.metadata.deletion_timestamp)
    ep = discovery_pb2.Endpoint(
        addresses=endpoint_pods.addresses(pod, family),
        conditions=discovery_pb2.EndpointConditions(
            ready=svc.spec.publish_not_ready_addresses or (serving and not terminating),
            serving=serving,
            terminating=terminating,
        ),
        target_ref=core_pb2.ObjectReference(
            kind="Pod",
            namespace=pod.metadata.namespace,
            name=pod.metadata.name,
            uid=pod.metadata.uid,
        ),
    )
    if pod.spec.node_name:
        ep.node_name = pod.spec.node_name
    if node is not None and node.metadata.labels.get(ZONE_LABEL):
        ep.zone = node.metadata.labels[ZONE_LABEL]
    if endpoint_pods.should_set_hostname(pod, svc):
        ep.hostname = pod.spec.hostname
    return ep


def desired_endpoints(
    svc: service_pb2.Service,
    pods: Sequence[core_pb2.Pod],
    nodes: Mapping[str, core_pb2.Node],
    family: str,
) -> tuple[dict[PortKey, Desired], list[str]]:
    """The endpoints of one address type, grouped by their ports, and the pods left out because
    their node is not known (unless the Service publishes not-ready addresses), which make the
    controller try again."""
    desired: dict[PortKey, Desired] = {}
    missing: list[str] = []
    headless_without_ports = (
        not svc.spec.ports and svc.spec.cluster_ip == svc_helper.CLUSTER_IP_NONE
    )
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        if not endpoint_pods.should_be_in_endpoints(pod, include_terminating=True):
            continue
        ports = [] if headless_without_ports else endpoint_ports(svc, pod)
        node = nodes.get(pod.spec.node_name)
        if node is None and not svc.spec.publish_not_ready_addresses:
            missing.append(
                f"skipping Pod {pod.metadata.name} for Service {svc.metadata.namespace}/"
                f"{svc.metadata.name}: Node {pod.spec.node_name} Not Found"
            )
            continue
        ep = pod_endpoint(pod, node, svc, family)
        if ep.addresses:
            group = desired.setdefault(port_key(ports), Desired(ports))
            group.endpoints[endpoint_key(ep)] = ep
    return desired, missing


# ------------------------------------------------------------------ slices


def slice_labels(
    current: Mapping[str, str], svc: service_pb2.Service
) -> tuple[dict[str, str], bool]:
    """setEndpointSliceLabels: the Service's labels, the headless label of a Service without a
    cluster IP and the two labels naming the Service and this controller; whether the Service's
    own labels changed."""
    own = {k: v for k, v in current.items() if k not in _RESERVED_LABELS}
    wanted = {k: v for k, v in svc.metadata.labels.items() if k not in _RESERVED_LABELS}
    changed = own != wanted
    if not svc_helper.is_ip_set(svc):
        wanted[svc_helper.HEADLESS_LABEL] = ""
    wanted[SERVICE_NAME_LABEL] = svc.metadata.name
    wanted[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return wanted, changed


def slice_name_prefix(service_name: str) -> str:
    """getEndpointSlicePrefix: "<service>-" while that is a valid generateName."""
    prefix = f"{service_name}-"
    return prefix if len(prefix) <= 253 - 5 else service_name


def new_slice(
    svc: service_pb2.Service, ports: Sequence[discovery_pb2.EndpointPort], family: str
) -> discovery_pb2.EndpointSlice:
    labels, _ = slice_labels({}, svc)
    return discovery_pb2.EndpointSlice(
        metadata=meta_pb2.ObjectMeta(
            generate_name=slice_name_prefix(svc.metadata.name),
            namespace=svc.metadata.namespace,
            labels=labels,
            owner_references=[
                meta_pb2.OwnerReference(
                    api_version=resources.SERVICE.api_version,
                    kind=resources.SERVICE.kind,
                    name=svc.metadata.name,
                    uid=svc.metadata.uid,
                    controller=True,
                    block_owner_deletion=True,
                )
            ],
        ),
        address_type=family,
        ports=list(ports),
    )


def owned_by(eps: discovery_pb2.EndpointSlice, svc: service_pb2.Service) -> bool:
    return any(
        ref.uid == svc.metadata.uid and ref.kind == "Service" and ref.api_version == "v1"
        for ref in eps.metadata.owner_references
    )


def _copy(eps: discovery_pb2.EndpointSlice) -> discovery_pb2.EndpointSlice:
    out = discovery_pb2.EndpointSlice()
    out.CopyFrom(eps)
    return out


@dataclass
class SlicePlan:
    create: list[discovery_pb2.EndpointSlice] = field(default_factory=list)
    update: list[discovery_pb2.EndpointSlice] = field(default_factory=list)
    delete: list[discovery_pb2.EndpointSlice] = field(default_factory=list)

    def extend(self, other: SlicePlan) -> None:
        self.create += other.create
        self.update += other.update
        self.delete += other.delete


def _plan_ports(
    svc: service_pb2.Service,
    existing: Sequence[discovery_pb2.EndpointSlice],
    desired: Desired,
    family: str,
    max_endpoints: int,
) -> SlicePlan:
    """reconcileByPortMapping: the slices of one set of ports."""
    wanted = dict(desired.endpoints)
    by_name: dict[str, discovery_pb2.EndpointSlice] = {}
    unchanged: list[str] = []
    to_update: list[str] = []
    to_delete: list[str] = []
    # 1. Existing slices keep the endpoints still wanted, as they now are.
    for eps in existing:
        by_name[eps.metadata.name] = eps
        kept = []
        changed = False
        for ep in eps.endpoints:
            got = wanted.pop(endpoint_key(ep), None)
            if got is not None:
                kept.append(got)
                changed = changed or got != ep
        labels, labels_changed = slice_labels(eps.metadata.labels, svc)
        if changed or len(kept) != len(eps.endpoints):
            if not kept:
                to_delete.append(eps.metadata.name)
                continue
            copy = _copy(eps)
            del copy.endpoints[:]
            copy.endpoints.extend(kept)
            copy.metadata.labels.clear()
            copy.metadata.labels.update(labels)
            by_name[eps.metadata.name] = copy
            to_update.append(eps.metadata.name)
        elif labels_changed:
            copy = _copy(eps)
            copy.metadata.labels.clear()
            copy.metadata.labels.update(labels)
            by_name[eps.metadata.name] = copy
            to_update.append(eps.metadata.name)
        else:
            unchanged.append(eps.metadata.name)
    remaining = list(wanted.values())
    # 2. The slices being written anyway are filled first, the fullest first.
    for name in sorted(to_update, key=lambda n: -len(by_name[n].endpoints)):
        eps = by_name[name]
        while remaining and len(eps.endpoints) < max_endpoints:
            eps.endpoints.append(remaining.pop(0))
    # 3. Then an unchanged slice the rest fits in best, else new slices.
    create: list[discovery_pb2.EndpointSlice] = []
    while remaining:
        target: discovery_pb2.EndpointSlice | None = None
        if len(remaining) < max_endpoints and unchanged:
            target = _slice_to_fill([by_name[n] for n in unchanged], len(remaining), max_endpoints)
        if target is None:
            target = new_slice(svc, desired.ports, family)
        else:
            target = _copy(target)
            by_name[target.metadata.name] = target
        while remaining and len(target.endpoints) < max_endpoints:
            target.endpoints.append(remaining.pop(0))
        if target.metadata.name:
            to_update.append(target.metadata.name)
            unchanged.remove(target.metadata.name)
        else:
            create.append(target)
    return SlicePlan(
        create=create,
        update=[by_name[n] for n in sorted(set(to_update))],
        delete=[by_name[n] for n in sorted(to_delete)],
    )


def _slice_to_fill(
    slices: Sequence[discovery_pb2.EndpointSlice], count: int, max_endpoints: int
) -> discovery_pb2.EndpointSlice | None:
    """getSliceToFill: the slice closest to full once `count` endpoints are added."""
    best, best_room = None, max_endpoints
    for eps in slices:
        room = max_endpoints - (count + len(eps.endpoints))
        if 0 <= room < best_room:
            best, best_room = eps, room
            if room == 0:
                break
    return best


def _is_placeholder(
    eps: discovery_pb2.EndpointSlice, placeholder: discovery_pb2.EndpointSlice
) -> bool:
    """placeholderSliceCompare: only namespace, labels, owners, address type, endpoints and
    ports count."""
    return (
        eps.metadata.namespace == placeholder.metadata.namespace
        and dict(eps.metadata.labels) == dict(placeholder.metadata.labels)
        and list(eps.metadata.owner_references) == list(placeholder.metadata.owner_references)
        and eps.address_type == placeholder.address_type
        and not eps.endpoints
        and not eps.ports
    )


def plan_address_type(
    svc: service_pb2.Service,
    existing: Sequence[discovery_pb2.EndpointSlice],
    desired: Mapping[PortKey, Desired],
    family: str,
    max_endpoints: int = MAX_ENDPOINTS_PER_SLICE,
) -> SlicePlan:
    """reconcileByAddressType: the slices of one address type. A Service without endpoints keeps
    one empty placeholder slice, so that consumers see it has none."""
    plan = SlicePlan()
    by_ports: dict[PortKey, list[discovery_pb2.EndpointSlice]] = {}
    for eps in existing:
        if owned_by(eps, svc):
            by_ports.setdefault(port_key(eps.ports), []).append(eps)
        else:
            plan.delete.append(eps)
    for key, group in desired.items():
        plan.extend(_plan_ports(svc, by_ports.get(key, []), group, family, max_endpoints))
    for key, group_slices in by_ports.items():
        if key not in desired:
            plan.delete += group_slices
    if len(existing) == len(plan.delete) and not plan.create:
        placeholder = new_slice(svc, [], family)
        if len(plan.delete) == 1 and _is_placeholder(plan.delete[0], placeholder):
            plan.delete = []
        else:
            plan.create.append(placeholder)
    return plan


def finalize(svc: service_pb2.Service, plan: SlicePlan) -> SlicePlan:
    """A slice to create takes the name of one to delete (of the same address type and
    Service) and becomes its update; nothing is created for a Service being deleted."""
    create, update, delete = list(plan.create), list(plan.update), list(plan.delete)
    i = 0
    while i < len(delete) and create:
        old, new = delete[i], create[-1]
        if old.address_type == new.address_type and owned_by(old, svc):
            new.metadata.name = old.metadata.name
            new.metadata.generate_name = ""
            new.metadata.resource_version = old.metadata.resource_version
            create.pop()
            update.append(new)
            delete.pop(i)
        else:
            i += 1
    if svc.metadata.deletion_timestamp:
        create = []
    return SlicePlan(create, update, delete)


def plan_slices(
    svc: service_pb2.Service,
    pods: Sequence[core_pb2.Pod],
    nodes: Mapping[str, core_pb2.Node],
    existing: Sequence[discovery_pb2.EndpointSlice],
    max_endpoints: int = MAX_ENDPOINTS_PER_SLICE,
) -> tuple[SlicePlan, list[str]]:
    """Reconcile: every address type of the Service, and the deletion of slices of a type it no
    longer has; with the problems to retry for (pods on unknown nodes)."""
    families = endpoint_pods.address_families(svc)
    plan = SlicePlan()
    problems: list[str] = []
    by_family: dict[str, list[discovery_pb2.EndpointSlice]] = {}
    for eps in existing:
        if eps.address_type in families:
            by_family.setdefault(eps.address_type, []).append(eps)
        else:
            plan.delete.append(eps)
    for family in families:
        desired, missing = desired_endpoints(svc, pods, nodes, family)
        problems += missing
        plan.extend(
            plan_address_type(svc, by_family.get(family, []), desired, family, max_endpoints)
        )
    return finalize(svc, plan), sorted(set(problems))
