"""The escalation check where the store admits writes: the caller of the request is checked on
creates and updates of the four kinds; an update that only touches what the garbage collector
writes is not; a ClusterRole with an aggregationRule counts as granting everything; the
apiserver's own writes (no caller) pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apiserver import errors
from apiserver.admission.rbac_escalation import RBACEscalation
from apiserver.auth.escalation import EscalationCheck
from apiserver.auth.rbac.cache import PolicyCache
from apiserver.auth.rbac.resolver import RuleResolver
from apiserver.auth.user import UserInfo, reset_current_user, set_current_user
from podplane.api.meta.v1 import meta_pb2
from podplane.api.rbac.v1 import rbac_pb2
from tests.unit.apiserver.admission_calls import admit_create, admit_update

GROUP = "rbac.authorization.k8s.io"
JANE = UserInfo("jane", frozenset({"system:authenticated"}))


def plugin(escalate: bool = False) -> RBACEscalation:
    cache = PolicyCache()
    cache.put(
        rbac_pb2.ClusterRole(
            metadata=meta_pb2.ObjectMeta(name="pods"),
            rules=[rbac_pb2.PolicyRule(verbs=["*"], api_groups=[""], resources=["pods"])],
        )
    )
    cache.put(
        rbac_pb2.ClusterRoleBinding(
            metadata=meta_pb2.ObjectMeta(name="jane-pods"),
            subjects=[rbac_pb2.Subject(kind="User", api_group=GROUP, name="jane")],
            role_ref=rbac_pb2.RoleRef(api_group=GROUP, kind="ClusterRole", name="pods"),
        )
    )
    return RBACEscalation(
        EscalationCheck(RuleResolver(cache), lambda u, verb, *_: escalate and verb == "escalate")
    )


def cluster_role(resource: str, aggregated: bool = False) -> rbac_pb2.ClusterRole:
    role = rbac_pb2.ClusterRole(
        metadata=meta_pb2.ObjectMeta(name="r"),
        rules=[rbac_pb2.PolicyRule(verbs=["get"], api_groups=[""], resources=[resource])],
    )
    if aggregated:
        role.aggregation_rule.cluster_role_selectors.add().match_labels["a"] = "true"
    return role


@pytest.fixture
def as_jane() -> Iterator[None]:
    token = set_current_user(JANE)
    yield
    reset_current_user(token)


@pytest.mark.usefixtures("as_jane")
async def test_creates_are_checked() -> None:
    await admit_create(plugin(), cluster_role("pods"))
    with pytest.raises(errors.APIError, match="attempting to grant RBAC permissions"):
        await admit_create(plugin(), cluster_role("secrets"))
    with pytest.raises(errors.APIError, match=r'\{APIGroups:\["\*"\], Resources:\["\*"\]'):
        await admit_create(plugin(), cluster_role("pods", aggregated=True))
    await admit_create(plugin(escalate=True), cluster_role("secrets", aggregated=True))


@pytest.mark.usefixtures("as_jane")
async def test_updates_are_checked_unless_only_gc_fields_change() -> None:
    old = cluster_role("secrets")
    old.metadata.resource_version = "5"
    gc = rbac_pb2.ClusterRole()
    gc.CopyFrom(old)
    gc.metadata.finalizers.append("example.com/keep")
    gc.metadata.owner_references.add(api_version="v1", kind="ConfigMap", name="o", uid="u")
    await admit_update(plugin(), "", gc, old)
    relabelled = rbac_pb2.ClusterRole()
    relabelled.CopyFrom(old)
    relabelled.metadata.labels["team"] = "a"
    with pytest.raises(errors.APIError, match="is forbidden: user"):
        await admit_update(plugin(), "", relabelled, old)


async def test_the_apiservers_own_writes_pass() -> None:
    await admit_create(plugin(), cluster_role("secrets"))
