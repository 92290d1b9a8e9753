"""RBAC's escalation check on writes of roles and bindings (pkg/registry/rbac/role, clusterrole,
rolebinding and clusterrolebinding's policybased storage), where the store admits a write: both
front doors' creates and updates reach it with the same user. The decision is
apiserver/auth/rbac/escalation.py's; writes without a user (the apiserver's own, such as the
bootstrap policy) are its own and pass."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.admission.attributes import CREATE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler
from apiserver.auth.escalation import FULL_AUTHORITY, EscalationCheck
from podplane.api.rbac.v1 import rbac_pb2


def only_gc_fields_changed(new: Message, old: Message) -> bool:
    """IsOnlyMutatingGCFields: an update that touches only ownerReferences and finalizers (what
    the garbage collector writes) is not checked."""
    a, b = type(new)(), type(old)()
    a.CopyFrom(new)
    b.CopyFrom(old)
    for m in (a, b):
        meta = m.metadata  # type: ignore[attr-defined]
        meta.ClearField("owner_references")
        meta.ClearField("finalizers")
        meta.resource_version = ""
    return a == b


class RBACEscalation(Handler):
    """Validating, of creates and updates of the object (last in the chain)."""

    def __init__(self, check: EscalationCheck) -> None:
        super().__init__(CREATE, UPDATE)
        self.check = check

    async def validate(self, attrs: Attributes) -> None:
        obj, user = attrs.object, attrs.user_info
        if obj is None or user is None or attrs.subresource:
            return
        if attrs.old_object is not None and only_gc_fields_changed(obj, attrs.old_object):
            return
        if isinstance(obj, rbac_pb2.Role):
            meta = obj.metadata
            self.check.check_role(user, "roles", meta.namespace, meta.name, obj.rules)
        elif isinstance(obj, rbac_pb2.ClusterRole):
            # An aggregated role's rules are whatever the roles it selects hold, ever.
            rules = FULL_AUTHORITY if obj.HasField("aggregation_rule") else tuple(obj.rules)
            self.check.check_role(user, "clusterroles", "", obj.metadata.name, rules)
        elif isinstance(obj, rbac_pb2.RoleBinding):
            meta = obj.metadata
            self.check.check_binding(user, "rolebindings", meta.namespace, meta.name, obj.role_ref)
        elif isinstance(obj, rbac_pb2.ClusterRoleBinding):
            self.check.check_binding(
                user, "clusterrolebindings", "", obj.metadata.name, obj.role_ref
            )
