"""Escalation prevention (pkg/registry/rbac/escalation_check.go and
validation/policy_comparator.go): no one writes a role with rules they do not hold, or binds a
role whose rules they do not hold, unless they may `escalate` roles or `bind` that role.
system:masters may do either. Every front door's writes reach this through the store's admission,
so the decision is the same at both."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import grpc

from apiserver import errors
from apiserver.auth.rbac.resolver import RuleResolver
from apiserver.auth.user import AUTHENTICATED_GROUP, MASTERS_GROUP, UserInfo
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
ALL = "*"

# Whether the user may `verb` the RBAC `resource` (roles, clusterroles) `name` in `namespace`:
# the apiserver's authorizer.
Authorize = Callable[[UserInfo, str, str, str, str], bool]

# What a ClusterRole with an aggregationRule is judged to grant: everything (its rules are
# whatever the roles it selects ever hold).
FULL_AUTHORITY = (
    rbac_pb2.PolicyRule(verbs=[ALL], api_groups=[ALL], resources=[ALL]),
    rbac_pb2.PolicyRule(verbs=[ALL], non_resource_urls=[ALL]),
)


def breakdown(rule: rbac_pb2.PolicyRule) -> list[rbac_pb2.PolicyRule]:
    """BreakdownRule: one rule per group, resource, verb (and name, if any), and per URL and
    verb."""
    out: list[rbac_pb2.PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                base = {"api_groups": [group], "resources": [resource], "verbs": [verb]}
                if rule.resource_names:
                    out += [
                        rbac_pb2.PolicyRule(**base, resource_names=[n]) for n in rule.resource_names
                    ]
                else:
                    out.append(rbac_pb2.PolicyRule(**base))
    for url in rule.non_resource_urls:
        for verb in rule.verbs:
            out.append(rbac_pb2.PolicyRule(non_resource_urls=[url], verbs=[verb]))
    return out


def _has_all(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(w in owned for w in wanted)


def _resources_cover(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    if ALL in owned or _has_all(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or f"*/{path.split('/', 1)[1]}" not in owned:
            return False
    return True


def _url_covers(owned: str, wanted: str) -> bool:
    return owned == wanted or (owned.endswith(ALL) and wanted.startswith(owned.rstrip(ALL)))


def _urls_cover(owned: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(any(_url_covers(o, w) for o in owned) for w in wanted)


def rule_covers(owner: rbac_pb2.PolicyRule, sub: rbac_pb2.PolicyRule) -> bool:
    """ruleCovers: `owner` allows everything `sub` does."""
    if sub.resource_names:
        names = not owner.resource_names or _has_all(owner.resource_names, sub.resource_names)
    else:
        names = not owner.resource_names
    return (
        (ALL in owner.verbs or _has_all(owner.verbs, sub.verbs))
        and (ALL in owner.api_groups or _has_all(owner.api_groups, sub.api_groups))
        and _resources_cover(owner.resources, sub.resources)
        and _urls_cover(owner.non_resource_urls, sub.non_resource_urls)
        and names
    )


def missing_rules(
    owned: Sequence[rbac_pb2.PolicyRule], wanted: Iterable[rbac_pb2.PolicyRule]
) -> list[rbac_pb2.PolicyRule]:
    """Covers' answer: the broken-down rules of `wanted` that no owned rule covers."""
    return [
        sub
        for rule in wanted
        for sub in breakdown(rule)
        if not any(rule_covers(o, sub) for o in owned)
    ]


