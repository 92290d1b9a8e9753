"""A pod's topology spread constraints, parsed once per distinct list, and the count of a node's
pods one selects (kubernetes plugins/podtopologyspread/common.go)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.selectors import (
    LabelSelector,
    SelectorError,
    from_label_selector_message,
)
from scheduler.framework.types import NodeInfo


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    topology_key: str
    # None selects no pod (a constraint without a labelSelector), as in Kubernetes.
    selector: LabelSelector | None
    min_domains: int = 1
    # The labelSelector message, serialized: what NodeInfo.selected_pod_counts is keyed by.
    selector_key: bytes = b""

    def selects(self, pod: core_pb2.Pod) -> bool:
        return self.selector is not None and self.selector.matches(pod.metadata.labels)


def constraints(pod: core_pb2.Pod, when_unsatisfiable: str) -> list[Constraint]:
    """The pod's own constraints for `when_unsatisfiable`. Parsed once per distinct list (a
    workload's pods share theirs): PreFilter and PreScore ask on every attempt."""
    own = pod.spec.topology_spread_constraints
    serialized = tuple(c.SerializeToString(deterministic=True) for c in own)
    return list(_parsed(serialized, when_unsatisfiable))


@functools.lru_cache(maxsize=1024)
def _parsed(serialized: tuple[bytes, ...], when_unsatisfiable: str) -> tuple[Constraint, ...]:
    out = []
    for data in serialized:
        c = core_pb2.TopologySpreadConstraint.FromString(data)
        if c.when_unsatisfiable != when_unsatisfiable:
            continue
        selector = None
        if c.HasField("label_selector"):
            try:
                selector = from_label_selector_message(c.label_selector)
            except SelectorError:
                pass  # rejected by validation; selects nothing here
        out.append(
            Constraint(
                c.max_skew,
                c.topology_key,
                selector,
                c.min_domains if c.HasField("min_domains") else 1,
                c.label_selector.SerializeToString(deterministic=True),
            )
        )
    return tuple(out)


def selector_key(selector: LabelSelector) -> bytes:
    """A deduced selector's key in NodeInfo.selected_pod_counts; apart from any serialized
    labelSelector message, which never starts with a NUL byte."""
    parts = (f"{r.key}\x00{r.op}\x00{','.join(sorted(r.values))}" for r in selector.requirements)
    return ("\x00default\x00" + "\x01".join(parts)).encode()


def has_all_keys(labels: Mapping[str, str], cs: Iterable[Constraint]) -> bool:
    return all(c.topology_key in labels for c in cs)


COUNT = "PodTopologySpread/count"  # the NodeTable columns of count_matching, by its arguments


def count_matching(node: NodeInfo, c: Constraint, namespace: str) -> int:
    """The pods on the node in the namespace that the constraint selects, leaving out terminating
    ones. Counted once per node and selector until the node's pods change: PreFilter asks for
    every node on every attempt, which counted every pod of the cluster per pod scheduled."""
    selector = c.selector
    if selector is None:
        return 0
    key = (namespace, c.selector_key)
    count = node.selected_pod_counts.get(key)
    if count is None:
        count = sum(
            1
            for info in node.pods.values()
            if info.namespace == namespace
            and not info.terminating
            and selector.matches(info.labels)
        )
        node.selected_pod_counts[key] = count
    return count
