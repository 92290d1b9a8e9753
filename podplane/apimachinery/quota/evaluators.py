"""What each kind uses of a quota (kubernetes pkg/quota/v1/evaluator/core and
k8s.io/apiserver/pkg/quota/v1/generic): pods, services and persistent volume claims have
evaluators of their own; every other resource is counted as `count/<resource>.<group>`
(configmaps, secrets, replicationcontrollers and resourcequotas also under their legacy names).
An evaluator says which writes it charges, which of a quota's resources it tracks, whether an
object matches a quota's scopes, and what the object uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

from google.protobuf.message import Message

from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery.quota import pods
from podplane.apimachinery.quota.quantities import ONE, ZERO, Quantity, ResourceList

CREATE, UPDATE = "CREATE", "UPDATE"
# An object of the evaluator's kind (a Pod for the pods' evaluator, ...).
Obj: TypeAlias = Any
Requirement = quota_pb2.ScopedResourceSelectorRequirement
# The names object counts had before count/<resource> (legacyObjectCountAliases).
LEGACY_COUNTS = {
    "configmaps": "configmaps",
    "resourcequotas": "resourcequotas",
    "replicationcontrollers": "replicationcontrollers",
    "secrets": "secrets",
}
STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def object_count_name(plural: str, group: str) -> str:
    """ObjectCountQuotaResourceNameFor: count/pods, count/deployments.apps."""
    return f"count/{plural}.{group}" if group else f"count/{plural}"


@dataclass(frozen=True)
class Evaluator:
    """One kind's evaluator. `usage` takes the object and the time (pods past their grace
    period stop counting)."""

    plural: str
    group: str
    resources: tuple[str, ...]
    usage: Callable[[Obj, datetime], ResourceList]
    operations: frozenset[str] = frozenset({CREATE})
    # A name the evaluator tracks beyond `resources` (huge pages, storage classes).
    also_matches: Callable[[str], bool] = lambda name: False
    matches_scope: Callable[[Requirement, Obj], bool] | None = None
    constraints: Callable[[Iterable[str], Obj], str | None] = lambda required, obj: None
    subresources: frozenset[str] = field(default_factory=lambda: frozenset({""}))

    def handles(self, operation: str, subresource: str) -> bool:
        return operation in self.operations and subresource in self.subresources

    def matching_resources(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in self.resources or self.also_matches(n)]

    def scope_matches(self, req: Requirement, obj: Message) -> bool:
        """MatchesNoScopeFunc for kinds without scopes: nothing matches a scope."""
        return self.matches_scope(req, obj) if self.matches_scope else False

    def matching_scopes(self, obj: Message, reqs: Sequence[Requirement]) -> list[Requirement]:
        return [r for r in reqs if self.scope_matches(r, obj)]


def scope_selectors(q: quota_pb2.ResourceQuota) -> list[Requirement]:
    """getScopeSelectorsFromQuota: each scope as Exists, then the selector's requirements."""
    out = [Requirement(scope_name=s, operator="Exists") for s in q.spec.scopes]
    if q.spec.HasField("scope_selector"):
        out += list(q.spec.scope_selector.match_expressions)
    return out


def matches(evaluator: Evaluator, q: quota_pb2.ResourceQuota, obj: Message) -> bool:
    """generic.Matches: the quota tracks one of the evaluator's resources, and the object
    matches every one of its scopes."""
    if not evaluator.matching_resources(q.status.hard):
        return False
    return all(evaluator.scope_matches(r, obj) for r in scope_selectors(q))


def _pod_usage(pod: Obj, now: datetime) -> ResourceList:
    return pods.usage(pod, now)


POD = Evaluator(
    "pods",
    "",
    pods.POD_RESOURCES,
    _pod_usage,
    also_matches=lambda name: bool(pods.matching_resources([name])),
    matches_scope=pods.matches_scope,
    constraints=pods.constraints,
    subresources=frozenset({"", "resize"}),
)


def _service_usage(svc: Obj, now: datetime) -> ResourceList:
    ports = len(svc.spec.ports)
    usage: ResourceList = {
        "count/services": ONE,
        "services": ONE,
        "services.loadbalancers": ZERO,
        "services.nodeports": ZERO,
    }
    if svc.spec.type == "NodePort":
        usage["services.nodeports"] = Quantity(Decimal(ports))
    elif svc.spec.type == "LoadBalancer":
        no_ports = svc.spec.HasField("allocate_load_balancer_node_ports") and not (
            svc.spec.allocate_load_balancer_node_ports
        )
        count = sum(1 for p in svc.spec.ports if p.node_port) if no_ports else ports
        usage["services.nodeports"] = Quantity(Decimal(count))
        usage["services.loadbalancers"] = ONE
    return usage


SERVICE = Evaluator(
    "services",
    "",
    ("count/services", "services", "services.nodeports", "services.loadbalancers"),
    _service_usage,
    operations=frozenset({CREATE, UPDATE}),
    subresources=frozenset({"", "status"}),
)

_CLAIM_RESOURCES = ("persistentvolumeclaims", "requests.storage")


def _claim_usage(pvc: Obj, now: datetime) -> ResourceList:
    usage: ResourceList = {"persistentvolumeclaims": ONE, "count/persistentvolumeclaims": ONE}
    cls = pvc.metadata.annotations.get(_STORAGE_CLASS_ANNOTATION) or pvc.spec.storage_class_name
    if cls:
        usage[f"{cls}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = ONE
    request = pvc.spec.resources.requests.get("storage")
    if request is not None:
        try:
            q = Quantity.parse(request)
        except ValueError:
            return usage
        whole = q.value.to_integral_value(rounding="ROUND_CEILING")
        storage = q if whole == q.value else Quantity(whole, q.fmt)
        usage["requests.storage"] = storage
        if cls:
            usage[f"{cls}{STORAGE_CLASS_SUFFIX}requests.storage"] = storage
    return usage


PERSISTENT_VOLUME_CLAIM = Evaluator(
    "persistentvolumeclaims",
    "",
    ("count/persistentvolumeclaims", *_CLAIM_RESOURCES),
    _claim_usage,
    operations=frozenset({CREATE, UPDATE}),
    also_matches=lambda name: any(
        name.endswith(STORAGE_CLASS_SUFFIX + r) for r in _CLAIM_RESOURCES
    ),
    subresources=frozenset({"", "status"}),
)
BUILT_IN = {e.plural: e for e in (POD, SERVICE, PERSISTENT_VOLUME_CLAIM)}


def object_count(plural: str, group: str) -> Evaluator:
    """NewObjectCountEvaluator: count/<resource>.<group> (and the legacy alias) on create."""
    names: tuple[str, ...] = (object_count_name(plural, group),)
    if not group and plural in LEGACY_COUNTS:
        names += (LEGACY_COUNTS[plural],)

    def usage(obj: Obj, now: datetime) -> ResourceList:
        return dict.fromkeys(names, ONE)

    return Evaluator(plural, group, names, usage)


def evaluator_for(plural: str, group: str) -> Evaluator:
    if not group and plural in BUILT_IN:
        return BUILT_IN[plural]
    return object_count(plural, group)


def counted_resource(name: str) -> tuple[str, str] | None:
    """The (plural, group) a count/<resource>.<group> quota name counts."""
    if not name.startswith("count/"):
        return None
    plural, _, group = name.removeprefix("count/").partition(".")
    return plural, group
