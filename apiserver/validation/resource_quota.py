"""ResourceQuota validation (kubernetes pkg/apis/core/validation ValidateResourceQuota,
ValidateResourceQuotaUpdate and ValidateResourceQuotaStatusUpdate): spec.hard's and status'
names those a quota may track and their values whole where they count; scopes standard, valid
for the resources limited and not in conflict; the scope selector's operators; scopes fixed once
made. Go walks maps; the keys here are sorted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from apiserver.validation.meta import object_meta
from apiserver.validation.resource_names import STANDARD_QUOTA, quantity_value, quota_resource_name
from podplane.api.core.v1 import quota_pb2

SCOPES = (
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
)
_POD_COMPUTE = frozenset(
    {"cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"}
)
_CONFLICTS = (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating"))
_EXISTS_ONLY = frozenset(SCOPES) - {"PriorityClass"}
EXISTS_ONLY = (
    "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, "
    "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "
    "ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"
)
NEED_VALUES = "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"
NO_VALUES = "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"
IMMUTABLE = "field is immutable"


def go_strings(values: Sequence[str]) -> Shown:
    """A []ResourceQuotaScope as Go's %#v shows it in a field error."""
    if not values:
        return Shown("[]core.ResourceQuotaScope(nil)")
    inner = ", ".join(f'"{v}"' for v in values)
    return Shown(f"[]core.ResourceQuotaScope{{{inner}}}")


def _selector_shown(selector: quota_pb2.ScopeSelector) -> Shown:
    """A *core.ScopeSelector as a field error shows it: the struct it points to, by %#v."""
    kind = "core.ScopedResourceSelectorRequirement"
    reqs = ", ".join(
        f'{kind}{{ScopeName:"{r.scope_name}", Operator:"{r.operator}", Values:{_values(r.values)}}}'
        for r in selector.match_expressions
    )
    return Shown(f"core.ScopeSelector{{MatchExpressions:[]{kind}{{{reqs}}}}}")


def _values(values: Sequence[str]) -> Shown:
    if not values:
        return Shown("[]string(nil)")
    return Shown("[]string{" + ", ".join(f'"{v}"' for v in values) + "}")


def scope_valid_for(scope: str, resource: str) -> bool:
    """IsResourceQuotaScopeValidForResource."""
    if scope == "BestEffort":
        return resource == "pods"
    if scope in SCOPES:
        return resource == "pods" or resource in _POD_COMPUTE
    return True


def _standard_quota_name(name: str) -> bool:
    return name in STANDARD_QUOTA or name.startswith(("hugepages-", "requests.hugepages-"))


def resource_list(path: str, values: Mapping[str, str]) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in sorted(values):
        p = f"{path}[{name}]"
        errs += quota_resource_name(p, name) + quantity_value(p, name, values[name])
    return errs


def _scopes(spec: quota_pb2.ResourceQuotaSpec) -> list[FieldError]:
    if not spec.scopes:
        return []
    path, shown = "spec.scopes", go_strings(spec.scopes)
    errs: list[FieldError] = []
    for scope in spec.scopes:
        if scope not in SCOPES:
            errs.append(fields.invalid(path, shown, "unsupported scope"))
        for name in sorted(spec.hard):
            if _standard_quota_name(name) and not scope_valid_for(scope, name):
                errs.append(fields.invalid(path, shown, "unsupported scope applied to resource"))
    for pair in _CONFLICTS:
        if set(pair) <= set(spec.scopes):
            errs.append(fields.invalid(path, shown, "conflicting scopes"))
    return errs


def _requirement(path: str, req: quota_pb2.ScopedResourceSelectorRequirement) -> list[FieldError]:
    errs: list[FieldError] = []
    if req.scope_name in _EXISTS_ONLY and req.operator != "Exists":
        errs.append(fields.invalid(f"{path}.operator", req.operator, EXISTS_ONLY))
    if req.operator in ("In", "NotIn"):
        if not req.values:
            errs.append(fields.required(f"{path}.values", NEED_VALUES))
    elif req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            errs.append(fields.invalid(f"{path}.values", _values(req.values), NO_VALUES))
    else:
        errs.append(
            fields.invalid(f"{path}.operator", req.operator, "not a valid selector operator")
        )
    return errs


def _scope_selector(spec: quota_pb2.ResourceQuotaSpec) -> list[FieldError]:
    if not spec.HasField("scope_selector"):
        return []
    path = "spec.scopeSelector.matchExpressions"
    errs: list[FieldError] = []
    names: set[str] = set()
    for req in spec.scope_selector.match_expressions:
        if req.scope_name not in SCOPES:
            errs.append(fields.invalid(f"{path}.scopeName", req.scope_name, "unsupported scope"))
        for name in sorted(spec.hard):
            if _standard_quota_name(name) and not scope_valid_for(req.scope_name, name):
                shown = _selector_shown(spec.scope_selector)
                errs.append(fields.invalid(path, shown, "unsupported scope applied to resource"))
        errs += _requirement(path, req)
        names.add(req.scope_name)
    for pair in _CONFLICTS:
        if set(pair) <= names:
            errs.append(fields.invalid(path, go_strings(spec.scopes), "conflicting scopes"))
    return errs


def spec(s: quota_pb2.ResourceQuotaSpec) -> list[FieldError]:
    return resource_list("spec.hard", s.hard) + _scopes(s) + _scope_selector(s)


def status(s: quota_pb2.ResourceQuotaStatus) -> list[FieldError]:
    return resource_list("status.hard", s.hard) + resource_list("status.used", s.used)


def resource_quota(obj: quota_pb2.ResourceQuota) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + spec(obj.spec) + status(obj.status)


def resource_quota_update(
    new: quota_pb2.ResourceQuota, old: quota_pb2.ResourceQuota
) -> list[FieldError]:
    errs = object_meta(new.metadata, namespaced=True) + spec(new.spec)
    if set(new.spec.scopes) != set(old.spec.scopes):
        errs.append(fields.invalid("spec.scopes", go_strings(new.spec.scopes), IMMUTABLE))
    return errs


def resource_quota_status_update(
    new: quota_pb2.ResourceQuota, old: quota_pb2.ResourceQuota
) -> list[FieldError]:
    return object_meta(new.metadata, namespaced=True) + status(new.status)
