"""What a create or update of a Service changes before validation (kubernetes
pkg/registry/core/service/strategy.go's PrepareForCreate and PrepareForUpdate): status is the
server's; clusterIP and clusterIPs are kept in step; values the server allocated stay when a client
resubmits the object without them; fields a new type no longer uses are cleared, so that their
values are released."""

from __future__ import annotations

from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    LOAD_BALANCER,
    PREFER_DUAL_STACK,
    REQUIRE_DUAL_STACK,
    SINGLE_STACK,
)


def prepare_for_create(obj: service_pb2.Service) -> None:
    obj.ClearField("status")
    normalize_cluster_ips(None, obj)


def prepare_for_update(new: service_pb2.Service, old: service_pb2.Service) -> None:
    patch_allocated_values(new, old)
    normalize_cluster_ips(old, new)
    drop_type_dependent_fields(new, old)
    trim_fields_for_dual_stack_downgrade(new, old)


def patch_allocated_values(new: service_pb2.Service, old: service_pb2.Service) -> None:
    """A client that resubmits the object it created without the values the server allocated
    (its YAML) keeps them: the cluster IPs, node ports (by port name) and health check port."""
    if svc_helper.needs_cluster_ip(old) and svc_helper.needs_cluster_ip(new):
        if not new.spec.cluster_ip:
            new.spec.cluster_ip = old.spec.cluster_ip
        if not new.spec.cluster_ips:
            new.spec.cluster_ips.extend(old.spec.cluster_ips)
    if svc_helper.needs_node_port(old) and svc_helper.needs_node_port(new):
        by_name = {p.name: p.node_port for p in old.spec.ports}
        for port in new.spec.ports:
            if not port.node_port:
                port.node_port = by_name.get(port.name, 0)
    if svc_helper.needs_health_check(old) and svc_helper.needs_health_check(new):
        if not new.spec.health_check_node_port:
            new.spec.health_check_node_port = old.spec.health_check_node_port


def normalize_cluster_ips(old: service_pb2.Service | None, new: service_pb2.Service) -> None:
    """NormalizeClusterIPs: clients that set only clusterIP get clusterIPs to match; clearing
    clusterIP on an update clears clusterIPs when they were left as they were."""
    spec = new.spec
    if old is None:
        if spec.cluster_ip and not spec.cluster_ips:
            spec.cluster_ips.append(spec.cluster_ip)
        return
    old_ips = list(old.spec.cluster_ips)
    if old_ips and not spec.cluster_ips and old.spec.cluster_ip == spec.cluster_ip:
        spec.cluster_ips.extend(old_ips)
    if old.spec.cluster_ip != spec.cluster_ip:
        same_ips = old_ips == list(spec.cluster_ips)
        if old.spec.cluster_ip and not spec.cluster_ip:
            if same_ips:
                spec.ClearField("cluster_ips")
        elif same_ips:
            del spec.cluster_ips[:]
            spec.cluster_ips.append(spec.cluster_ip)


def drop_type_dependent_fields(new: service_pb2.Service, old: service_pb2.Service) -> None:
    """Fields the new type no longer uses are cleared when the update left them as they were
    (their values are released): cluster IPs and families when becoming ExternalName, node ports
    when becoming ClusterIP or ExternalName, the external traffic policy of a Service no longer
    reachable from outside, the health check port, a LoadBalancer's fields and status."""
    spec, old_spec = new.spec, old.spec
    if svc_helper.needs_cluster_ip(old) and not svc_helper.needs_cluster_ip(new):
        if old_spec.cluster_ip == spec.cluster_ip and list(old_spec.cluster_ips) == list(
            spec.cluster_ips
        ):
            spec.cluster_ip = ""
            spec.ClearField("cluster_ips")
        if list(old_spec.ip_families) == list(spec.ip_families):
            spec.ClearField("ip_families")
        if old_spec.ip_family_policy == spec.ip_family_policy:
            spec.ip_family_policy = ""
    if svc_helper.needs_node_port(old) and not svc_helper.needs_node_port(new):
        old_ports = {p.node_port for p in old_spec.ports if p.node_port}
        if {p.node_port for p in spec.ports if p.node_port} <= old_ports:
            for port in spec.ports:
                port.node_port = 0
    if (
        svc_helper.externally_accessible(old)
        and not svc_helper.externally_accessible(new)
        and old_spec.external_traffic_policy == spec.external_traffic_policy
    ):
        spec.external_traffic_policy = ""
    if (
        svc_helper.needs_health_check(old)
        and not svc_helper.needs_health_check(new)
        and old_spec.health_check_node_port == spec.health_check_node_port
    ):
        spec.health_check_node_port = 0
    if old_spec.type == LOAD_BALANCER and spec.type != LOAD_BALANCER:
        if (
            spec.HasField("allocate_load_balancer_node_ports")
            and old_spec.HasField("allocate_load_balancer_node_ports")
            and spec.allocate_load_balancer_node_ports == old_spec.allocate_load_balancer_node_ports
        ):
            spec.ClearField("allocate_load_balancer_node_ports")
        same_class = spec.HasField("load_balancer_class") == old_spec.HasField(
            "load_balancer_class"
        ) and (spec.load_balancer_class == old_spec.load_balancer_class)
        if same_class:
            spec.ClearField("load_balancer_class")
    # A load balancer's status goes with its type at once, as Kubernetes clears it: its
    # de-provisioning is asynchronous, which the user need not see.
    # (LoadBalancerStatus{}: its ingress emptied, the field kept as it was stored, so an update
    # that changes nothing writes nothing.)
    if spec.type != LOAD_BALANCER and new.status.load_balancer.ingress:
        del new.status.load_balancer.ingress[:]


def trim_fields_for_dual_stack_downgrade(
    new: service_pb2.Service, old: service_pb2.Service
) -> None:
    """Setting ipFamilyPolicy to SingleStack on a dual-stack Service drops its second IP and
    family."""
    was_dual = old.spec.ip_family_policy in (REQUIRE_DUAL_STACK, PREFER_DUAL_STACK)
    if was_dual and new.spec.ip_family_policy == SINGLE_STACK:
        del new.spec.cluster_ips[1:]
        del new.spec.ip_families[1:]
