"""Role, ClusterRole, RoleBinding and ClusterRoleBinding validation (kubernetes
pkg/apis/rbac/validation/validation.go)."""

from __future__ import annotations

from dataclasses import dataclass

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import label_selector
from apiserver.validation.meta import object_meta
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def rbac_name(path: str, name: str) -> list[FieldError]:
    """ValidateRBACName (path.IsValidPathSegmentName): anything that fits in a URL path segment."""
    if name in (".", ".."):
        return [fields.invalid(path, name, f"may not be '{name}'")]
    return [fields.invalid(path, name, f"may not contain '{c}'") for c in "/%" if c in name]


def policy_rule(path: str, rule: rbac_pb2.PolicyRule, namespaced: bool) -> list[FieldError]:
    """ValidatePolicyRule: verbs always; either non-resource URLs (cluster roles only) or API
    groups and resources."""
    errs: list[FieldError] = []
    if not rule.verbs:
        errs.append(fields.required(f"{path}.verbs", "verbs must contain at least one value"))
    if rule.non_resource_urls:
        urls = _GoStrings(tuple(rule.non_resource_urls))
        if namespaced:
            errs.append(
                fields.invalid(
                    f"{path}.nonResourceURLs",
                    urls,
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
        if rule.api_groups or rule.resources or rule.resource_names:
            errs.append(
                fields.invalid(
                    f"{path}.nonResourceURLs",
                    urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return errs
    if not rule.api_groups:
        errs.append(
            fields.required(
                f"{path}.apiGroups", "resource rules must supply at least one api group"
            )
        )
    if not rule.resources:
        errs.append(
            fields.required(f"{path}.resources", "resource rules must supply at least one resource")
        )
    return errs


def role(obj: rbac_pb2.Role) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True, name_rule=rbac_name)
    for i, r in enumerate(obj.rules):
        errs += policy_rule(f"rules[{i}]", r, namespaced=True)
    return errs


def role_update(new: rbac_pb2.Role, old: rbac_pb2.Role) -> list[FieldError]:
    return role(new)


def cluster_role(obj: rbac_pb2.ClusterRole) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=False, name_rule=rbac_name)
    for i, r in enumerate(obj.rules):
        errs += policy_rule(f"rules[{i}]", r, namespaced=False)
    if obj.HasField("aggregation_rule"):
        selectors = obj.aggregation_rule.cluster_role_selectors
        if not selectors:
            errs.append(
                fields.required(
                    "aggregationRule.clusterRoleSelectors",
                    "at least one clusterRoleSelector required if aggregationRule is non-nil",
                )
            )
        for i, selector in enumerate(selectors):
            errs += label_selector(f"aggregationRule.clusterRoleSelectors[{i}]", selector)
    return errs


def cluster_role_update(new: rbac_pb2.ClusterRole, old: rbac_pb2.ClusterRole) -> list[FieldError]:
    return cluster_role(new)


def subject(path: str, s: rbac_pb2.Subject, namespaced: bool) -> list[FieldError]:
    """ValidateRoleBindingSubject: a name; a ServiceAccount is in the core group (and, bound
    cluster-wide, names its namespace), a User or Group in rbac.authorization.k8s.io."""
    errs: list[FieldError] = []
    if not s.name:
        errs.append(fields.required(f"{path}.name"))
    if s.kind == "ServiceAccount":
        if s.name:
            errs += fields.dns1123_subdomain(f"{path}.name", s.name)
        if s.api_group:
            errs.append(fields.unsupported(f"{path}.apiGroup", s.api_group, ("",)))
        if not namespaced and not s.namespace:
            errs.append(fields.required(f"{path}.namespace"))
    elif s.kind in ("User", "Group"):
        if s.api_group != GROUP:
            errs.append(fields.unsupported(f"{path}.apiGroup", s.api_group, (GROUP,)))
    else:
        errs.append(fields.unsupported(f"{path}.kind", s.kind, SUBJECT_KINDS))
    return errs


def _role_ref(ref: rbac_pb2.RoleRef, kinds: tuple[str, ...]) -> list[FieldError]:
    errs: list[FieldError] = []
    if ref.api_group != GROUP:
        errs.append(fields.unsupported("roleRef.apiGroup", ref.api_group, (GROUP,)))
    if ref.kind not in kinds:
        errs.append(fields.unsupported("roleRef.kind", ref.kind, kinds))
    if not ref.name:
        errs.append(fields.required("roleRef.name"))
    else:
        errs += rbac_name("roleRef.name", ref.name)
    return errs


def role_binding(obj: rbac_pb2.RoleBinding) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True, name_rule=rbac_name)
    errs += _role_ref(obj.role_ref, ("Role", "ClusterRole"))
    for i, s in enumerate(obj.subjects):
        errs += subject(f"subjects[{i}]", s, namespaced=True)
    return errs


def role_binding_update(new: rbac_pb2.RoleBinding, old: rbac_pb2.RoleBinding) -> list[FieldError]:
    return role_binding(new) + _role_ref_unchanged(new.role_ref, old.role_ref)


def cluster_role_binding(obj: rbac_pb2.ClusterRoleBinding) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=False, name_rule=rbac_name)
    errs += _role_ref(obj.role_ref, ("ClusterRole",))
    for i, s in enumerate(obj.subjects):
        errs += subject(f"subjects[{i}]", s, namespaced=False)
    return errs


def cluster_role_binding_update(
    new: rbac_pb2.ClusterRoleBinding, old: rbac_pb2.ClusterRoleBinding
) -> list[FieldError]:
    return cluster_role_binding(new) + _role_ref_unchanged(new.role_ref, old.role_ref)


@dataclass(frozen=True)
class _GoRoleRef:
    """A RoleRef as Go's %#v prints it in the "cannot change roleRef" error."""

    ref: rbac_pb2.RoleRef

    def __str__(self) -> str:
        r = self.ref
        return f'rbac.RoleRef{{APIGroup:"{r.api_group}", Kind:"{r.kind}", Name:"{r.name}"}}'


@dataclass(frozen=True)
class _GoStrings:
    """A []string as Go's %#v prints it."""

    values: tuple[str, ...]

    def __str__(self) -> str:
        return "[]string{" + ", ".join(f'"{v}"' for v in self.values) + "}"


def _role_ref_unchanged(new: rbac_pb2.RoleRef, old: rbac_pb2.RoleRef) -> list[FieldError]:
    if new == old:
        return []
    return [fields.invalid("roleRef", _GoRoleRef(new), "cannot change roleRef")]
