"""How the bootstrap policy's objects are built (bootstrappolicy's rbacv1helpers): a rule, whose
verbs, groups, resources, names and URLs are sorted and deduplicated as Kubernetes' PolicyRule
builder leaves them, and ClusterRoles, Roles and their bindings labelled
kubernetes.io/bootstrapping: rbac-defaults and annotated
rbac.authorization.kubernetes.io/autoupdate: "true" (addDefaultMetadata)."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAPPING = "kubernetes.io/bootstrapping"
RBAC_DEFAULTS = "rbac-defaults"

# bootstrappolicy's verb lists.
READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
READ_WRITE = (*READ, *WRITE)
READ_UPDATE = (*READ, "update", "patch")

# A service account subject: (namespace, name).
ServiceAccountRef = tuple[str, str]


def rule(
    verbs: Iterable[str],
    groups: Iterable[str] = (),
    resources_: Iterable[str] = (),
    *,
    names: Iterable[str] = (),
    urls: Iterable[str] = (),
) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(
        verbs=sorted(set(verbs)),
        api_groups=sorted(set(groups)),
        resources=sorted(set(resources_)),
        resource_names=sorted(set(names)),
        non_resource_urls=sorted(set(urls)),
    )


def events_rule() -> rbac_pb2.PolicyRule:
    """eventsRule: what every controller needs to record events, in both events APIs."""
    return rule(("create", "update", "patch"), ("", "events.k8s.io"), ("events",))


def bootstrap_meta(
    name: str, labels: dict[str, str] | None = None, namespace: str = ""
) -> meta_pb2.ObjectMeta:
    return meta_pb2.ObjectMeta(
        name=name,
        namespace=namespace,
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


def subjects(
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    service_accounts: Iterable[ServiceAccountRef] = (),
) -> list[rbac_pb2.Subject]:
    """The subjects in the order Kubernetes' binding builders add them: users, groups, then
    service accounts."""
    out = [rbac_pb2.Subject(kind="User", api_group=GROUP, name=u) for u in users]
    out += [rbac_pb2.Subject(kind="Group", api_group=GROUP, name=g) for g in groups]
    out += [
        rbac_pb2.Subject(kind="ServiceAccount", name=n, namespace=ns) for ns, n in service_accounts
    ]
    return out


def cluster_role_binding(
    role: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    service_accounts: Iterable[ServiceAccountRef] = (),
    name: str = "",
) -> rbac_pb2.ClusterRoleBinding:
    return rbac_pb2.ClusterRoleBinding(
        api_version=f"{GROUP}/v1",
        kind="ClusterRoleBinding",
        metadata=bootstrap_meta(name or role),
        subjects=subjects(users, groups, service_accounts),
        role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name=role),
    )


def role(namespace: str, name: str, rules: Iterable[rbac_pb2.PolicyRule]) -> rbac_pb2.Role:
    return rbac_pb2.Role(
        api_version=f"{GROUP}/v1",
        kind="Role",
        metadata=bootstrap_meta(name, namespace=namespace),
        rules=rules,
    )


def role_binding(
    namespace: str,
    role_name: str,
    *,
    users: Iterable[str] = (),
    service_accounts: Iterable[ServiceAccountRef] = (),
    name: str = "",
) -> rbac_pb2.RoleBinding:
    return rbac_pb2.RoleBinding(
        api_version=f"{GROUP}/v1",
        kind="RoleBinding",
        metadata=bootstrap_meta(name or role_name, namespace=namespace),
        subjects=subjects(users, (), service_accounts),
        role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="Role", name=role_name),
    )
