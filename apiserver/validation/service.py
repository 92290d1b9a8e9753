"""Service validation (kubernetes pkg/apis/core/validation: ValidateService, ValidateServiceUpdate
and ValidateServiceStatusUpdate), with Kubernetes' field paths and wording; the cluster IP fields
are service_ips'.

Cluster IPs and node ports left empty are allocated after validation here (Kubernetes allocates
them before it), so a LoadBalancer's missing healthCheckNodePort is not an error: the allocator
fills it."""

from __future__ import annotations

from apiserver.validation import fields, service_ips
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from apiserver.validation.meta import object_meta
from apiserver.validation.network import (
    non_special_ip,
    port_number,
    port_number_or_name,
    protocol,
    qualified_name,
    valid_cidr,
    valid_ip,
)
from apiserver.validation.service_ips import IMMUTABLE_ONCE_SET
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    AFFINITY_CLIENT_IP,
    AFFINITY_NONE,
    LOAD_BALANCER,
    NODE_PORT,
    TRAFFIC_CLUSTER,
    TRAFFIC_LOCAL,
)

SESSION_AFFINITIES = (AFFINITY_CLIENT_IP, AFFINITY_NONE)
TRAFFIC_POLICIES = (TRAFFIC_CLUSTER, TRAFFIC_LOCAL)
TRAFFIC_DISTRIBUTIONS = ("PreferClose",)
LB_IP_MODES = ("Proxy", "VIP")
TOPOLOGY_MODE_ANNOTATION = "service.kubernetes.io/topology-mode"
TOPOLOGY_HINTS_ANNOTATION = "service.kubernetes.io/topology-aware-hints"
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


# ------------------------------------------------------------------ ValidateService


