"""Rule and subject matching as Kubernetes' RBAC authorizer does it (rbac.RuleAllows,
rbacv1helpers' matchers, appliesTo)."""

from __future__ import annotations

import pytest

from apiserver.auth.rbac.rules import (
    Rule,
    applies_to,
    non_resource_rule_allows,
    resource_rule_allows,
)
from apiserver.auth.user import UserInfo
from podplane.api.rbac.v1 import rbac_pb2


def rule(
    verbs: list[str], groups: list[str], resources: list[str], names: list[str] | None = None
) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(
        verbs=verbs, api_groups=groups, resources=resources, resource_names=names or []
    )


# (rule, verb, group, resource, subresource, name, allowed)
RESOURCE_CASES = [
    (rule(["get"], [""], ["pods"]), "get", "", "pods", "", "web", True),
    (rule(["get"], [""], ["pods"]), "list", "", "pods", "", "", False),
    (rule(["*"], [""], ["pods"]), "delete", "", "pods", "", "web", True),
    (rule(["get"], ["apps"], ["pods"]), "get", "", "pods", "", "web", False),
    (rule(["get"], ["*"], ["deployments"]), "get", "apps", "deployments", "", "d", True),
    (rule(["get"], [""], ["*"]), "get", "", "secrets", "", "s", True),
    # A subresource is named with its resource, or with */sub for every resource's.
    (rule(["get"], [""], ["pods"]), "get", "", "pods", "log", "web", False),
    (rule(["get"], [""], ["pods/log"]), "get", "", "pods", "log", "web", True),
    (rule(["get"], [""], ["*/log"]), "get", "", "pods", "log", "web", True),
    (rule(["get"], [""], ["*/log"]), "get", "", "pods", "", "web", False),
    (rule(["get"], [""], ["*/status"]), "get", "", "pods", "log", "web", False),
    # Resource names narrow the rule to those objects.
    (rule(["get"], [""], ["pods"], ["web"]), "get", "", "pods", "", "web", True),
    (rule(["get"], [""], ["pods"], ["web"]), "get", "", "pods", "", "db", False),
    (rule(["list"], [""], ["pods"], ["web"]), "list", "", "pods", "", "", False),
]


@pytest.mark.parametrize(
    ("r", "verb", "group", "resource", "sub", "name", "allowed"), RESOURCE_CASES
)
def test_resource_rules(
    r: rbac_pb2.PolicyRule, verb: str, group: str, resource: str, sub: str, name: str, allowed: bool
) -> None:
    assert resource_rule_allows(r, verb, group, resource, sub, name) is allowed
    # The compiled form the policy cache decides with agrees.
    assert Rule.of(r).allows_resource(verb, group, resource, sub, name) is allowed


@pytest.mark.parametrize(
    ("urls", "path", "allowed"),
    [
        (["/healthz"], "/healthz", True),
        (["/healthz"], "/healthz/etcd", False),
        (["/api/*"], "/api/v1", True),
        (["/api/*"], "/apis", False),
        (["/api*"], "/apis", True),
        (["*"], "/anything", True),
    ],
)
def test_non_resource_urls(urls: list[str], path: str, allowed: bool) -> None:
    r = rbac_pb2.PolicyRule(verbs=["get"], non_resource_urls=urls)
    assert non_resource_rule_allows(r, "get", path) is allowed
    assert non_resource_rule_allows(r, "post", path) is False
    assert Rule.of(r).allows_non_resource("get", path) is allowed
    assert Rule.of(r).allows_non_resource("post", path) is False


JANE = UserInfo("jane", frozenset({"devs", "system:authenticated"}))
BOT = UserInfo("system:serviceaccount:team:bot", frozenset({"system:serviceaccounts"}))


@pytest.mark.parametrize(
    ("user", "subject", "namespace", "applies"),
    [
        (JANE, rbac_pb2.Subject(kind="User", name="jane"), "", True),
        (JANE, rbac_pb2.Subject(kind="User", name="john"), "", False),
        (JANE, rbac_pb2.Subject(kind="Group", name="devs"), "", True),
        (JANE, rbac_pb2.Subject(kind="Group", name="jane"), "", False),
        (BOT, rbac_pb2.Subject(kind="ServiceAccount", name="bot", namespace="team"), "", True),
        (BOT, rbac_pb2.Subject(kind="ServiceAccount", name="bot", namespace="other"), "", False),
        # A service account without a namespace is in the binding's.
        (BOT, rbac_pb2.Subject(kind="ServiceAccount", name="bot"), "team", True),
        (BOT, rbac_pb2.Subject(kind="ServiceAccount", name="bot"), "", False),
        # A user named like a service account is not matched by a User subject of the account.
        (BOT, rbac_pb2.Subject(kind="User", name="bot"), "team", False),
    ],
)
def test_subjects(user: UserInfo, subject: rbac_pb2.Subject, namespace: str, applies: bool) -> None:
    assert applies_to(user, subject, namespace) is applies
