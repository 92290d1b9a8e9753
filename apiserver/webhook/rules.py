"""A webhook's rules against a request, as k8s.io/apiserver/pkg/admission/plugin/webhook/
predicates/rules does: the operation (or `*`), the API group and version (or `*`), the resource
with its subresource (`pods`, `pods/status`, `*/status`, `pods/*`, `*`, `*/*`) and the scope
(Cluster, Namespaced or `*`; a Namespace is cluster-scoped)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONObject

ALL_SCOPES = "*"


@dataclass(frozen=True)
class Rule:
    """RuleWithOperations."""

    operations: tuple[str, ...]
    api_groups: tuple[str, ...]
    api_versions: tuple[str, ...]
    resources: tuple[str, ...]
    scope: str = ALL_SCOPES


def rule_from_json(obj: JSONObject) -> Rule:
    return Rule(
        operations=tuple(obj.get("operations") or ()),
        api_groups=tuple(obj.get("apiGroups") or ()),
        api_versions=tuple(obj.get("apiVersions") or ()),
        resources=tuple(obj.get("resources") or ()),
        scope=obj.get("scope") or ALL_SCOPES,
    )


@dataclass(frozen=True)
class RequestedResource:
    """What a rule is matched against: the resource (possibly an equivalent one), its
    subresource, the operation and the request's namespace ("" for cluster-scoped objects)."""

    group: str
    version: str
    resource: str
    sub_resource: str
    operation: str
    namespace: str


def _exact_or_wildcard(items: tuple[str, ...], requested: str) -> bool:
    return any(item in ("*", requested) for item in items)


def _is_namespace(r: RequestedResource) -> bool:
    return (r.group, r.version, r.resource) == ("", "v1", "namespaces")


def _scope(rule: Rule, r: RequestedResource) -> bool:
    if rule.scope == ALL_SCOPES:
        return True
    if rule.scope == "Namespaced":
        return not _is_namespace(r) and r.namespace != ""
    if rule.scope == "Cluster":
        return _is_namespace(r) or r.namespace == ""
    return False


def _resource(rule: Rule, r: RequestedResource) -> bool:
    for entry in rule.resources:
        res, _, sub = entry.partition("/")
        if res in ("*", r.resource) and sub in ("*", r.sub_resource):
            return True
    return False


def rule_matches(rule: Rule, r: RequestedResource) -> bool:
    return (
        _scope(rule, r)
        and _exact_or_wildcard(rule.operations, r.operation)
        and _exact_or_wildcard(rule.api_groups, r.group)
        and _exact_or_wildcard(rule.api_versions, r.version)
        and _resource(rule, r)
    )


EXEMPT_KINDS = (
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
)


def is_exempt(group: str, kind: str) -> bool:
    """Webhooks are never called for the admission configuration kinds themselves
    (IsExemptAdmissionConfigurationResource), so no webhook can lock them."""
    return group == "admissionregistration.k8s.io" and kind in EXEMPT_KINDS
