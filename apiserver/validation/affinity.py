"""Scheduling constraints of a pod spec: affinity and topology spread (kubernetes
pkg/apis/core/validation: validateAffinity, validateNodeSelectorTerm, validatePodAffinityTerm,
validateTopologySpreadConstraints). The scheduler compiles these; an operator it does not know must
be refused here, not found by the scheduler later."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
NODE_INCLUSION_POLICIES = ("Honor", "Ignore")
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def _values_for_operator(
    path: str, operator: str, values: Sequence[str], operators: tuple[str, ...]
) -> list[FieldError]:
    if operator in ("In", "NotIn"):
        if not values:
            return [
                fields.required(
                    f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                )
            ]
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            return [
                fields.forbidden(
                    f"{path}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            ]
    elif operator in ("Gt", "Lt") and operator in operators:
        if len(values) != 1:
            return [
                fields.required(
                    f"{path}.values",
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                )
            ]
    else:
        return [fields.unsupported(f"{path}.operator", operator, operators)]
    return []


def label_selector(path: str, selector: meta_pb2.LabelSelector) -> list[FieldError]:
    """ValidateLabelSelector (meta/v1)."""
    errs: list[FieldError] = []
    for i, expr in enumerate(selector.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        errs += _values_for_operator(p, expr.operator, expr.values, LABEL_SELECTOR_OPERATORS)
        errs += fields.qualified_name(f"{p}.key", expr.key)
    errs += fields.label_map(f"{path}.matchLabels", selector.match_labels)
    return errs


def _node_selector_term(path: str, term: core_pb2.NodeSelectorTerm) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(term.match_expressions):
        p = f"{path}.matchExpressions[{j}]"
        errs += _values_for_operator(p, req.operator, req.values, NODE_SELECTOR_OPERATORS)
        errs += fields.qualified_name(f"{p}.key", req.key)
    for j, req in enumerate(term.match_fields):
        p = f"{path}.matchFields[{j}]"
        if req.key != "metadata.name":
            errs.append(fields.invalid(f"{p}.key", req.key, "not a valid field selector key"))
        if req.operator not in ("In", "NotIn"):
            errs.append(fields.unsupported(f"{p}.operator", req.operator, ("In", "NotIn")))
        elif len(req.values) != 1:
            errs.append(
                fields.required(
                    f"{p}.values",
                    "must be only one value when `operator` "
                    "is 'In' or 'NotIn' for node field selector",
                )
            )
    return errs


def _weight(path: str, weight: int) -> list[FieldError]:
    if not 1 <= weight <= 100:
        return [fields.invalid(path, weight, "must be in the range 1-100")]
    return []


def node_selector(path: str, selector: core_pb2.NodeSelector) -> list[FieldError]:
    """ValidateNodeSelector: at least one term, each valid (a pod's required node affinity, a
    persistent volume's node affinity)."""
    if not selector.node_selector_terms:
        return [
            fields.required(
                f"{path}.nodeSelectorTerms", "must have at least one node selector term"
            )
        ]
    errs: list[FieldError] = []
    for i, term in enumerate(selector.node_selector_terms):
        errs += _node_selector_term(f"{path}.nodeSelectorTerms[{i}]", term)
    return errs


def _node_affinity(path: str, affinity: core_pb2.NodeAffinity) -> list[FieldError]:
    errs: list[FieldError] = []
    if affinity.HasField("required_during_scheduling_ignored_during_execution"):
        errs += node_selector(
            f"{path}.{_REQUIRED}", affinity.required_during_scheduling_ignored_during_execution
        )
    for i, preferred in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = f"{path}.{_PREFERRED}[{i}]"
        errs += _weight(f"{p}.weight", preferred.weight)
        errs += _node_selector_term(f"{p}.preference", preferred.preference)
    return errs


def _pod_affinity_term(path: str, term: core_pb2.PodAffinityTerm) -> list[FieldError]:
    errs = label_selector(f"{path}.labelSelector", term.label_selector)
    errs += label_selector(f"{path}.namespaceSelector", term.namespace_selector)
    for i, namespace in enumerate(term.namespaces):
        errs += fields.dns1123_label(f"{path}.namespaces[{i}]", namespace)
    errs += _match_and_mismatch_label_keys(path, term)
    if not term.topology_key:
        errs.append(fields.required(f"{path}.topologyKey", "can not be empty"))
    else:
        errs += fields.qualified_name(f"{path}.topologyKey", term.topology_key)
    return errs


def _label_keys(path: str, keys: Sequence[str], selector_set: bool) -> list[FieldError]:
    """validateLabelKeys: label names, and only beside a labelSelector."""
    if not keys:
        return []
    if not selector_set:
        return [fields.forbidden(path, "must not be specified when labelSelector is not set")]
    errs: list[FieldError] = []
    for i, key in enumerate(keys):
        errs += fields.qualified_name(f"{path}[{i}]", key)
    return errs


def _match_and_mismatch_label_keys(path: str, term: core_pb2.PodAffinityTerm) -> list[FieldError]:
    """validateMatchLabelKeysAndMismatchLabelKeys. By now the server has merged each key's value
    into the labelSelector (as `key In (value)`), so a key also in matchLabels was given twice."""
    selector_set = term.HasField("label_selector")
    errs = _label_keys(f"{path}.matchLabelKeys", term.match_label_keys, selector_set)
    errs += _label_keys(f"{path}.mismatchLabelKeys", term.mismatch_label_keys, selector_set)
    if selector_set:
        index = {key: i for i, key in enumerate(term.match_label_keys)}
        seen = set(term.label_selector.match_labels)
        for expression in term.label_selector.match_expressions:
            key = expression.key
            if key in index and key in seen:
                errs.append(
                    fields.invalid(
                        f"{path}[{index[key]}]",
                        key,
                        "exists in both matchLabelKeys and labelSelector",
                    )
                )
            seen.add(key)
    mismatch = set(term.mismatch_label_keys)
    errs += [
        fields.invalid(
            f"{path}.matchLabelKeys[{i}]",
            key,
            "exists in both matchLabelKeys and mismatchLabelKeys",
        )
        for i, key in enumerate(term.match_label_keys)
        if key in mismatch
    ]
    return errs


def _pod_affinity(
    path: str, affinity: core_pb2.PodAffinity | core_pb2.PodAntiAffinity
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, term in enumerate(affinity.required_during_scheduling_ignored_during_execution):
        errs += _pod_affinity_term(f"{path}.{_REQUIRED}[{i}]", term)
    for i, weighted in enumerate(affinity.preferred_during_scheduling_ignored_during_execution):
        p = f"{path}.{_PREFERRED}[{i}]"
        errs += _weight(f"{p}.weight", weighted.weight)
        errs += _pod_affinity_term(f"{p}.podAffinityTerm", weighted.pod_affinity_term)
    return errs


def _topology_spread(
    path: str, constraints: Sequence[core_pb2.TopologySpreadConstraint]
) -> list[FieldError]:
    """validateTopologySpreadConstraints."""
    errs: list[FieldError] = []
    for i, c in enumerate(constraints):
        p = f"{path}[{i}]"
        if c.max_skew <= 0:
            errs.append(fields.invalid(f"{p}.maxSkew", c.max_skew, "must be greater than zero"))
        if not c.topology_key:
            errs.append(fields.required(f"{p}.topologyKey", "can not be empty"))
        if c.when_unsatisfiable not in WHEN_UNSATISFIABLE:
            errs.append(
                fields.unsupported(
                    f"{p}.whenUnsatisfiable", c.when_unsatisfiable, WHEN_UNSATISFIABLE
                )
            )
        if any(
            c.topology_key == later.topology_key
            and c.when_unsatisfiable == later.when_unsatisfiable
            for later in constraints[i + 1 :]
        ):
            errs.append(
                fields.duplicate(
                    f"{p}.{{topologyKey, whenUnsatisfiable}}",
                    f"{{{c.topology_key}, {c.when_unsatisfiable}}}",
                )
            )
        if c.HasField("min_domains"):
            if c.min_domains <= 0:
                errs.append(
                    fields.invalid(f"{p}.minDomains", c.min_domains, "must be greater than zero")
                )
            if c.when_unsatisfiable != "DoNotSchedule":
                errs.append(
                    fields.invalid(
                        f"{p}.minDomains",
                        c.min_domains,
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not "
                        f"{c.when_unsatisfiable}",
                    )
                )
        for name, json_name in (
            ("node_affinity_policy", "nodeAffinityPolicy"),
            ("node_taints_policy", "nodeTaintsPolicy"),
        ):
            if c.HasField(name) and getattr(c, name) not in NODE_INCLUSION_POLICIES:
                errs.append(
                    fields.unsupported(
                        f"{p}.{json_name}", getattr(c, name), NODE_INCLUSION_POLICIES
                    )
                )
        errs += _match_label_keys_in_spread(f"{p}.matchLabelKeys", c)
        errs += label_selector(f"{p}.labelSelector", c.label_selector)
    return errs


def _match_label_keys_in_spread(
    path: str, c: core_pb2.TopologySpreadConstraint
) -> list[FieldError]:
    if not c.match_label_keys:
        return []
    errs: list[FieldError] = []
    selector_keys: set[str] = set()
    if c.HasField("label_selector"):
        selector_keys = set(c.label_selector.match_labels) | {
            e.key for e in c.label_selector.match_expressions
        }
    else:
        errs.append(fields.forbidden(path, "must not be specified when labelSelector is not set"))
    for i, key in enumerate(c.match_label_keys):
        errs += fields.qualified_name(f"{path}[{i}]", key)
        if key in selector_keys:
            errs.append(
                fields.invalid(
                    f"{path}[{i}]", key, "exists in both matchLabelKeys and labelSelector"
                )
            )
    return errs


def scheduling_constraints(spec: core_pb2.PodSpec, path: str = "spec") -> list[FieldError]:
    """The affinity and topologySpreadConstraints of a pod spec."""
    errs: list[FieldError] = []
    affinity = spec.affinity
    if affinity.HasField("node_affinity"):
        errs += _node_affinity(f"{path}.affinity.nodeAffinity", affinity.node_affinity)
    if affinity.HasField("pod_affinity"):
        errs += _pod_affinity(f"{path}.affinity.podAffinity", affinity.pod_affinity)
    if affinity.HasField("pod_anti_affinity"):
        errs += _pod_affinity(f"{path}.affinity.podAntiAffinity", affinity.pod_anti_affinity)
    errs += _topology_spread(f"{path}.topologySpreadConstraints", spec.topology_spread_constraints)
    return errs
