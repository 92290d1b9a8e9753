"""`podplane-bench authorization`: what the apiserver's authorizer costs per request, in process:
with the bootstrap policy alone (the static policy of before RBAC objects), and with N Roles and
N RoleBindings more, each binding a user of its own in a namespace of its own. The policy cache
indexes bindings by subject, so the second should cost what the first does; for contrast, the
same decision by a scan of every binding (what Kubernetes' authorizer does), which grows with N.
Requests: a user bound by one of the N bindings (allowed), the viewers group's user (a bootstrap
binding, allowed) and a user with no binding (refused after every lookup)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.bootstrap_policy import static_policy
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.rbac.rules import applies_to, resource_rule_allows
from apiserver.auth.user import AUTHENTICATED_GROUP, UserInfo
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "authorization",
        help="CPU per authorization decision, bootstrap policy vs N Roles and bindings",
        description=__doc__,
    )
    p.add_argument("--roles", type=positive, default=1000, help="Roles and RoleBindings added")
    p.add_argument("--requests", type=positive, default=20000, help="decisions timed per case")
    p.add_argument("--out", help="also write the result as JSON here")


def with_roles(count: int) -> PolicyCache:
    """The bootstrap policy and `count` Roles, each bound to user-<i> in namespace ns-<i>."""
    policy = static_policy()
    for i in range(count):
        ns = f"ns-{i}"
        policy.put(
            rbac_pb2.Role(
                metadata=meta_pb2.ObjectMeta(name="pod-reader", namespace=ns),
                rules=[
                    rbac_pb2.PolicyRule(verbs=["get", "list"], api_groups=[""], resources=["pods"])
                ],
            )
        )
        policy.put(
            rbac_pb2.RoleBinding(
                metadata=meta_pb2.ObjectMeta(name="read-pods", namespace=ns),
                subjects=[rbac_pb2.Subject(kind="User", api_group=GROUP, name=f"user-{i}")],
                role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="Role", name="pod-reader"),
            )
        )
    return policy


def _user(name: str, *groups: str) -> UserInfo:
    return UserInfo(name, frozenset({*groups, AUTHENTICATED_GROUP}))


def cases(count: int) -> dict[str, Attributes]:
    last = max(count - 1, 0)
    return {
        "bound user, own namespace (allowed)": Attributes(
            _user(f"user-{last}"), "list", "pods", namespace=f"ns-{last}"
        ),
        "viewer, bootstrap binding (allowed)": Attributes(
            _user("viewer", "viewers"), "list", "pods", namespace=f"ns-{last}"
        ),
        "unbound user (refused)": Attributes(
            _user("stranger"), "list", "pods", namespace=f"ns-{last}"
        ),
    }


def _timed(
    decide: Callable[[Attributes], bool], a: Attributes, requests: int
) -> tuple[float, bool]:
    allowed = decide(a)
    started = time.process_time()
    for _ in range(requests):
        decide(a)
    return (time.process_time() - started) / requests, allowed


def scan_decision(policy: PolicyCache) -> Callable[[Attributes], bool]:
    """The decision by a scan over every binding, as Kubernetes' authorizer makes it."""
    cluster_bindings = list(policy.objects(rbac_pb2.ClusterRoleBinding))
    bindings = list(policy.objects(rbac_pb2.RoleBinding))

    def rules_of(ref: rbac_pb2.RoleRef, namespace: str) -> list[rbac_pb2.PolicyRule]:
        role = (
            policy.roles.get((namespace, ref.name))
            if ref.kind == "Role"
            else policy.cluster_roles.get(ref.name)
        )
        return list(role.rules) if role is not None else []

    def decide(a: Attributes) -> bool:
        for b in cluster_bindings:
            if any(applies_to(a.user, s, "") for s in b.subjects):
                for r in rules_of(b.role_ref, ""):
                    if resource_rule_allows(r, a.verb, a.api_group, a.resource, "", a.name):
                        return True
        for rb in bindings:
            ns = rb.metadata.namespace
            if ns == a.namespace and any(applies_to(a.user, s, ns) for s in rb.subjects):
                for r in rules_of(rb.role_ref, ns):
                    if resource_rule_allows(r, a.verb, a.api_group, a.resource, "", a.name):
                        return True
        return False

    return decide


def run(args: argparse.Namespace) -> int:
    static = Authorizer(lambda namespace: [], policy=static_policy())
    loaded_policy = with_roles(args.roles)
    loaded = Authorizer(lambda namespace: [], policy=loaded_policy)
    scan = scan_decision(loaded_policy)
    result: dict[str, dict[str, float]] = {}
    agree = True
    print(f"authorization, {args.roles} Roles and RoleBindings, {args.requests} decisions each:")
    for name, a in cases(args.roles).items():
        base, _ = _timed(lambda x: static.authorize(x).allowed, a, args.requests)
        indexed, allowed = _timed(lambda x: loaded.authorize(x).allowed, a, args.requests)
        scanned, scan_allowed = _timed(scan, a, max(args.requests // 100, 10))
        agree = agree and allowed == scan_allowed
        result[name] = {
            "bootstrap_policy_us": base * 1e6,
            "indexed_us": indexed * 1e6,
            "scan_us": scanned * 1e6,
        }
        print(
            f"  {name}: {base * 1e6:.1f} us with the bootstrap policy alone, {indexed * 1e6:.1f} us"
            f" with the {args.roles} bindings (indexed), {scanned * 1e6:.1f} us by a scan"
            f"{'' if allowed == scan_allowed else '  (the scan decided otherwise!)'}"
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"roles": args.roles, "cpu_us_per_decision": result}, f, indent=2)
    return 0 if agree else 1
