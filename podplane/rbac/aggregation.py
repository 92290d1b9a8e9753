"""ClusterRole aggregation (pkg/controller/clusterroleaggregation): a cluster role with an
aggregationRule holds the rules of every other cluster role its selectors match: selector by
selector, the matched roles in name order, each rule once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import selectors

AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"


def selected(role: rbac_pb2.ClusterRole, others: Iterable[rbac_pb2.ClusterRole]) -> list[str]:
    """The names of the cluster roles `role`'s selectors match (not itself), selector by
    selector, each in name order; a selector that cannot be evaluated matches nothing."""
    names: list[str] = []
    candidates = list(others)
    for sel in role.aggregation_rule.cluster_role_selectors:
        try:
            matcher = selectors.from_label_selector_message(sel)
        except selectors.SelectorError:
            continue
        names += sorted(
            o.metadata.name
            for o in candidates
            if o.metadata.name != role.metadata.name and matcher.matches(o.metadata.labels)
        )
    return names


def aggregated_rules(
    role: rbac_pb2.ClusterRole, roles: Mapping[str, rbac_pb2.ClusterRole]
) -> list[rbac_pb2.PolicyRule]:
    """The rules `role` should hold: those of the roles it selects, without duplicates."""
    rules: list[rbac_pb2.PolicyRule] = []
    for name in selected(role, roles.values()):
        for rule in roles[name].rules:
            if rule not in rules:
                rules.append(rule)
    return rules
