"""Whether a rule allows a request and a binding's subject is the user (rbac.RuleAllows,
rbacv1helpers.*Matches and appliesTo of plugin/pkg/auth/authorizer/rbac)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery.serviceaccount import make_username

ALL = "*"


class User(Protocol):
    """Who asks (user.Info): a name and groups (apiserver.auth.user.UserInfo is one)."""

    @property
    def name(self) -> str: ...

    @property
    def groups(self) -> frozenset[str]: ...


def verb_matches(rule: rbac_pb2.PolicyRule, verb: str) -> bool:
    return ALL in rule.verbs or verb in rule.verbs


def api_group_matches(rule: rbac_pb2.PolicyRule, group: str) -> bool:
    return ALL in rule.api_groups or group in rule.api_groups


def resource_matches(rule: rbac_pb2.PolicyRule, combined: str, subresource: str) -> bool:
    """`combined` is "pods" or "pods/log"; "*" matches every resource and "*/log" the log
    subresource of every one."""
    for r in rule.resources:
        if r == ALL or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: rbac_pb2.PolicyRule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: rbac_pb2.PolicyRule, path: str) -> bool:
    """ "/healthz" matches itself; "/api/*" every path that starts with "/api/"; "*" every one."""
    for url in rule.non_resource_urls:
        if url == ALL or url == path:
            return True
        if url.endswith(ALL) and path.startswith(url.rstrip(ALL)):
            return True
    return False


def resource_rule_allows(
    rule: rbac_pb2.PolicyRule,
    verb: str,
    group: str,
    resource: str,
    subresource: str,
    name: str,
) -> bool:
    """RuleAllows for a resource request."""
    combined = f"{resource}/{subresource}" if subresource else resource
    return (
        verb_matches(rule, verb)
        and api_group_matches(rule, group)
        and resource_matches(rule, combined, subresource)
        and resource_name_matches(rule, name)
    )


def non_resource_rule_allows(rule: rbac_pb2.PolicyRule, verb: str, path: str) -> bool:
    """RuleAllows for a non-resource request."""
    return verb_matches(rule, verb) and non_resource_url_matches(rule, path)


@dataclass(frozen=True, slots=True)
class Rule:
    """A PolicyRule as sets, made once when its role enters the policy cache: what each request
    is matched against (a protobuf repeated field is slow to search)."""

    verbs: frozenset[str]
    groups: frozenset[str]
    resources: frozenset[str]
    names: frozenset[str]
    urls: tuple[str, ...]

    @classmethod
    def of(cls, rule: rbac_pb2.PolicyRule) -> Rule:
        return cls(
            frozenset(rule.verbs),
            frozenset(rule.api_groups),
            frozenset(rule.resources),
            frozenset(rule.resource_names),
            tuple(rule.non_resource_urls),
        )

    def allows_resource(
        self, verb: str, group: str, resource: str, subresource: str, name: str
    ) -> bool:
        """RuleAllows for a resource request, as resource_rule_allows."""
        return self.covers(verb, group, resource, subresource) and (
            not self.names or name in self.names
        )

    def covers(self, verb: str, group: str, resource: str, subresource: str) -> bool:
        """Whether the rule allows the request for some object name: allows_resource, but for
        its resourceNames."""
        if not (verb in self.verbs or ALL in self.verbs):
            return False
        if not (group in self.groups or ALL in self.groups):
            return False
        if subresource:
            if not (
                f"{resource}/{subresource}" in self.resources
                or ALL in self.resources
                or f"*/{subresource}" in self.resources
            ):
                return False
        elif not (resource in self.resources or ALL in self.resources):
            return False
        return True

    def allows_non_resource(self, verb: str, path: str) -> bool:
        if not (verb in self.verbs or ALL in self.verbs):
            return False
        return any(
            url == ALL or url == path or (url.endswith(ALL) and path.startswith(url.rstrip(ALL)))
            for url in self.urls
        )


def applies_to(user: User, subject: rbac_pb2.Subject, namespace: str) -> bool:
    """appliesToUser: a User by name, a Group by membership, a ServiceAccount by the user name it
    authenticates as; a ServiceAccount without a namespace is in the binding's `namespace`."""
    if subject.kind == "User":
        return user.name == subject.name
    if subject.kind == "Group":
        return subject.name in user.groups
    if subject.kind == "ServiceAccount":
        sa_namespace = subject.namespace or namespace
        return bool(sa_namespace) and user.name == make_username(sa_namespace, subject.name)
    return False
