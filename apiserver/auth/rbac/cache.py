"""The RBAC objects an authorizer decides from, kept from the watch cache's events (not read from
etcd per request) and indexed by subject: the bindings that name a user, directly or as a service
account, and those that name a group, per namespace. A request looks up its user's name and
groups, never scans every binding (Kubernetes' authorizer lists them all; podplane indexes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from apiserver.auth.rbac.rules import Rule, User
from podplane.api.rbac.v1 import rbac_pb2
from podplane.apimachinery.serviceaccount import make_username

Binding: TypeAlias = rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding
RBACObject: TypeAlias = (
    rbac_pb2.Role | rbac_pb2.ClusterRole | rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding
)
# ("user", name) or ("group", name); a service account is the user it authenticates as.
SubjectKey: TypeAlias = tuple[str, str]
# A binding's subjects per namespace: "" holds the ClusterRoleBindings.
IndexKey: TypeAlias = tuple[str, SubjectKey]

ObjT = TypeVar("ObjT", bound=RBACObject)


def subject_keys(subject: rbac_pb2.Subject, namespace: str) -> SubjectKey | None:
    """The index key of a subject of a binding in `namespace` ("" for a ClusterRoleBinding);
    None for one that can match no user (appliesTo's rules)."""
    if subject.kind == "User":
        return ("user", subject.name)
    if subject.kind == "Group":
        return ("group", subject.name)
    if subject.kind == "ServiceAccount":
        sa_namespace = subject.namespace or namespace
        if sa_namespace:
            return ("user", make_username(sa_namespace, subject.name))
    return None


def user_keys(user: User) -> list[SubjectKey]:
    return [("user", user.name), *(("group", g) for g in user.groups)]


class PolicyCache:
    """Roles by namespace and name, cluster roles by name, and the bindings indexed by subject."""

    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], rbac_pb2.Role] = {}
        self.cluster_roles: dict[str, rbac_pb2.ClusterRole] = {}
        # Their rules as sets, for the decisions.
        self.role_rules: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self.cluster_role_rules: dict[str, tuple[Rule, ...]] = {}
        # Every binding by (namespace, name), and the index: (namespace, subject) -> bindings.
        self._bindings: dict[tuple[str, str], Binding] = {}
        self._index: dict[IndexKey, dict[tuple[str, str], Binding]] = {}
        # Bumped by every change: what was decided from an older policy is decided again.
        self.generation = 0

    # ------------------------------------------------------------------ writes
    def put(self, obj: RBACObject) -> None:
        self.generation += 1
        meta = obj.metadata
        if isinstance(obj, rbac_pb2.Role):
            self.roles[(meta.namespace, meta.name)] = obj
            self.role_rules[(meta.namespace, meta.name)] = tuple(Rule.of(r) for r in obj.rules)
        elif isinstance(obj, rbac_pb2.ClusterRole):
            self.cluster_roles[meta.name] = obj
            self.cluster_role_rules[meta.name] = tuple(Rule.of(r) for r in obj.rules)
        else:
            self._unindex(self._binding_key(obj))
            self._index_binding(obj)

    def remove(self, obj: RBACObject) -> None:
        self.generation += 1
        meta = obj.metadata
        if isinstance(obj, rbac_pb2.Role):
            self.roles.pop((meta.namespace, meta.name), None)
            self.role_rules.pop((meta.namespace, meta.name), None)
        elif isinstance(obj, rbac_pb2.ClusterRole):
            self.cluster_roles.pop(meta.name, None)
            self.cluster_role_rules.pop(meta.name, None)
        else:
            self._unindex(self._binding_key(obj))

    def replace(self, kind: type[ObjT], objects: Iterable[ObjT]) -> None:
        """Every object of one kind, after the watch cache listed them again."""
        for old in list(self.objects(kind)):
            self.remove(old)
        for obj in objects:
            self.put(obj)

    def objects(self, kind: type[ObjT]) -> Iterator[ObjT]:
        store: Iterable[RBACObject]
        if kind is rbac_pb2.Role:
            store = self.roles.values()
        elif kind is rbac_pb2.ClusterRole:
            store = self.cluster_roles.values()
        else:
            store = self._bindings.values()
        return (o for o in list(store) if isinstance(o, kind))

    @staticmethod
    def _binding_key(b: Binding) -> tuple[str, str]:
        namespace = b.metadata.namespace if isinstance(b, rbac_pb2.RoleBinding) else ""
        return (namespace, b.metadata.name)

    def _index_binding(self, b: Binding) -> None:
        key = self._binding_key(b)
        self._bindings[key] = b
        for s in b.subjects:
            subject = subject_keys(s, key[0])
            if subject is not None:
                self._index.setdefault((key[0], subject), {})[key] = b

    def _unindex(self, key: tuple[str, str]) -> None:
        old = self._bindings.pop(key, None)
        if old is None:
            return
        for s in old.subjects:
            subject = subject_keys(s, key[0])
            if subject is None:
                continue
            bucket = self._index.get((key[0], subject))
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self._index[(key[0], subject)]

    # ------------------------------------------------------------------ reads
    def bindings_for(self, user: User, namespace: str) -> list[Binding]:
        """The bindings in `namespace` ("": the ClusterRoleBindings) whose subjects include the
        user, by name or by one of its groups; each once, in name order."""
        found: dict[tuple[str, str], Binding] = {}
        for key in user_keys(user):
            bucket = self._index.get((namespace, key))
            if bucket:
                found.update(bucket)
        if len(found) < 2:
            return list(found.values())
        return [found[k] for k in sorted(found)]

    def binding_count(self) -> int:
        return len(self._bindings)


@dataclass
class CacheFeed(Generic[ObjT]):
    """Follows one kind's watch cache into the policy cache (the cacher's observer)."""

    policy: PolicyCache
    kind: type[ObjT]

    def changed(self, prev: ObjT | None, obj: ObjT | None) -> None:
        if obj is not None:
            self.policy.put(obj)
        elif prev is not None:
            self.policy.remove(prev)

    def replaced(self, objects: Iterable[ObjT]) -> None:
        self.policy.replace(self.kind, objects)
