"""What a pod uses of a quota and which quota scopes it matches (kubernetes
pkg/quota/v1/evaluator/core/pods.go): the object counts, its requests and limits as Kubernetes
sums them for a pod, the scopes Terminating, NotTerminating, BestEffort, NotBestEffort,
PriorityClass and CrossNamespacePodAffinity, and the backward-compatible rule that a quota on
cpu or memory needs every container to state it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2, quota_pb2
from podplane.apimachinery import selectors, timeutil
from podplane.apimachinery.quota.quantities import ONE, ResourceList, add, parse_list
from podplane.apimachinery.sidecars import is_sidecar

POD_COUNT = "count/pods"
# The resources quota tracks for pods, besides huge pages and extended resources.
POD_RESOURCES = (
    POD_COUNT,
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
)
_PREFIXES = ("hugepages-", "requests.hugepages-")
# A quota on one of these needs each container to state it ("it was a mistake").
VALIDATION_SET = frozenset(
    {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
)
Requirement = quota_pb2.ScopedResourceSelectorRequirement
_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def _native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    """helper.IsExtendedResourceName: fully qualified outside kubernetes.io, not requests.*."""
    return not _native(name) and not name.startswith("requests.")


def matching_resources(names: Iterable[str]) -> list[str]:
    names = list(names)
    out = [n for n in names if n in POD_RESOURCES]
    for n in names:
        if n.startswith(_PREFIXES) or (n.startswith("requests.") and not _native(n)):
            out.append(n)
    return out


def _add_into(total: ResourceList, more: ResourceList) -> None:
    for name, q in more.items():
        total[name] = total[name] + q if name in total else q


def _raise_to(total: ResourceList, other: ResourceList) -> None:
    for name, q in other.items():
        if name not in total or q.value > total[name].value:
            total[name] = q


def pod_sum(spec: core_pb2.PodSpec, kind: str, *, overhead: bool = True) -> ResourceList:
    """PodRequests or PodLimits (kind "requests" or "limits"): the app containers' and
    sidecars' sum, raised to initialization's peak; with the pod's overhead unless not
    `overhead` (LimitRanger's own podRequests and podLimits leave it out)."""
    total: ResourceList = {}
    for c in spec.containers:
        _add_into(total, parse_list(getattr(c.resources, kind)))
    sidecars: ResourceList = {}
    peak: ResourceList = {}
    for c in spec.init_containers:
        own = parse_list(getattr(c.resources, kind))
        if is_sidecar(c):
            _add_into(total, own)
            _add_into(sidecars, own)
            _raise_to(peak, sidecars)
        else:
            running = dict(own)
            _add_into(running, sidecars)
            _raise_to(peak, running)
    _raise_to(total, peak)
    extra = parse_list(spec.overhead) if overhead else {}
    if kind == "requests":
        _add_into(total, extra)
    else:
        _add_into(total, {n: q for n, q in extra.items() if n in total})
    return total


def compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    """podComputeUsageHelper: pods 1, and each request and limit under its quota names."""
    out: ResourceList = {"pods": ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            out[name] = out[f"requests.{name}"] = requests[name]
        if name in limits:
            out[f"limits.{name}"] = limits[name]
    for name, q in requests.items():
        if name.startswith("hugepages-"):
            out[name] = out[f"requests.{name}"] = q
        if is_extended(name):
            out[f"requests.{name}"] = q
    return out


def counts_for_quota(pod: core_pb2.Pod, now: datetime) -> bool:
    """QuotaV1Pod: neither terminal nor past its deletion's grace period."""
    if pod.status.phase in ("Failed", "Succeeded"):
        return False
    meta = pod.metadata
    if meta.deletion_timestamp and meta.HasField("deletion_grace_period_seconds"):
        deleted = timeutil.parse(meta.deletion_timestamp)
        if deleted and now > deleted + timedelta(seconds=meta.deletion_grace_period_seconds):
            return False
    return True


def usage(pod: core_pb2.Pod, now: datetime) -> ResourceList:
    """PodUsageFunc: count/pods always; the compute resources while the pod counts."""
    result: ResourceList = {POD_COUNT: ONE}
    if not counts_for_quota(pod, now):
        return result
    return add(result, compute_usage(pod_sum(pod.spec, "requests"), pod_sum(pod.spec, "limits")))


def constraints(required: Iterable[str], pod: core_pb2.Pod) -> str | None:
    """The refusal when a container does not state a tracked cpu or memory resource."""
    needed = set(required) & VALIDATION_SET
    missing: dict[str, set[str]] = {}
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        have = compute_usage(parse_list(c.resources.requests), parse_list(c.resources.limits))
        for name in needed - set(have):
            missing.setdefault(name, set()).add(c.name)
    if not missing:
        return None
    parts = [f"{n} for: {','.join(sorted(missing[n]))}" for n in sorted(missing)]
    return "must specify " + "; ".join(parts)


def _best_effort(spec: core_pb2.PodSpec) -> bool:
    """QoS BestEffort: no container requests or limits cpu or memory above zero."""
    for c in (*spec.containers, *spec.init_containers):
        for values in (c.resources.requests, c.resources.limits):
            for name, q in parse_list(values).items():
                if name in ("cpu", "memory") and q.value > 0:
                    return False
    return True


def _terminating(spec: core_pb2.PodSpec) -> bool:
    return spec.HasField("active_deadline_seconds") and spec.active_deadline_seconds >= 0


def _cross_namespace_affinity(spec: core_pb2.PodSpec) -> bool:
    if not spec.HasField("affinity"):
        return False
    a = spec.affinity
    terms: list[core_pb2.PodAffinityTerm] = []
    for kind in (a.pod_affinity, a.pod_anti_affinity):
        terms += kind.required_during_scheduling_ignored_during_execution
        terms += [
            w.pod_affinity_term for w in kind.preferred_during_scheduling_ignored_during_execution
        ]
    return any(t.namespaces or t.HasField("namespace_selector") for t in terms)


def _priority_selected(pod: core_pb2.Pod, req: Requirement) -> bool:
    """ScopedResourceSelectorRequirementsAsSelector over {PriorityClass: the pod's class}."""
    name = pod.spec.priority_class_name
    labels = {"PriorityClass": name} if name else {}
    if req.operator not in _OPERATORS:
        return False
    requirement = selectors.Requirement(
        req.scope_name, _OPERATORS[req.operator], frozenset(req.values)
    )
    return requirement.matches(labels)


def matches_scope(req: Requirement, pod: core_pb2.Pod) -> bool:
    """podMatchesScopeFunc."""
    spec = pod.spec
    scope = req.scope_name
    if scope in ("Terminating", "NotTerminating"):
        return _terminating(spec) == (scope == "Terminating")
    if scope in ("BestEffort", "NotBestEffort"):
        return _best_effort(spec) == (scope == "BestEffort")
    if scope == "PriorityClass":
        if req.operator == "Exists":
            return bool(spec.priority_class_name)
        return _priority_selected(pod, req)
    if scope == "CrossNamespacePodAffinity":
        return _cross_namespace_affinity(spec)
    return False


def matching_scopes(pod: core_pb2.Pod, reqs: Sequence[Requirement]) -> list[Requirement]:
    return [r for r in reqs if matches_scope(r, pod)]
