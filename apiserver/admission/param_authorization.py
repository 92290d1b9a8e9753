"""The check Kubernetes' ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
strategies make of their writer (pkg/registry/admissionregistration/validatingadmissionpolicy and
validatingadmissionpolicybinding, authz.go), where the store admits a write as RBAC's escalation
check is: a policy's paramKind may only name a kind whose objects the writer may all read (get
on every object of its resource), a binding's paramRef only an object the writer may read; a
superuser (system:masters) is not checked, nor an update that keeps the paramKind (the paramRef
and policyName). A refusal is Kubernetes' 422: `spec.paramKind: Forbidden: user ... must have
"get" permission ...`. Writes without a user (the apiserver's own) pass."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from apiserver.admission.attributes import CREATE, UPDATE
from apiserver.admission.attributes import Attributes as AdmissionAttributes
from apiserver.admission.interfaces import Handler
from apiserver.auth.authorizer import Attributes, Authorizer
from apiserver.auth.escalation import user_groups
from apiserver.auth.user import MASTERS_GROUP, UserInfo, current_user
from apiserver.validation import fields
from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource

GROUP = "admissionregistration.k8s.io"
# (user, verb, API group, resource, namespace, name) -> allowed
May = Callable[[UserInfo, str, str, str, str, str], bool]
# (group, version, kind) -> the resource (plural) that serves it, if any
Resolve = Callable[[str, str, str], str | None]
Policy = admreg_pb2.ValidatingAdmissionPolicy
Binding = admreg_pb2.ValidatingAdmissionPolicyBinding


def go_user(user: UserInfo) -> str:
    """A *user.DefaultInfo as Go's %v prints it: &{name uid [groups] map[key:[values]]}."""
    extra = " ".join(f"{k}:[{' '.join(v)}]" for k, v in user.extra)
    return f"&{{{user.name} {user.uid} [{' '.join(user_groups(user))}] map[{extra}]}}"


def _group_version(api_version: str) -> tuple[str, str] | None:
    """schema.ParseGroupVersion; None when it does not parse."""
    if api_version in ("", "/"):
        return "", ""
    if api_version.count("/") > 1:
        return None
    group, _, version = api_version.rpartition("/")
    return group, version


class ParamAuthorization(Handler):
    """Validating, of creates and updates of the object (beside RBAC's escalation check)."""

    def __init__(
        self,
        may: May,
        resolve: Resolve,
        policy: Callable[[str], Awaitable[Policy | None]],
        cached_policy: Callable[[str], Policy | None],
    ) -> None:
        super().__init__(CREATE, UPDATE)
        self.may = may
        self.resolve = resolve
        self.policy = policy
        self.cached_policy = cached_policy

    async def validate(self, attrs: AdmissionAttributes) -> None:
        new, old = attrs.object, attrs.old_object
        if attrs.subresource or new is None:
            return  # the status strategy checks nothing
        if isinstance(new, Policy) and new.spec.HasField("param_kind"):
            if not (
                isinstance(old, Policy)
                and old.spec.HasField("param_kind")
                and old.spec.param_kind == new.spec.param_kind
            ):
                self._authorize_policy(new)
        elif isinstance(new, Binding) and new.spec.HasField("param_ref"):
            if isinstance(old, Binding) and (
                old.spec.HasField("param_ref")
                and old.spec.param_ref == new.spec.param_ref
                and old.spec.policy_name == new.spec.policy_name
            ):
                return
            policy = (
                self.cached_policy(new.spec.policy_name)
                if isinstance(old, Binding)
                else await self.policy(new.spec.policy_name)
            )
            self._authorize_binding(new, policy)

    def _user(self) -> UserInfo | None:
        user = current_user()
        return None if user is None or MASTERS_GROUP in user.groups else user

    def _resource(self, kind: admreg_pb2.ParamKind) -> tuple[str, str]:
        """The paramKind's group and resource; "*" for what does not parse or resolve."""
        parsed = _group_version(kind.api_version)
        if parsed is None:
            return "*", "*"
        group, version = parsed
        return group, self.resolve(group, version, kind.kind) or "*"

    def _authorize_policy(self, policy: Policy) -> None:
        user = self._user()
        if user is None:
            return
        group, resource = self._resource(policy.spec.param_kind)
        if self.may(user, "get", group, resource, "*", "*"):
            return
        kind = policy.spec.param_kind
        detail = (
            f'user {go_user(user)} must have "get" permission on all objects of the referenced '
            f"paramKind (kind={kind.kind}, apiVersion={kind.api_version})"
        )
        raise fields.invalid_error(
            policy.DESCRIPTOR.name,
            policy.metadata.name,
            [fields.forbidden("spec.paramKind", detail)],
            GROUP,
        )

    def _authorize_binding(self, binding: Binding, policy: Policy | None) -> None:
        user = self._user()
        if user is None:
            return
        group, resource = "*", "*"
        if policy is not None and policy.spec.HasField("param_kind"):
            group, resource = self._resource(policy.spec.param_kind)
        ref = binding.spec.param_ref
        if self.may(user, "get", group, resource, ref.namespace, ref.name):
            return
        detail = (
            f'user {go_user(user)} does not have "get" permission on the object referenced by '
            "paramRef"
        )
        raise fields.invalid_error(
            binding.DESCRIPTOR.name,
            binding.metadata.name,
            [fields.forbidden("spec.paramRef", detail)],
            GROUP,
        )


def builtin_resource(group: str, version: str, kind: str) -> str | None:
    """The built-in resource serving a kind, if any."""
    api_version = f"{group}/{version}" if group else version
    return next(
        (r.plural for r in resources.ALL if r.kind == kind and r.api_version == api_version), None
    )


def param_authorization(
    authorizer: Authorizer,
    custom_resources: Callable[[], Iterable[Resource]],
    policy: Callable[[str], Awaitable[Policy | None]],
    cached_policy: Callable[[str], Policy | None],
) -> ParamAuthorization:
    """The check over the apiserver's authorizer, resolving kinds among the built-in resources
    and the custom resources served at the time."""

    def may(user: UserInfo, verb: str, group: str, plural: str, namespace: str, name: str) -> bool:
        return authorizer.authorize(
            Attributes(user, verb, plural, "", namespace, name, group)
        ).allowed

    def resolve(group: str, version: str, kind: str) -> str | None:
        found = builtin_resource(group, version, kind)
        if found is not None:
            return found
        return next(
            (
                r.plural
                for r in custom_resources()
                if (r.group, r.version, r.kind) == (group, version, kind)
            ),
            None,
        )

    return ParamAuthorization(may, resolve, policy, cached_policy)
