"""How the bootstrap policy's objects are built (bootstrappolicy's rbacv1helpers): a rule, and
ClusterRoles and ClusterRoleBindings labelled kubernetes.io/bootstrapping: rbac-defaults and
annotated rbac.authorization.kubernetes.io/autoupdate: "true"."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAPPING = "kubernetes.io/bootstrapping"
RBAC_DEFAULTS = "rbac-defaults"

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")


def rule(
    verbs: Iterable[str],
    groups: Iterable[str] = (),
    resources_: Iterable[str] = (),
    *,
    names: Iterable[str] = (),
    urls: Iterable[str] = (),
) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(
        verbs=list(verbs),
        api_groups=list(groups),
        resources=list(resources_),
        resource_names=list(names),
        non_resource_urls=list(urls),
    )


def bootstrap_meta(name: str, labels: dict[str, str] | None = None) -> meta_pb2.ObjectMeta:
    return meta_pb2.ObjectMeta(
        name=name,
        labels={BOOTSTRAPPING: RBAC_DEFAULTS, **(labels or {})},
        annotations={AUTOUPDATE: "true"},
    )


def cluster_role(
    name: str,
    rules: Iterable[rbac_pb2.PolicyRule],
    *,
    labels: dict[str, str] | None = None,
    aggregate_from: str | None = None,
) -> rbac_pb2.ClusterRole:
    role = rbac_pb2.ClusterRole(
        api_version=f"{GROUP}/v1",
        kind="ClusterRole",
        metadata=bootstrap_meta(name, labels),
        rules=rules,
    )
    if aggregate_from is not None:
        role.aggregation_rule.cluster_role_selectors.add().match_labels[aggregate_from] = "true"
    return role


def cluster_role_binding(
    role: str, *, users: Iterable[str] = (), groups: Iterable[str] = (), name: str = ""
) -> rbac_pb2.ClusterRoleBinding:
    subjects = [rbac_pb2.Subject(kind="User", api_group=GROUP, name=u) for u in users]
    subjects += [rbac_pb2.Subject(kind="Group", api_group=GROUP, name=g) for g in groups]
    return rbac_pb2.ClusterRoleBinding(
        api_version=f"{GROUP}/v1",
        kind="ClusterRoleBinding",
        metadata=bootstrap_meta(name or role),
        subjects=subjects,
        role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name=role),
    )