def compact(rules: Sequence[rbac_pb2.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """CompactRules: rules of one group and one resource, naming no object, merged into one per
    group and resource with their verbs together."""
    out: list[rbac_pb2.PolicyRule] = []
    simple: dict[tuple[str, str], rbac_pb2.PolicyRule] = {}
    for r in rules:
        if (
            len(r.api_groups) == 1
            and len(r.resources) == 1
            and not r.resource_names
            and not r.non_resource_urls
        ):
            key = (r.api_groups[0], r.resources[0])
            if key in simple:
                simple[key].verbs.extend(v for v in r.verbs if v not in simple[key].verbs)
                continue
            merged = rbac_pb2.PolicyRule()
            merged.CopyFrom(r)
            simple[key] = merged
            out.append(merged)
        else:
            out.append(r)
    return out


def _quoted(values: Iterable[str]) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(_go_quote(v) for v in values) + "]"


def _go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compact_string(rule: rbac_pb2.PolicyRule) -> str:
    """rbacv1helpers.CompactString: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}."""
    parts = [
        f"{label}:{_quoted(values)}"
        for label, values in (
            ("APIGroups", rule.api_groups),
            ("Resources", rule.resources),
            ("NonResourceURLs", rule.non_resource_urls),
            ("ResourceNames", rule.resource_names),
            ("Verbs", rule.verbs),
        )
        if values
    ]
    return "{" + ", ".join(parts) + "}"


def user_groups(user: UserInfo) -> list[str]:
    """The user's groups in the order an authenticator gives them: its own, then
    system:authenticated."""
    own = sorted(g for g in user.groups if g != AUTHENTICATED_GROUP)
    return own + ([AUTHENTICATED_GROUP] if AUTHENTICATED_GROUP in user.groups else [])


class EscalationCheck:
    """ConfirmNoEscalation and the role and binding storages' short cuts, over the resolver of
    the authorizer's policy and the authorizer itself (for `escalate` and `bind`)."""

    def __init__(self, resolver: RuleResolver, authorize: Authorize) -> None:
        self.resolver = resolver
        self.authorize = authorize

    def confirm_no_escalation(
        self, user: UserInfo, namespace: str, rules: Iterable[rbac_pb2.PolicyRule]
    ) -> str | None:
        """None when the user holds every rule in `namespace`, else why not (Kubernetes'
        text)."""
        owned = self.resolver.rules_for(user, namespace)
        missing = missing_rules(owned.rules, rules)
        if not missing:
            return None
        described = sorted({compact_string(r) for r in compact(missing)})
        message = (
            f"user {_go_quote(user.name)} (groups={_quoted(user_groups(user))}) is attempting "
            "to grant RBAC permissions not currently held:\n" + "\n".join(described)
        )
        if owned.errors:
            message += "; resolution errors: [" + " ".join(owned.errors) + "]"
        return message

    def check_role(
        self,
        user: UserInfo,
        plural: str,
        namespace: str,
        name: str,
        rules: Iterable[rbac_pb2.PolicyRule],
    ) -> None:
        """A Role's or ClusterRole's write: allowed to system:masters, to those who may
        `escalate` it, and to those who hold its rules; else Forbidden."""
        if MASTERS_GROUP in user.groups or self.authorize(
            user, "escalate", plural, namespace, name
        ):
            return
        reason = self.confirm_no_escalation(user, namespace, rules)
        if reason is not None:
            raise forbidden(plural, name, reason)

    def check_binding(
        self, user: UserInfo, plural: str, namespace: str, name: str, ref: rbac_pb2.RoleRef
    ) -> None:
        """A binding's create (or an update, whose roleRef cannot change): allowed to
        system:masters, to those who may `bind` the role it names, and to those who hold the
        role's rules; else Forbidden (or NotFound when the role does not exist)."""
        if MASTERS_GROUP in user.groups:
            return
        role_plural = "roles" if ref.kind == "Role" else "clusterroles"
        if self.authorize(user, "bind", role_plural, namespace, ref.name):
            return
        rules = self.resolver.role_reference_rules(ref, namespace)
        if isinstance(rules, str):
            raise errors.APIError(grpc.StatusCode.NOT_FOUND, "NotFound", rules)
        reason = self.confirm_no_escalation(user, namespace, rules)
        if reason is not None:
            raise forbidden(plural, name, reason)


def forbidden(plural: str, name: str, reason: str) -> errors.APIError:
    """errors.NewForbidden: `roles.rbac.authorization.k8s.io "x" is forbidden: <reason>`."""
    return errors.APIError(
        grpc.StatusCode.PERMISSION_DENIED,
        "Forbidden",
        f'{plural}.{GROUP} "{name}" is forbidden: {reason}',
        errors.Details(name=name, group=GROUP, kind=plural),
    )
