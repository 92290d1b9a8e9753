"""The rules a user holds and the RBAC decision (plugin/pkg/auth/authorizer/rbac/rbac.go and
pkg/registry/rbac/validation/rule.go's DefaultRuleResolver): the rules of the roles bound to the
user cluster-wide, and, in a namespace, those bound there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from apiserver.auth.rbac.cache import Binding, PolicyCache
from apiserver.auth.rbac.rules import Rule, User
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"


@dataclass
class ResolvedRules:
    """The rules found, and what could not be resolved (a binding's missing role), as
    Kubernetes' resolver returns both; incomplete when an authorizer cannot list what it
    allows."""

    rules: list[rbac_pb2.PolicyRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    incomplete: bool = False


class RuleResolver:
    def __init__(self, policy: PolicyCache) -> None:
        self.policy = policy

    def role_reference_rules(
        self, ref: rbac_pb2.RoleRef, namespace: str
    ) -> list[rbac_pb2.PolicyRule] | str:
        """GetRoleReferenceRules: the rules of the role a binding names, or the error that it
        does not exist (the lister's NotFound text)."""
        if ref.kind == "Role":
            role = self.policy.roles.get((namespace, ref.name))
            if role is None:
                return f'role.{GROUP} "{ref.name}" not found'
            return list(role.rules)
        if ref.kind == "ClusterRole":
            cluster_role = self.policy.cluster_roles.get(ref.name)
            if cluster_role is None:
                return f'clusterrole.{GROUP} "{ref.name}" not found'
            return list(cluster_role.rules)
        return f"unsupported role reference kind: {ref.kind!r}"

    def visit(
        self, user: User, namespace: str
    ) -> Iterator[tuple[Binding, list[rbac_pb2.PolicyRule] | str]]:
        """VisitRulesFor: the ClusterRoleBindings' roles first, then, with a namespace, the
        RoleBindings of that namespace; each binding with its role's rules or the error."""
        scopes = ["", namespace] if namespace else [""]
        for scope in scopes:
            for binding in self.policy.bindings_for(user, scope):
                yield binding, self.role_reference_rules(binding.role_ref, scope)

    def visit_compiled(self, user: User, namespace: str) -> Iterator[tuple[Rule, ...] | str]:
        """visit, with each role's rules as the cache compiled them (for decisions)."""
        policy = self.policy
        scopes = ("", namespace) if namespace else ("",)
        for scope in scopes:
            for binding in policy.bindings_for(user, scope):
                ref = binding.role_ref
                rules: tuple[Rule, ...] | None = None
                if ref.kind == "Role":
                    rules = policy.role_rules.get((scope, ref.name))
                elif ref.kind == "ClusterRole":
                    rules = policy.cluster_role_rules.get(ref.name)
                if rules is not None:
                    yield rules
                else:  # the role is missing: the error, as role_reference_rules words it
                    missing = self.role_reference_rules(ref, scope)
                    yield missing if isinstance(missing, str) else ()

    def rules_for(self, user: User, namespace: str) -> ResolvedRules:
        """RulesFor: every rule the user holds in `namespace` ("" : cluster-wide only)."""
        out = ResolvedRules()
        for _, rules in self.visit(user, namespace):
            if isinstance(rules, str):
                out.errors.append(rules)
            else:
                out.rules.extend(rules)
        return out


@dataclass(frozen=True)
class RBACDecision:
    allowed: bool
    # "RBAC: <errors>" when a binding's role could not be resolved, as Kubernetes says.
    reason: str = ""


# Decisions kept before the cache is emptied (users and kinds are few; names are not kept).
_DECISIONS = 4096
# A decision's key: the user's name and groups, verb, API group, resource, subresource,
# namespace (not the object's name: see RBACAuthorizer.authorize_resource).
_DecisionKey = tuple[str, frozenset[str], str, str, str, str, str]


class RBACAuthorizer:
    """Allows what a rule of a role bound to the user allows; stops at the first such rule."""

    def __init__(self, policy: PolicyCache) -> None:
        self.resolver = RuleResolver(policy)
        self._decisions: dict[_DecisionKey, RBACDecision] = {}
        self._generation = policy.generation

    def _decide(self, user: User, namespace: str, allows: Callable[[Rule], bool]) -> RBACDecision:
        errors: list[str] = []
        for rules in self.resolver.visit_compiled(user, namespace):
            if isinstance(rules, str):
                errors.append(rules)
            else:
                for r in rules:
                    if allows(r):
                        return RBACDecision(True)
        return RBACDecision(False, f"RBAC: {_aggregate(errors)}" if errors else "")

    def authorize_resource(
        self,
        user: User,
        verb: str,
        group: str,
        resource: str,
        subresource: str,
        namespace: str,
        name: str,
    ) -> RBACDecision:
        """The decision, remembered until the policy changes when it holds whatever the
        object's name: a user's requests repeat the same few kinds, and scanning their rules
        cost each of a scheduler's binds and events 5-6 µs. One that a rule's resourceNames
        decides is not remembered."""
        policy = self.resolver.policy
        if policy.generation != self._generation or len(self._decisions) >= _DECISIONS:
            self._decisions.clear()
            self._generation = policy.generation
        key = (user.name, user.groups, verb, group, resource, subresource, namespace)
        decision = self._decisions.get(key)
        if decision is not None:
            return decision
        by_name = False  # whether a rule's resourceNames were consulted

        def allows(r: Rule) -> bool:
            nonlocal by_name
            if not r.covers(verb, group, resource, subresource):
                return False
            if not r.names:
                return True
            by_name = True
            return name in r.names

        decision = self._decide(user, namespace, allows)
        if not by_name:
            self._decisions[key] = decision
        return decision

    def authorize_non_resource(self, user: User, verb: str, path: str) -> RBACDecision:
        """Non-resource URLs: only cluster-wide bindings' rules can name them."""
        return self._decide(user, "", lambda r: r.allows_non_resource(verb, path))


def _aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate's text: one error as is, several as [a, b]."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
