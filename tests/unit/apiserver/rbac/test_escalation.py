"""Escalation prevention (pkg/registry/rbac/validation's Covers, BreakdownRule, CompactRules and
ConfirmNoEscalation's message): what a user holds, they may grant; anything more is Forbidden in
Kubernetes' words, unless they may escalate or bind."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.auth.escalation import EscalationCheck, compact_string, missing_rules
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.rbac.resolver import RuleResolver
from apiserver.auth.user import UserInfo
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
JANE = UserInfo("jane", frozenset({"devs", "system:authenticated"}))


def rule(
    verbs: list[str], groups: list[str], resources: list[str], **kw: list[str]
) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(verbs=verbs, api_groups=groups, resources=resources, **kw)


@pytest.mark.parametrize(
    ("owned", "wanted", "missing"),
    [
        ([rule(["get", "list"], [""], ["pods"])], rule(["get"], [""], ["pods"]), []),
        ([rule(["*"], ["*"], ["*"])], rule(["delete"], ["apps"], ["deployments"]), []),
        (
            [rule(["get"], [""], ["pods"])],
            rule(["get", "delete"], [""], ["pods"]),
            ['{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}'],
        ),
        ([rule(["get"], [""], ["*/log"])], rule(["get"], [""], ["pods/log"]), []),
        (
            [rule(["get"], [""], ["pods"], resource_names=["web"])],
            rule(["get"], [""], ["pods"]),
            ['{APIGroups:[""], Resources:["pods"], Verbs:["get"]}'],
        ),
        (
            [rule(["get"], [""], ["pods"])],
            rule(["get"], [""], ["pods"], resource_names=["web"]),
            [],
        ),
        (
            [rbac_pb2.PolicyRule(verbs=["get"], non_resource_urls=["/api/*"])],
            rbac_pb2.PolicyRule(verbs=["get"], non_resource_urls=["/api/v1", "/healthz"]),
            ['{NonResourceURLs:["/healthz"], Verbs:["get"]}'],
        ),
    ],
)
def test_covers(
    owned: list[rbac_pb2.PolicyRule], wanted: rbac_pb2.PolicyRule, missing: list[str]
) -> None:
    assert [compact_string(r) for r in missing_rules(owned, [wanted])] == missing


def _check(allow: set[tuple[str, str, str]] | None = None) -> EscalationCheck:
    cache = PolicyCache()
    cache.put(
        rbac_pb2.Role(
            metadata=meta_pb2.ObjectMeta(name="pod-reader", namespace="x"),
            rules=[rule(["get", "list"], [""], ["pods"])],
        )
    )
    cache.put(
        rbac_pb2.ClusterRole(
            metadata=meta_pb2.ObjectMeta(name="admin"), rules=[rule(["*"], ["*"], ["*"])]
        )
    )
    cache.put(
        rbac_pb2.RoleBinding(
            metadata=meta_pb2.ObjectMeta(name="b", namespace="x"),
            subjects=[rbac_pb2.Subject(kind="Group", api_group=GROUP, name="devs")],
            role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="Role", name="pod-reader"),
        )
    )
    granted = allow or set()
    return EscalationCheck(
        RuleResolver(cache), lambda u, verb, plural, ns, name: (verb, plural, name) in granted
    )


def test_a_role_with_rules_held_may_be_written() -> None:
    _check().check_role(JANE, "roles", "x", "r", [rule(["get"], [""], ["pods"])])


def test_a_role_with_rules_not_held_is_forbidden_in_kubernetes_words() -> None:
    with pytest.raises(errors.APIError) as refused:
        _check().check_role(
            JANE, "roles", "x", "r", [rule(["get", "delete", "patch"], [""], ["pods", "secrets"])]
        )
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.message == (
        f'roles.{GROUP} "r" is forbidden: user "jane" (groups=["devs" "system:authenticated"]) '
        "is attempting to grant RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete" "patch"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "patch"]}'
    )


def test_escalate_verb_and_masters_skip_the_check() -> None:
    wanted = [rule(["delete"], [""], ["secrets"])]
    _check({("escalate", "roles", "r")}).check_role(JANE, "roles", "x", "r", wanted)
    masters = UserInfo("admin", frozenset({"system:masters"}))
    _check().check_role(masters, "roles", "x", "r", wanted)


def test_binding_needs_the_role_rules_or_bind() -> None:
    admin = rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name="admin")
    reader = rbac_pb2.RoleRef(api_group=GROUP, kind="Role", name="pod-reader")
    _check().check_binding(JANE, "rolebindings", "x", "b2", reader)
    with pytest.raises(errors.APIError) as refused:
        _check().check_binding(JANE, "rolebindings", "x", "b2", admin)
    assert refused.value.reason == "Forbidden"
    assert refused.value.message.startswith(f'rolebindings.{GROUP} "b2" is forbidden: user "jane"')
    _check({("bind", "clusterroles", "admin")}).check_binding(
        JANE, "rolebindings", "x", "b2", admin
    )
    missing = rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name="nope")
    with pytest.raises(errors.APIError) as not_found:
        _check().check_binding(JANE, "rolebindings", "x", "b2", missing)
    assert not_found.value.reason == "NotFound"
    assert not_found.value.message == f'clusterrole.{GROUP} "nope" not found'
