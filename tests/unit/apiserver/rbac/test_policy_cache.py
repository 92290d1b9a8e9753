"""The policy cache's subject index: a user finds the bindings naming it, its groups or its
service account, in the namespace asked, as bindings come, change and go; and the decision over
it (the RBAC authorizer and its rule resolver)."""

from __future__ import annotations

from apiserver.auth.rbac.cache import CacheFeed, PolicyCache
from apiserver.auth.rbac.resolver import RBACAuthorizer
from apiserver.auth.user import UserInfo
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
JANE = UserInfo("jane", frozenset({"devs"}))
BOT = UserInfo("system:serviceaccount:team:bot")


def binding(
    name: str, namespace: str, role: str, *subjects: rbac_pb2.Subject, kind: str = "Role"
) -> rbac_pb2.RoleBinding:
    return rbac_pb2.RoleBinding(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
        subjects=subjects,
        role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind=kind, name=role),
    )


def user(name: str) -> rbac_pb2.Subject:
    return rbac_pb2.Subject(kind="User", api_group=GROUP, name=name)


def group(name: str) -> rbac_pb2.Subject:
    return rbac_pb2.Subject(kind="Group", api_group=GROUP, name=name)


def pod_reader(namespace: str) -> rbac_pb2.Role:
    return rbac_pb2.Role(
        metadata=meta_pb2.ObjectMeta(name="pod-reader", namespace=namespace),
        rules=[rbac_pb2.PolicyRule(verbs=["get", "list"], api_groups=[""], resources=["pods"])],
    )


def names(bindings: list[rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding]) -> list[str]:
    return [b.metadata.name for b in bindings]


def test_index_finds_bindings_by_user_group_and_service_account_per_namespace() -> None:
    cache = PolicyCache()
    cache.put(binding("by-name", "x", "r", user("jane")))
    cache.put(binding("by-group", "x", "r", group("devs"), user("jane")))
    cache.put(binding("elsewhere", "y", "r", user("jane")))
    cache.put(binding("others", "x", "r", user("john")))
    cache.put(binding("sa", "team", "r", rbac_pb2.Subject(kind="ServiceAccount", name="bot")))
    cache.put(
        rbac_pb2.ClusterRoleBinding(
            metadata=meta_pb2.ObjectMeta(name="everywhere"),
            subjects=[group("devs")],
            role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name="view"),
        )
    )
    assert names(cache.bindings_for(JANE, "x")) == ["by-group", "by-name"]
    assert names(cache.bindings_for(JANE, "y")) == ["elsewhere"]
    assert names(cache.bindings_for(JANE, "")) == ["everywhere"]
    assert names(cache.bindings_for(BOT, "team")) == ["sa"]
    assert cache.bindings_for(UserInfo("john"), "y") == []


def test_index_follows_updates_and_deletes() -> None:
    cache = PolicyCache()
    feed = CacheFeed(cache, rbac_pb2.RoleBinding)
    first = binding("b", "x", "r", user("jane"))
    feed.changed(None, first)
    moved = binding("b", "x", "r", user("john"))
    feed.changed(first, moved)
    assert cache.bindings_for(JANE, "x") == []
    assert names(cache.bindings_for(UserInfo("john"), "x")) == ["b"]
    feed.changed(moved, None)
    assert cache.bindings_for(UserInfo("john"), "x") == []
    assert cache.binding_count() == 0
    # A relist replaces every binding of the kind.
    feed.replaced([binding("c", "x", "r", user("jane"))])
    assert names(cache.bindings_for(JANE, "x")) == ["c"]


def test_rbac_decides_from_roles_bound_in_the_namespace() -> None:
    cache = PolicyCache()
    cache.put(pod_reader("x"))
    cache.put(binding("read", "x", "pod-reader", user("jane")))
    rbac = RBACAuthorizer(cache)
    assert rbac.authorize_resource(JANE, "list", "", "pods", "", "x", "").allowed
    assert not rbac.authorize_resource(JANE, "list", "", "pods", "", "y", "").allowed
    assert not rbac.authorize_resource(JANE, "delete", "", "pods", "", "x", "p").allowed
    # Cluster-wide (no namespace): only ClusterRoleBindings count.
    assert not rbac.authorize_resource(JANE, "list", "", "pods", "", "", "").allowed


def test_a_missing_role_is_the_refusal_reason() -> None:
    cache = PolicyCache()
    cache.put(binding("b", "x", "gone", user("jane")))
    cache.put(binding("c", "x", "gone-too", user("jane"), kind="ClusterRole"))
    decision = RBACAuthorizer(cache).authorize_resource(JANE, "get", "", "pods", "", "x", "p")
    assert not decision.allowed
    assert decision.reason == (
        f'RBAC: [role.{GROUP} "gone" not found, clusterrole.{GROUP} "gone-too" not found]'
    )


def test_rules_for_lists_cluster_and_namespace_rules() -> None:
    cache = PolicyCache()
    cache.put(pod_reader("x"))
    cache.put(binding("read", "x", "pod-reader", user("jane")))
    resolved = RBACAuthorizer(cache).resolver.rules_for(JANE, "x")
    assert [list(r.verbs) for r in resolved.rules] == [["get", "list"]]
    assert RBACAuthorizer(cache).resolver.rules_for(JANE, "y").rules == []


def test_a_remembered_decision_follows_the_policy_as_it_changes() -> None:
    cache = PolicyCache()
    rbac = RBACAuthorizer(cache)
    assert not rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "p").allowed
    cache.put(pod_reader("x"))
    cache.put(binding("read", "x", "pod-reader", user("jane")))
    assert rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "p").allowed
    assert rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "other").allowed
    # Another user with the same name's groups is decided as itself.
    assert not rbac.authorize_resource(
        UserInfo("jane", frozenset({"ops"})), "get", "", "pods", "", "y", "p"
    ).allowed
    cache.remove(binding("read", "x", "pod-reader", user("jane")))
    assert not rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "p").allowed
    # A role that disappears after a grant takes the grant with it, and says why.
    cache.put(binding("read", "x", "pod-reader", user("jane")))
    assert rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "p").allowed
    cache.remove(pod_reader("x"))
    decision = rbac.authorize_resource(JANE, "get", "", "pods", "", "x", "p")
    assert (decision.allowed, decision.reason) == (
        False,
        f'RBAC: role.{GROUP} "pod-reader" not found',
    )


def test_a_rule_naming_objects_is_decided_for_each_name() -> None:
    cache = PolicyCache()
    cache.put(
        rbac_pb2.Role(
            metadata=meta_pb2.ObjectMeta(name="one-lease", namespace="x"),
            rules=[
                rbac_pb2.PolicyRule(
                    verbs=["update"],
                    api_groups=["coordination.k8s.io"],
                    resources=["leases"],
                    resource_names=["mine"],
                )
            ],
        )
    )
    cache.put(binding("b", "x", "one-lease", user("jane")))
    rbac = RBACAuthorizer(cache)
    group_ = "coordination.k8s.io"
    for _ in range(2):  # asked again: the same answers, in either order
        assert not rbac.authorize_resource(
            JANE, "update", group_, "leases", "", "x", "theirs"
        ).allowed
        assert rbac.authorize_resource(JANE, "update", group_, "leases", "", "x", "mine").allowed
        assert not rbac.authorize_resource(JANE, "update", group_, "leases", "", "x", "").allowed
