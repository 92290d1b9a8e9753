"""A quota's usage from its namespace's objects (quota.CalculateUsage and
generic.CalculateUsageStats), what the resource quota controller writes as status.used: each
evaluator that tracks one of the quota's hard resources sums what the objects matching every
scope use, each tracked resource starting from 0."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from google.protobuf.message import Message

from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery.quota import evaluators
from podplane.apimachinery.quota.evaluators import Evaluator
from podplane.apimachinery.quota.quantities import ZERO, ResourceList, add, mask

# The namespace's objects of an evaluator's kind.
Objects = Callable[[Evaluator], Sequence[Message]]


def tracking(hard: Sequence[str]) -> list[Evaluator]:
    """The evaluators of the built-in kinds and legacy counts, and an object count evaluator
    for each count/<resource>.<group> the quota names."""
    found = {(e.plural, e.group): e for e in evaluators.BUILT_IN.values()}
    for plural in evaluators.LEGACY_COUNTS:
        found[(plural, "")] = evaluators.object_count(plural, "")
    for name in hard:
        counted = evaluators.counted_resource(name)
        if counted and counted not in found:
            found[counted] = evaluators.evaluator_for(*counted)
    return [e for e in found.values() if e.matching_resources(hard)]


def _usage_stats(
    e: Evaluator, q: quota_pb2.ResourceQuota, names: list[str], objects: Objects, now: datetime
) -> ResourceList:
    used: ResourceList = dict.fromkeys(names, ZERO)
    selectors = evaluators.scope_selectors(q)
    for obj in objects(e):
        if all(e.scope_matches(r, obj) for r in selectors):
            used = add(used, e.usage(obj, now))
    return used


def calculate(q: quota_pb2.ResourceQuota, objects: Objects, now: datetime) -> ResourceList:
    """What the objects use of the quota's spec.hard resources."""
    hard = list(q.spec.hard)
    used: ResourceList = {}
    matched: set[str] = set()
    for e in tracking(hard):
        names = e.matching_resources(hard)
        matched |= set(names)
        used = add(used, _usage_stats(e, q, names, objects, now))
    return mask(used, matched)
