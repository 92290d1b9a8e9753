"""The bootstrap policy as objects (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, as of
Kubernetes 1.31): the ClusterRoles and ClusterRoleBindings of policy.go (user-facing roles in
bootstrap_aggregated_roles.py, system:* roles in bootstrap_system_roles.py), the controllers'
roles bound to their service accounts (controller_policy.go: bootstrap_controller_roles.py) and
the Roles and RoleBindings of kube-system and kube-public (namespace_policy.go:
bootstrap_namespace_roles.py). Every object is labelled kubernetes.io/bootstrapping:
rbac-defaults and annotated rbac.authorization.kubernetes.io/autoupdate: "true".

podplane adds its own, named podplane:*: what its scheduler and controller-manager do beyond
Kubernetes' roles for them (apiserver/auth/policy.py), the controller-manager's binding to the
controller roles it needs as one identity, what its controllers do beyond their Kubernetes roles
when each runs as its own service account (podplane:controller:<name>, bound to
kube-system/<name>), and the "viewers" group's read-everything role.
Besides them, the bindings `kubeadm init` makes for nodes joining with a bootstrap token
(kubeadm_cluster_role_bindings)."""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.auth import policy
from apiserver.auth.bootstrap_aggregated_roles import user_facing_roles
from apiserver.auth.bootstrap_controller_roles import (
    NAMESPACE as CONTROLLER_NAMESPACE,
)
from apiserver.auth.bootstrap_controller_roles import (
    PREFIX as CONTROLLER_PREFIX,
)
from apiserver.auth.bootstrap_controller_roles import (
    controller_role_bindings,
    controller_roles,
)
from apiserver.auth.bootstrap_namespace_roles import namespace_role_bindings, namespace_roles
from apiserver.auth.bootstrap_objects import AUTOUPDATE as AUTOUPDATE
from apiserver.auth.bootstrap_objects import (
    GROUP,
    cluster_role,
    cluster_role_binding,
    rule,
)
from apiserver.auth.bootstrap_system_roles import (
    KUBE_CONTROLLER_MANAGER_USER,
    NODE_CLIENT_ROLE,
    SELF_NODE_CLIENT_ROLE,
    system_role_bindings,
    system_roles,
)
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.user import NODES_GROUP
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery import resources
from podplane.bootstraptoken.api import KUBEADM_NODE_GROUP
from podplane.rbac.aggregation import aggregated_rules

__all__ = [
    "AUTOUPDATE",
    "cluster_role_bindings",
    "cluster_roles",
    "kubeadm_cluster_role_bindings",
    "role_bindings",
    "roles",
    "static_policy",
]

# The storage version's group of each plural (events: the core group, not events.k8s.io).
_GROUPS = {r.plural: r.api_version.rpartition("/")[0] for r in resources.ALL} | {
    r.plural: r.api_version.rpartition("/")[0] for r in resources.CREATE_ONLY
}
# The controller roles podplane's controller-manager holds as itself, beside its own role.
_CONTROLLER_MANAGER_HOLDS = ("certificate-controller", "horizontal-pod-autoscaler")
PODPLANE_CONTROLLER_PREFIX = "podplane:controller:"


