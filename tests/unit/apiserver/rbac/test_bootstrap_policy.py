"""The bootstrap policy: Kubernetes' roles and bindings with their labels and annotations,
aggregation of view into edit into admin, and reconciliation that adds what is missing and
removes nothing."""

from __future__ import annotations

from apiserver.auth import bootstrap_policy
from apiserver.auth.rbac.resolver import RBACAuthorizer
from apiserver.auth.user import UserInfo
from apiserver.registry.rbac.reconcile import reconciled_binding, reconciled_role
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"


def test_every_object_is_labelled_and_annotated_for_autoupdate() -> None:
    objects: list[rbac_pb2.ClusterRole | rbac_pb2.ClusterRoleBinding] = [
        *bootstrap_policy.cluster_roles(),
        *bootstrap_policy.cluster_role_bindings(),
    ]
    assert {o.metadata.labels["kubernetes.io/bootstrapping"] for o in objects} == {"rbac-defaults"}
    assert {o.metadata.annotations[bootstrap_policy.AUTOUPDATE] for o in objects} == {"true"}
    roles = {r.metadata.name for r in bootstrap_policy.cluster_roles()}
    assert {"cluster-admin", "admin", "edit", "view", "system:basic-user"} <= roles
    for b in bootstrap_policy.cluster_role_bindings():
        assert b.role_ref.name in roles


def test_static_policy_aggregates_view_into_edit_into_admin() -> None:
    rbac = RBACAuthorizer(bootstrap_policy.static_policy())

    def may(role: str, verb: str, group: str, resource: str) -> bool:
        return any(
            verb in r.verbs and group in r.api_groups and resource in r.resources
            for r in rbac.resolver.policy.cluster_roles[role].rules
        )

    assert may("view", "list", "", "pods")
    assert not may("view", "get", "", "secrets")
    assert may("edit", "list", "", "pods") and may("edit", "create", "", "secrets")
    assert may("admin", "create", GROUP, "roles") and may("admin", "delete", "", "pods")
    assert not may("edit", "create", GROUP, "roles")


def test_networking_kinds_in_view_and_edit_as_bootstrappolicy() -> None:
    """View reads ingresses, their status and network policies; edit writes ingresses and network
    policies; neither names the cluster's IngressClasses."""
    rbac = RBACAuthorizer(bootstrap_policy.static_policy())
    roles = rbac.resolver.policy.cluster_roles
    networking = "networking.k8s.io"

    def allowed(role: str, group: str) -> set[tuple[str, str]]:
        return {
            (verb, resource)
            for r in roles[role].rules
            if group in r.api_groups
            for verb in r.verbs
            for resource in r.resources
        }

    view = allowed("view", networking)
    assert {
        ("list", "ingresses"),
        ("get", "ingresses/status"),
        ("watch", "networkpolicies"),
    } <= view
    assert not any(verb == "create" for verb, _ in view)
    edit = allowed("edit", networking)
    assert {("create", "ingresses"), ("deletecollection", "networkpolicies")} <= edit
    assert not any(resource == "ingressclasses" for _, resource in view | edit)
    viewer = UserInfo("viewer", frozenset({"viewers"}))
    for plural in ("ingresses", "ingressclasses", "networkpolicies"):
        assert rbac.authorize_resource(viewer, "list", networking, plural, "", "", "").allowed


def test_the_viewers_group_keeps_reading_everything_but_secrets() -> None:
    rbac = RBACAuthorizer(bootstrap_policy.static_policy())
    viewer = UserInfo("viewer", frozenset({"viewers"}))
    assert rbac.authorize_resource(viewer, "list", "", "nodes", "", "", "").allowed
    assert not rbac.authorize_resource(viewer, "get", "", "secrets", "", "default", "s").allowed


def test_non_resource_urls_for_the_anonymous_and_the_signed_in() -> None:
    rbac = RBACAuthorizer(bootstrap_policy.static_policy())
    anonymous = UserInfo("system:anonymous", frozenset({"system:unauthenticated"}))
    signed_in = UserInfo("jane", frozenset({"system:authenticated"}))
    assert rbac.authorize_non_resource(anonymous, "get", "/healthz").allowed
    assert not rbac.authorize_non_resource(anonymous, "get", "/api").allowed
    assert rbac.authorize_non_resource(signed_in, "get", "/apis/apps/v1").allowed
    assert not rbac.authorize_non_resource(signed_in, "get", "/metrics").allowed
    assert not rbac.authorize_non_resource(signed_in, "post", "/healthz").allowed