def _port(
    path: str, sp: service_pb2.ServicePort, require_name: bool, names: set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    if require_name and not sp.name:
        errs.append(fields.required(f"{path}.name"))
    elif sp.name:
        errs += fields.dns1123_label(f"{path}.name", sp.name)
        if sp.name in names:
            errs.append(fields.duplicate(f"{path}.name", sp.name))
        names.add(sp.name)
    errs += port_number(f"{path}.port", sp.port)
    errs += protocol(f"{path}.protocol", sp.protocol)
    errs += port_number_or_name(f"{path}.targetPort", sp.target_port)
    if sp.HasField("app_protocol"):
        errs += qualified_name(f"{path}.appProtocol", sp.app_protocol)
    return errs


def _go_service_port(protocol_: str, port: int) -> Shown:
    """The core.ServicePort Kubernetes reports a duplicate (protocol, port) as, printed by %#v."""
    return Shown(
        f'core.ServicePort{{Name:"", Protocol:"{protocol_}", AppProtocol:(*string)(nil), '
        f'Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, '
        "NodePort:0}"
    )


def _type_specific(obj: service_pb2.Service) -> list[FieldError]:
    spec = obj.spec
    errs: list[FieldError] = []
    headless = svc_helper.is_headless(obj)
    if spec.type in (LOAD_BALANCER, NODE_PORT) and headless:
        errs.append(
            fields.invalid(
                "spec.clusterIPs[0]",
                spec.cluster_ips[0],
                f"may not be set to 'None' for {spec.type} services",
            )
        )
    elif spec.type == svc_helper.EXTERNAL_NAME:
        for field_name, path in (("cluster_ips", "clusterIPs"), ("ip_families", "ipFamilies")):
            if len(getattr(spec, field_name)):
                errs.append(
                    fields.forbidden(f"spec.{path}", "may not be set for ExternalName services")
                )
        if spec.ip_family_policy:
            errs.append(
                fields.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
            )
        cname = spec.external_name.removesuffix(".")
        if cname:
            errs += fields.dns1123_subdomain("spec.externalName", cname)
        else:
            errs.append(fields.required("spec.externalName"))
    return errs


def _session_affinity(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    if not spec.session_affinity:
        return [fields.required("spec.sessionAffinity")]
    if spec.session_affinity not in SESSION_AFFINITIES:
        return [
            fields.unsupported("spec.sessionAffinity", spec.session_affinity, SESSION_AFFINITIES)
        ]
    path = "spec.sessionAffinityConfig"
    if spec.session_affinity == AFFINITY_NONE:
        if spec.HasField("session_affinity_config"):
            return [fields.forbidden(path, "must not be set when session affinity is None")]
        return []
    why = f"when session affinity type is {AFFINITY_CLIENT_IP}"
    if not spec.HasField("session_affinity_config"):
        return [fields.required(path, why)]
    config = spec.session_affinity_config
    if not config.HasField("client_ip"):
        return [fields.required(f"{path}.clientIP", why)]
    if not config.client_ip.HasField("timeout_seconds"):
        return [fields.required(f"{path}.clientIP.timeoutSeconds", why)]
    timeout = config.client_ip.timeout_seconds
    if not 0 < timeout <= svc_helper.MAX_CLIENT_IP_AFFINITY_SECONDS:
        return [
            fields.invalid(
                f"{path}.clientIP.timeoutSeconds",
                timeout,
                f"must be greater than 0 and less than {svc_helper.MAX_CLIENT_IP_AFFINITY_SECONDS}",
            )
        ]
    return []


def _node_ports(spec: service_pb2.ServiceSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.type == svc_helper.CLUSTER_IP:
        for i, sp in enumerate(spec.ports):
            if sp.node_port:
                errs.append(
                    fields.forbidden(
                        f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"
                    )
                )
    node_ports: set[tuple[str, int]] = set()
    for i, sp in enumerate(spec.ports):
        if not sp.node_port:
            continue
        key = (sp.protocol, sp.node_port)
        if key in node_ports:
            errs.append(fields.duplicate(f"spec.ports[{i}].nodePort", sp.node_port))
        node_ports.add(key)
    ports: set[tuple[str, int]] = set()
    for i, sp in enumerate(spec.ports):
        key = (sp.protocol, sp.port)
        if key in ports:
            errs.append(fields.duplicate(f"spec.ports[{i}]", _go_service_port(*key)))
        ports.add(key)
    return errs


def _source_ranges(obj: service_pb2.Service) -> list[FieldError]:
    spec = obj.spec
    errs: list[FieldError] = []
    lb_only = "may only be used when `type` is 'LoadBalancer'"
    if spec.load_balancer_source_ranges:
        # Kubernetes' path is capitalised so.
        path = "spec.LoadBalancerSourceRanges"
        if spec.type != LOAD_BALANCER:
            errs.append(fields.forbidden(path, lb_only))
        for i, value in enumerate(spec.load_balancer_source_ranges):
            errs += valid_cidr(f"{path}[{i}]", value.strip())
    elif SOURCE_RANGES_ANNOTATION in obj.metadata.annotations:
        path = f"metadata.annotations[{SOURCE_RANGES_ANNOTATION}]"
        if spec.type != LOAD_BALANCER:
            errs.append(fields.forbidden(path, lb_only))
        value = obj.metadata.annotations[SOURCE_RANGES_ANNOTATION].strip()
        if value:
            for cidr in value.split(","):
                errs += valid_cidr(path, cidr.strip())
    return errs


def _load_balancer_class_change(
    old: service_pb2.Service, new: service_pb2.Service
) -> list[FieldError]:
    if old.spec.type != LOAD_BALANCER or new.spec.type != LOAD_BALANCER:
        return []
    old_class = old.spec.load_balancer_class if old.spec.HasField("load_balancer_class") else None
    new_class = new.spec.load_balancer_class if new.spec.HasField("load_balancer_class") else None
    if old_class == new_class:
        return []
    shown = new_class if new_class is not None else "null"
    return [fields.invalid("spec.loadBalancerClass", shown, IMMUTABLE_ONCE_SET)]


def _load_balancer_fields(obj: service_pb2.Service) -> list[FieldError]:
    spec = obj.spec
    errs: list[FieldError] = []
    is_lb = spec.type == LOAD_BALANCER
    if spec.HasField("allocate_load_balancer_node_ports") and not is_lb:
        errs.append(
            fields.forbidden(
                "spec.allocateLoadBalancerNodePorts",
                "may only be used when `type` is 'LoadBalancer'",
            )
        )
    if is_lb and not spec.HasField("allocate_load_balancer_node_ports"):
        errs.append(fields.required("allocateLoadBalancerNodePorts"))  # sic: Kubernetes' path
    has_class = spec.HasField("load_balancer_class")
    if is_lb:
        if has_class:
            errs += qualified_name("spec.loadBalancerClass", spec.load_balancer_class)
    elif has_class:
        errs.append(
            fields.forbidden(
                "spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"
            )
        )
    return errs


def _traffic_policies(obj: service_pb2.Service) -> list[FieldError]:
    spec = obj.spec
    errs: list[FieldError] = []
    if not svc_helper.externally_accessible(obj):
        if spec.external_traffic_policy:
            errs.append(
                fields.invalid(
                    "spec.externalTrafficPolicy",
                    spec.external_traffic_policy,
                    "may only be set for externally-accessible services",
                )
            )
    elif not spec.external_traffic_policy:
        errs.append(fields.required("spec.externalTrafficPolicy"))
    elif spec.external_traffic_policy not in TRAFFIC_POLICIES:
        errs.append(
            fields.unsupported(
                "spec.externalTrafficPolicy", spec.external_traffic_policy, TRAFFIC_POLICIES
            )
        )
    if not svc_helper.needs_health_check(obj):
        if spec.health_check_node_port:
            errs.append(
                fields.invalid(
                    "spec.healthCheckNodePort",
                    spec.health_check_node_port,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                    "is 'Local'",
                )
            )
    elif spec.health_check_node_port:  # 0: allocated after validation
        errs += port_number("spec.healthCheckNodePort", spec.health_check_node_port)
    if not spec.internal_traffic_policy:
        if spec.type in (NODE_PORT, LOAD_BALANCER, svc_helper.CLUSTER_IP):
            errs.append(fields.required("spec.internalTrafficPolicy"))
    elif spec.internal_traffic_policy not in TRAFFIC_POLICIES:
        errs.append(
            fields.unsupported(
                "spec.internalTrafficPolicy", spec.internal_traffic_policy, TRAFFIC_POLICIES
            )
        )
    if spec.HasField("traffic_distribution") and (
        spec.traffic_distribution not in TRAFFIC_DISTRIBUTIONS
    ):
        errs.append(
            fields.unsupported(
                "spec.trafficDistribution", spec.traffic_distribution, TRAFFIC_DISTRIBUTIONS
            )
        )
    return errs


def service(obj: service_pb2.Service) -> list[FieldError]:
    """ValidateService."""
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True, name_rule=fields.dns1035_label)
    annotations = obj.metadata.annotations
    if (
        TOPOLOGY_MODE_ANNOTATION in annotations
        and TOPOLOGY_HINTS_ANNOTATION in annotations
        and annotations[TOPOLOGY_MODE_ANNOTATION] != annotations[TOPOLOGY_HINTS_ANNOTATION]
    ):
        errs.append(
            fields.invalid(
                f"metadata.annotations[{TOPOLOGY_MODE_ANNOTATION}]",
                annotations[TOPOLOGY_MODE_ANNOTATION],
                f"must match annotations[{TOPOLOGY_HINTS_ANNOTATION}] when both are specified",
            )
        )
    headless = svc_helper.is_headless(obj)
    if not spec.ports and not headless and spec.type != svc_helper.EXTERNAL_NAME:
        errs.append(fields.required("spec.ports"))
    errs += _type_specific(obj)
    names: set[str] = set()
    for i, sp in enumerate(spec.ports):
        errs += _port(f"spec.ports[{i}]", sp, len(spec.ports) > 1, names)
    errs += fields.label_map("spec.selector", spec.selector)
    errs += _session_affinity(spec)
    errs += service_ips.cluster_ips_related_fields(obj)
    for i, ip in enumerate(spec.external_ips):
        path = f"spec.externalIPs[{i}]"
        errs += valid_ip(path, ip) or non_special_ip(path, ip)
    if not spec.type:
        errs.append(fields.required("spec.type"))
    elif spec.type not in svc_helper.SERVICE_TYPES:
        errs.append(fields.unsupported("spec.type", spec.type, svc_helper.SERVICE_TYPES))
    errs += _node_ports(spec)
    errs += _source_ranges(obj)
    errs += _load_balancer_fields(obj)
    errs += _traffic_policies(obj)
    return errs


# ------------------------------------------------------------------ updates


def load_balancer_status(obj: service_pb2.Service) -> list[FieldError]:
    """ValidateLoadBalancerStatus."""
    ingress = obj.status.load_balancer.ingress
    path = "status.loadBalancer.ingress"
    if obj.spec.type != LOAD_BALANCER and len(ingress):
        return [fields.forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")]
    errs: list[FieldError] = []
    for i, ing in enumerate(ingress):
        p = f"{path}[{i}]"
        if ing.ip:
            errs += valid_ip(f"{p}.ip", ing.ip)
        if not ing.HasField("ip_mode"):
            if ing.ip:
                errs.append(fields.required(f"{p}.ipMode", "must be specified when `ip` is set"))
        elif not ing.ip:
            errs.append(
                fields.forbidden(f"{p}.ipMode", "may not be specified when `ip` is not set")
            )
        elif ing.ip_mode not in LB_IP_MODES:
            errs.append(fields.unsupported(f"{p}.ipMode", ing.ip_mode, LB_IP_MODES))
        if ing.hostname:
            errs += fields.dns1123_subdomain(f"{p}.hostname", ing.hostname)
            if svc_helper.ip_family(ing.hostname):
                errs.append(
                    fields.invalid(
                        f"{p}.hostname", ing.hostname, "must be a DNS name, not an IP address"
                    )
                )
    return errs


def service_update(new: service_pb2.Service, old: service_pb2.Service) -> list[FieldError]:
    """ValidateServiceUpdate, and ValidateServiceStatusUpdate's load balancer status (a status
    update reaches here with the stored spec)."""
    errs = service_ips.upgrade_downgrade_cluster_ips(old, new)
    errs += service_ips.upgrade_downgrade_ip_families(old, new)
    errs += _load_balancer_class_change(old, new)
    if (
        svc_helper.needs_health_check(old)
        and svc_helper.needs_health_check(new)
        and new.spec.health_check_node_port != old.spec.health_check_node_port
    ):
        errs.append(fields.forbidden("spec.healthCheckNodePort", "field is immutable"))
    return errs + service(new) + load_balancer_status(new)