def from_static(rules: Iterable[policy.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """policy.py's rules, which name resources without their group, as rbac/v1 rules: one rule
    per API group of the resources it names ("*": every group)."""
    out: list[rbac_pb2.PolicyRule] = []
    for r in rules:
        by_group: dict[str, list[str]] = {}
        for res in r.resources:
            group = "*" if res == "*" else _GROUPS.get(res.partition("/")[0], "")
            by_group.setdefault(group, []).append(res)
        for group, names in by_group.items():
            out.append(rule(r.verbs, (group,), names, names=r.resource_names))
    return out


def kubernetes_cluster_roles() -> list[rbac_pb2.ClusterRole]:
    return user_facing_roles() + system_roles() + controller_roles()


def kubernetes_cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    return system_role_bindings() + controller_role_bindings()


def podplane_cluster_roles() -> list[rbac_pb2.ClusterRole]:
    roles = [cluster_role(name, from_static(r)) for name, r in policy.PODPLANE_ROLES.items()]
    roles += [
        cluster_role(PODPLANE_CONTROLLER_PREFIX + account, from_static(rules))
        for account, rules in policy.PODPLANE_CONTROLLER_ROLES.items()
    ]
    return roles


def podplane_cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    bindings = [
        cluster_role_binding(role, users=(user,)) for user, role in policy.USER_BINDINGS.items()
    ]
    bindings += [
        cluster_role_binding(role, groups=(group,), name=f"{role}s")
        for group, role in policy.GROUP_BINDINGS.items()
    ]
    bindings += [
        cluster_role_binding(
            CONTROLLER_PREFIX + name,
            users=(KUBE_CONTROLLER_MANAGER_USER,),
            name=f"podplane:kube-controller-manager:{name}",
        )
        for name in _CONTROLLER_MANAGER_HOLDS
    ]
    bindings += [
        cluster_role_binding(
            PODPLANE_CONTROLLER_PREFIX + account,
            service_accounts=((CONTROLLER_NAMESPACE, account),),
        )
        for account in policy.PODPLANE_CONTROLLER_ROLES
    ]
    return bindings


def cluster_roles() -> list[rbac_pb2.ClusterRole]:
    return kubernetes_cluster_roles() + podplane_cluster_roles()


def cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    return kubernetes_cluster_role_bindings() + podplane_cluster_role_bindings()


def roles() -> list[rbac_pb2.Role]:
    return namespace_roles()


def role_bindings() -> list[rbac_pb2.RoleBinding]:
    return namespace_role_bindings()


# kubeadm init's bindings for joining nodes (cmd/kubeadm/app/phases/bootstraptoken/node/
# tlsbootstrap.go): a bootstrap token of kubeadm's group may post a node's certificate signing
# request and have it approved, a node may have its own renewal approved. The ClusterRoles they
# name are the certificates API's (system:node-bootstrapper and the two certificatesigningrequests
# roles); kubeadm makes these objects through the API, without the rbac-defaults label. Each is
# stored once the role it names exists, so that it never points at nothing: RBAC would add "role
# not found" to every refusal of its subjects (every node's, for system:nodes).
_KUBEADM_BINDINGS = (
    ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", KUBEADM_NODE_GROUP),
    ("kubeadm:node-autoapprove-bootstrap", NODE_CLIENT_ROLE, KUBEADM_NODE_GROUP),
    ("kubeadm:node-autoapprove-certificate-rotation", SELF_NODE_CLIENT_ROLE, NODES_GROUP),
)


def kubeadm_cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    return [
        rbac_pb2.ClusterRoleBinding(
            api_version=f"{GROUP}/v1",
            kind="ClusterRoleBinding",
            metadata=meta_pb2.ObjectMeta(name=name),
            subjects=[rbac_pb2.Subject(kind="Group", api_group=GROUP, name=group)],
            role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name=role),
        )
        for name, role, group in _KUBEADM_BINDINGS
    ]


def static_policy() -> PolicyCache:
    """The bootstrap policy in memory, aggregated as the controller-manager would aggregate it:
    what an apiserver without a watch cache (an in-process test's) decides from."""
    cache = PolicyCache()
    by_name = {r.metadata.name: r for r in cluster_roles()}
    # Aggregated roles select others' rules, which may be aggregated themselves (view within
    # edit within admin): resolve until nothing changes.
    for _ in range(len(by_name)):
        changed = False
        for role in by_name.values():
            if role.HasField("aggregation_rule"):
                rules = aggregated_rules(role, by_name)
                if list(role.rules) != rules:
                    del role.rules[:]
                    role.rules.extend(rules)
                    changed = True
        if not changed:
            break
    for role in by_name.values():
        cache.put(role)
    for binding in cluster_role_bindings():
        cache.put(binding)
    for namespaced in roles():
        cache.put(namespaced)
    for namespaced_binding in role_bindings():
        cache.put(namespaced_binding)
    for binding in kubeadm_cluster_role_bindings():
        if binding.role_ref.name in by_name:
            cache.put(binding)
    return cache
