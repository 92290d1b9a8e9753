"""The ingress, ingress class and network policy tables, as printIngress, printIngressClass and
printNetworkPolicy (kubernetes pkg/printers/internalversion/printers.go)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.labels import format_label_selector
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

_MAX_HOSTS = 3


def format_hosts(rules: Sequence[networking_pb2.IngressRule]) -> str:
    """The first three rules' hosts (those that have one), "*" when none has one."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == _MAX_HOSTS:
            more = True
        if not more and rule.host:
            hosts.append(rule.host)
    if not hosts:
        return "*"
    shown = ",".join(hosts)
    return f"{shown} + {len(rules) - _MAX_HOSTS} more..." if more else shown


def load_balancer_addresses(status: networking_pb2.IngressLoadBalancerStatus) -> str:
    """ingressLoadBalancerStatusStringer (wide): each point's IP, else its host name, sorted."""
    points = {entry.ip or entry.hostname for entry in status.ingress} - {""}
    return ",".join(sorted(points))


def ingress_row(ing: networking_pb2.Ingress, now: datetime) -> list[Cell]:
    spec = ing.spec
    return [
        ing.metadata.name,
        spec.ingress_class_name if spec.HasField("ingress_class_name") else "<none>",
        format_hosts(spec.rules),
        load_balancer_addresses(ing.status.load_balancer),
        "80, 443" if spec.tls else "80",
        human_age(ing.metadata.creation_timestamp, now),
    ]


def ingress_class_row(ic: networking_pb2.IngressClass, now: datetime) -> list[Cell]:
    parameters = "<none>"
    if ic.spec.HasField("parameters"):
        ref = ic.spec.parameters
        kind = f"{ref.kind}.{ref.api_group}" if ref.HasField("api_group") else ref.kind
        parameters = f"{kind}/{ref.name}"
    return [
        ic.metadata.name,
        ic.spec.controller,
        parameters,
        human_age(ic.metadata.creation_timestamp, now),
    ]


def network_policy_row(np: networking_pb2.NetworkPolicy, now: datetime) -> list[Cell]:
    return [
        np.metadata.name,
        format_label_selector(np.spec.pod_selector),
        human_age(np.metadata.creation_timestamp, now),
    ]


INGRESS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Class",
            "string",
            "The name of the IngressClass resource that should be used for additional "
            "configuration",
        ),
        Column(
            "Hosts",
            "string",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column(
            "Address",
            "string",
            "Address is a list containing ingress points for the load-balancer",
        ),
        Column("Ports", "string", "Ports of TLS configurations that open"),
        age_column(),
    ),
    row=ingress_row,
)
INGRESS_CLASS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Controller", "string", "Controller that is responsible for handling this class"),
        Column("Parameters", "string", "A reference to a resource with additional parameters"),
        age_column(),
    ),
    row=ingress_class_row,
)
NETWORK_POLICY_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Pod-Selector",
            "string",
            "Selects the pods to which this NetworkPolicy object applies.  The array of ingress "
            "rules is applied to any pods selected by this field. Multiple network policies can "
            "select the same set of pods.  In this case, the ingress rules for each are combined "
            "additively. This field is NOT optional and follows standard label selector "
            "semantics. An empty podSelector matches all pods in this namespace.",
        ),
        age_column(),
    ),
    row=network_policy_row,
)