def test_reconcile_adds_missing_rules_and_subjects_and_keeps_the_rest() -> None:
    expected = next(
        r for r in bootstrap_policy.cluster_roles() if r.metadata.name == "system:discovery"
    )
    existing = rbac_pb2.ClusterRole()
    existing.CopyFrom(expected)
    del existing.rules[:]
    existing.rules.add(verbs=["get"], non_resource_urls=["/custom"])
    existing.metadata.labels["mine"] = "yes"
    out = reconciled_role(existing, expected)
    assert out.rules[0].non_resource_urls == ["/custom"]
    assert {u for r in out.rules for u in r.non_resource_urls} >= set(
        u for r in expected.rules for u in r.non_resource_urls
    )
    assert out.metadata.labels["mine"] == "yes"
    assert reconciled_role(out, expected) == out  # nothing more to add

    binding = next(
        b for b in bootstrap_policy.cluster_role_bindings() if b.metadata.name == "cluster-admin"
    )
    changed = rbac_pb2.ClusterRoleBinding()
    changed.CopyFrom(binding)
    del changed.subjects[:]
    changed.subjects.add(kind="User", api_group=GROUP, name="root")
    merged = reconciled_binding(changed, binding)
    assert [s.name for s in merged.subjects] == ["root", "system:masters"]


def test_kubeadm_binds_its_bootstrap_tokens_and_nodes_to_the_certificates_roles() -> None:
    bindings = {
        b.metadata.name: (b.role_ref.name, [(s.kind, s.api_group, s.name) for s in b.subjects])
        for b in bootstrap_policy.kubeadm_cluster_role_bindings()
    }
    token_group = [("Group", GROUP, "system:bootstrappers:kubeadm:default-node-token")]
    assert bindings == {
        "kubeadm:kubelet-bootstrap": ("system:node-bootstrapper", token_group),
        "kubeadm:node-autoapprove-bootstrap": (
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            token_group,
        ),
        "kubeadm:node-autoapprove-certificate-rotation": (
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            [("Group", GROUP, "system:nodes")],
        ),
    }
    # kubeadm makes them through the API: not Kubernetes' rbac-defaults.
    for b in bootstrap_policy.kubeadm_cluster_role_bindings():
        assert not b.metadata.labels and not b.metadata.annotations
    # The certificates API's roles exist, so the policy holds the bindings (each is stored only
    # once its role exists): a node token may post certificate signing requests, not delete
    # them; a signed-in user in no such group may not post one.
    token_user = UserInfo(
        "system:bootstrap:abcdef",
        frozenset({"system:bootstrappers", token_group[0][2], "system:authenticated"}),
    )
    csrs = ("create", "certificates.k8s.io", "certificatesigningrequests", "", "", "")
    policy = bootstrap_policy.static_policy()
    stored = {b.metadata.name for b in policy.objects(rbac_pb2.ClusterRoleBinding)}
    assert set(bindings) <= stored
    rbac = RBACAuthorizer(policy)
    assert rbac.authorize_resource(token_user, *csrs).allowed
    assert not rbac.authorize_resource(token_user, "delete", *csrs[1:]).allowed
    jane = UserInfo("jane", frozenset({"system:authenticated"}))
    assert not rbac.authorize_resource(jane, *csrs).allowed


def test_a_standby_scheduler_may_watch_its_lease_by_name_and_no_other() -> None:
    """A list or watch names the object its field selector selects by metadata.name (Kubernetes'
    RequestInfo), so the scheduler's rule for the lease kube-scheduler allows the standby's watch
    of it (podplane/client/leaderelection.py), and not of every lease."""
    from apiserver.auth.authorizer import Authorizer, request_attributes

    authorizer = Authorizer(lambda namespace: [])
    scheduler = UserInfo("system:kube-scheduler", frozenset({"system:authenticated"}))

    def may_watch(field_selector: str) -> bool:
        attrs = request_attributes(
            scheduler, "watch", "leases", "", "kube-system", "", field_selector=field_selector
        )
        return authorizer.authorize(attrs).allowed

    assert may_watch("metadata.name=kube-scheduler")
    assert not may_watch("")
    assert not may_watch("metadata.name=kube-controller-manager")
    assert not may_watch("metadata.name!=kube-scheduler")
