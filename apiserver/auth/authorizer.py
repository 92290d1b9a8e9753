"""Authorization: who may do what (k8s.io/apiserver/pkg/authorization). system:masters may do
anything (the privileged-group authorizer), the node authorizer decides for kubelets, RBAC for
everyone else from the Role, ClusterRole, RoleBinding and ClusterRoleBinding objects
(apiserver/auth/rbac), as kube-apiserver's --authorization-mode=Node,RBAC; a refusal reads as
Kubernetes' PERMISSION_DENIED (403). Every front door asks with the same attributes: the user, the
verb, the resource and subresource, and the namespace and name the request names."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from apiserver import errors
from apiserver.auth.bootstrap_policy import static_policy
from apiserver.auth.node_authorizer import (
    ClaimGetter,
    Decision,
    NodeAuthorizer,
    PodsInNamespace,
)
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.rbac.resolver import RBACAuthorizer, ResolvedRules
from apiserver.auth.user import MASTERS_GROUP, UserInfo
from podplane.apimachinery import resources, selectors
from podplane.apimachinery.resources import CreateOnlyResource, Resource

_NAMESPACED = {r.plural for r in resources.SERVED if r.namespaced}
# The group of a plural named without one: its storage version's (events: the core group).
_STORAGE_VERSIONS: tuple[Resource | CreateOnlyResource, ...] = (
    *resources.ALL,
    *resources.CREATE_ONLY,
)
_GROUPS = {r.plural: r.api_version.rpartition("/")[0] for r in _STORAGE_VERSIONS}


@dataclass(frozen=True)
class Attributes:
    """authorizer.Attributes of a resource request."""

    user: UserInfo
    verb: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    # The API group, when the request names one (an access review, an impersonation); else the
    # group that serves the resource.
    group: str | None = None

    @property
    def api_group(self) -> str:
        return self.group if self.group is not None else _GROUPS.get(self.resource, "")


def request_attributes(
    user: UserInfo,
    verb: str,
    resource: str,
    subresource: str,
    namespace: str,
    name: str,
    *,
    group: str | None = None,
    namespaced: bool | None = None,
    field_selector: str = "",
) -> Attributes:
    """The attributes of a request for the namespace and name it gives. A create names no object
    (POST to the collection); a list or watch names the object its field selector selects by
    `metadata.name`, if it does, so that a rule with resourceNames allows it; a cluster-scoped
    resource has no namespace; an empty namespace is the server's "default" except for list and
    watch, where it means every namespace. `group` and `namespaced` are the request's resource's
    when the caller knows them (a custom resource's); else the built-in kind of that plural's."""
    if verb == "create" and not subresource:
        name = ""
    elif verb in ("list", "watch") and not name:
        name = selectors.selected_name(field_selector)
    if namespaced is None:
        namespaced = resource in _NAMESPACED
    if not namespaced:
        namespace = ""
    elif not namespace and verb not in ("list", "watch"):
        namespace = "default"
    return Attributes(user, verb, resource, subresource, namespace, name, group)


class Authorizer:
    """system:masters, then Node, then RBAC: the first that allows wins; every refusing
    authorizer's reason is kept for the refusal (authorizerfactory union)."""

    def __init__(
        self,
        pods_in_namespace: PodsInNamespace,
        claims: ClaimGetter | None = None,
        policy: PolicyCache | None = None,
    ) -> None:
        self.node = NodeAuthorizer(pods_in_namespace, claims)
        # The apiserver passes the policy its watch caches keep; without one (an in-process
        # test's authorizer), the bootstrap policy in memory.
        self.policy = policy if policy is not None else static_policy()
        self.rbac = RBACAuthorizer(self.policy)

    def authorize(self, a: Attributes) -> Decision:
        if MASTERS_GROUP in a.user.groups:
            return Decision(True)
        reasons: list[str] = []
        node = a.user.node_name
        if node is not None:
            decision = self.node.authorize(
                node, a.verb, a.resource, a.subresource, a.namespace, a.name
            )
            if decision.allowed:
                return decision
            if decision.reason:
                reasons.append(decision.reason)
        rbac = self.rbac.authorize_resource(
            a.user, a.verb, a.api_group, a.resource, a.subresource, a.namespace, a.name
        )
        if rbac.allowed:
            return Decision(True)
        if rbac.reason:
            reasons.append(rbac.reason)
        return Decision(False, "\n".join(reasons))

    def authorize_non_resource(self, user: UserInfo, verb: str, path: str) -> bool:
        """Whether `user` may `verb` (get, post, ...) a non-resource path, by the
        nonResourceURLs of the cluster roles bound to it."""
        if MASTERS_GROUP in user.groups:
            return True
        return self.rbac.authorize_non_resource(user, verb, path).allowed

    def non_resource_refusal(
        self, user: UserInfo | None, verb: str, path: str
    ) -> errors.APIError | None:
        """The Forbidden error of a non-resource request `user` may not make, in Kubernetes'
        words (`forbidden: User "system:anonymous" cannot get path "/api"`, with the empty
        details errors.NewForbidden gives a path), else None; without authentication
        configured (no user) every request is allowed."""
        if user is None or self.authorize_non_resource(user, verb, path):
            return None
        return errors.APIError(
            grpc.StatusCode.PERMISSION_DENIED,
            "Forbidden",
            f'forbidden: User "{user.name}" cannot {verb} path "{path}"',
            errors.Details(),
        )

    def rules_for(self, user: UserInfo, namespace: str) -> ResolvedRules:
        """RuleResolver.RulesFor: every rule the user holds in `namespace` (cluster-wide ones
        included), and what could not be resolved; SelfSubjectRulesReview's answer. As
        Kubernetes' union of the Node and RBAC resolvers: a kubelet's list is incomplete (the
        node authorizer lists nothing), and system:masters holds what RBAC binds to it
        (cluster-admin), not the privileged-group authorizer's all, which lists nothing."""
        resolved = self.rbac.resolver.rules_for(user, namespace)
        if user.node_name is not None:
            resolved.incomplete = True
            resolved.errors.insert(0, "node authorizer does not support user rule resolution")
        return resolved

    def check(
        self,
        user: UserInfo | None,
        verb: str,
        resource: str,
        subresource: str,
        namespace: str,
        name: str,
        *,
        group: str | None = None,
        namespaced: bool | None = None,
        field_selector: str = "",
    ) -> None:
        """Raises the refusal (APIError) of a request its user may not make. Without
        authentication configured there is no user, and every request is allowed, as before
        authentication existed."""
        if user is None:
            return
        attrs = request_attributes(
            user,
            verb,
            resource,
            subresource,
            namespace,
            name,
            group=group,
            namespaced=namespaced,
            field_selector=field_selector,
        )
        refused = self.refusal(attrs)
        if refused is not None:
            raise refused

    def refusal(self, a: Attributes) -> errors.APIError | None:
        """The Forbidden error of a request these attributes describe, or None if it is
        allowed."""
        decision = self.authorize(a)
        return None if decision.allowed else forbidden(a, decision.reason)


def forbidden(a: Attributes, reason: str = "") -> errors.APIError:
    """responsewriters.forbiddenMessage inside errors.NewForbidden: `pods "x" is forbidden: User
    "viewer" cannot get resource "pods" in API group "" in the namespace "default"`."""
    resource = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    where = f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope"
    message = (
        f'User "{a.user.name}" cannot {a.verb} resource "{resource}" in API group '
        f'"{a.api_group}" {where}'
    )
    if reason:
        message += f": {reason}"
    qualified = f"{a.resource}.{a.api_group}" if a.api_group else a.resource
    subject = f'{qualified} "{a.name}"' if a.name else qualified
    return errors.APIError(
        grpc.StatusCode.PERMISSION_DENIED,
        "Forbidden",
        f"{subject} is forbidden: {message}",
        errors.Details(name=a.name, group=a.api_group, kind=a.resource),
    )
