"""Merging two lists of tolerations as admission plugins add to a pod's (kubernetes
pkg/util/tolerations MergeTolerations): a toleration that another one tolerates a superset of is
dropped; of two equal ones the first stays."""

from __future__ import annotations

from collections.abc import Sequence

from podplane.api.core.v1 import core_pb2


def merge_tolerations(
    first: Sequence[core_pb2.Toleration], second: Sequence[core_pb2.Toleration]
) -> list[core_pb2.Toleration]:
    every = [*first, *second]
    merged: list[core_pb2.Toleration] = []
    for i, t in enumerate(every):
        if any(is_superset(kept, t) for kept in merged):
            continue
        if any(later != t and is_superset(later, t) for later in every[i + 1 :]):
            continue
        merged.append(t)
    return merged


def is_superset(ss: core_pb2.Toleration, t: core_pb2.Toleration) -> bool:
    """Whether `ss` tolerates every taint `t` does."""
    if ss == t:
        return True
    # An empty key with Exists matches every key and value.
    if t.key != ss.key and (ss.key or ss.operator != "Exists"):
        return False
    # An empty effect matches every effect.
    if t.effect != ss.effect and ss.effect:
        return False
    if ss.effect == "NoExecute" and ss.HasField("toleration_seconds"):
        if not t.HasField("toleration_seconds") or t.toleration_seconds > ss.toleration_seconds:
            return False
    if ss.operator in ("Equal", ""):  # empty means Equal
        return t.operator == "Equal" and t.value == ss.value
    return ss.operator == "Exists"
