"""networking.k8s.io/v1's names and rules that its objects' users share (k8s.io/api/networking/v1
and the DefaultIngressClass admission plugin): the path types, the policy types, the default
class annotation, and which class is the default."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.networking.v1 import networking_pb2

PATH_TYPE_EXACT = "Exact"
PATH_TYPE_PREFIX = "Prefix"
PATH_TYPE_IMPLEMENTATION_SPECIFIC = "ImplementationSpecific"
# Sorted, as Kubernetes lists them in its "supported values".
PATH_TYPES = (PATH_TYPE_EXACT, PATH_TYPE_IMPLEMENTATION_SPECIFIC, PATH_TYPE_PREFIX)

POLICY_TYPE_INGRESS = "Ingress"
POLICY_TYPE_EGRESS = "Egress"
POLICY_TYPES = (POLICY_TYPE_INGRESS, POLICY_TYPE_EGRESS)
# A NetworkPolicy port's protocols, in the order Kubernetes lists them; TCP the default.
PROTOCOL_TCP = "TCP"
POLICY_PROTOCOLS = (PROTOCOL_TCP, "UDP", "SCTP")

# IngressClassParametersReference scopes.
SCOPE_NAMESPACE = "Namespace"
SCOPE_CLUSTER = "Cluster"
SCOPES = (SCOPE_CLUSTER, SCOPE_NAMESPACE)

# An IngressClass with this annotation "true" is the class of Ingresses created without one.
IS_DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
# The class an Ingress named before spec.ingressClassName existed (still honoured).
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def is_default_class(ingress_class: networking_pb2.IngressClass) -> bool:
    return ingress_class.metadata.annotations.get(IS_DEFAULT_CLASS_ANNOTATION) == "true"


def default_class(
    classes: Iterable[networking_pb2.IngressClass],
) -> networking_pb2.IngressClass | None:
    """The default class (getDefaultClass): of several, the newest, then the first by name."""
    defaults = sorted((c for c in classes if is_default_class(c)), key=lambda c: c.metadata.name)
    # Stable: the newest first, ties keep the name order.
    defaults.sort(key=lambda c: c.metadata.creation_timestamp, reverse=True)
    return defaults[0] if defaults else None
