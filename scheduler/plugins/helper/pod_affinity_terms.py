"""A pod's inter-pod affinity terms, parsed once: which pods a term selects (its label selector in
its namespaces) and over which topology key (kubernetes framework.AffinityTerm and
schedutil.PodMatchesTermsNamespaceAndSelector)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)


@dataclass(frozen=True)
class AffinityTerm:
    topology_key: str
    # None matches no pod: a term without a label selector selects nothing, as in Kubernetes.
    selector: LabelSelector | None
    namespaces: frozenset[str]
    # An empty namespaceSelector ({}) selects every namespace.
    all_namespaces: bool = False

    def matches(self, pod: core_pb2.Pod) -> bool:
        """Whether `pod` is one of the pods this term selects."""
        return self.selects(pod.metadata.namespace, pod.metadata.labels)

    def selects(self, namespace: str, labels: Mapping[str, str]) -> bool:
        """matches() for a pod's namespace and labels read once (a dict reads faster than the
        protobuf map when one pod is matched against many terms)."""
        if self.selector is None:
            return False
        if not self.all_namespaces and namespace not in self.namespaces:
            return False
        return self.selector.matches(labels)


@dataclass(frozen=True)
class WeightedAffinityTerm:
    term: AffinityTerm
    weight: int


def _selector(message: meta_pb2.LabelSelector, has: bool) -> LabelSelector | None:
    if not has:
        return None
    try:
        return from_label_selector_message(message)
    except SelectorError:
        return None  # rejected by validation; never matches here


def affinity_term(pod: core_pb2.Pod, term: core_pb2.PodAffinityTerm) -> AffinityTerm:
    """The term as written in `pod`'s spec: without namespaces or a namespaceSelector it means the
    pod's own namespace. A namespaceSelector with requirements needs the namespaces' labels, which
    the scheduler does not watch: such a term selects only its listed namespaces."""
    namespaces = frozenset(term.namespaces)
    has_ns_selector = term.HasField("namespace_selector")
    if not namespaces and not has_ns_selector:
        namespaces = frozenset([pod.metadata.namespace])
    ns_selector = term.namespace_selector
    all_namespaces = (
        has_ns_selector and not ns_selector.match_labels and not ns_selector.match_expressions
    )
    return AffinityTerm(
        term.topology_key,
        _selector(term.label_selector, term.HasField("label_selector")),
        namespaces,
        all_namespaces,
    )


def required_affinity_terms(pod: core_pb2.Pod) -> list[AffinityTerm]:
    terms = pod.spec.affinity.pod_affinity.required_during_scheduling_ignored_during_execution
    return [affinity_term(pod, t) for t in terms]


def required_anti_affinity_terms(pod: core_pb2.Pod) -> list[AffinityTerm]:
    terms = pod.spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution
    return [affinity_term(pod, t) for t in terms]


def preferred_affinity_terms(pod: core_pb2.Pod) -> list[WeightedAffinityTerm]:
    terms = pod.spec.affinity.pod_affinity.preferred_during_scheduling_ignored_during_execution
    return [WeightedAffinityTerm(affinity_term(pod, t.pod_affinity_term), t.weight) for t in terms]


def preferred_anti_affinity_terms(pod: core_pb2.Pod) -> list[WeightedAffinityTerm]:
    terms = pod.spec.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution
    return [WeightedAffinityTerm(affinity_term(pod, t.pod_affinity_term), t.weight) for t in terms]


def matches_all(pod: core_pb2.Pod, terms: list[AffinityTerm]) -> bool:
    """Whether `pod` is selected by every term (and there is at least one)."""
    return bool(terms) and all(t.matches(pod) for t in terms)


@dataclass(frozen=True)
class PodTerms:
    """All four kinds of a pod's terms."""

    required_affinity: list[AffinityTerm]
    required_anti_affinity: list[AffinityTerm]
    preferred_affinity: list[WeightedAffinityTerm]
    preferred_anti_affinity: list[WeightedAffinityTerm]


# Parsed terms of the pods seen lately, by (uid, resourceVersion): existing pods are looked at on
# every attempt, and parsing their selectors each time would cost more than matching them
# (Kubernetes parses them once, into the PodInfo).
_MEMO: OrderedDict[tuple[str, str], PodTerms] = OrderedDict()
MEMO_SIZE = 20000


def pod_terms(pod: core_pb2.Pod) -> PodTerms:
    key = (pod.metadata.uid, pod.metadata.resource_version)
    terms = _MEMO.get(key) if key[0] else None
    if terms is None:
        terms = PodTerms(
            required_affinity_terms(pod),
            required_anti_affinity_terms(pod),
            preferred_affinity_terms(pod),
            preferred_anti_affinity_terms(pod),
        )
        if key[0]:
            _MEMO[key] = terms
            if len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
    return terms
