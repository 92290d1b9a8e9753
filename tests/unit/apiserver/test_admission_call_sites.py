"""Where the store admits a write (k8s.io/apiserver/pkg/endpoints/handlers and
registry/generic/registry/store.go): a create's mutating admission sees the decoded object before
the strategy prepares and validates it, its validating admission the object as it will be stored;
an update's (of the object or its status) the merged object, on every try of the
compare-and-swap loop; a delete's both phases the stored object as the old one; an eviction's a
CREATE of pods/eviction, its delete not again; each told the request's options, dry run and
user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.attributes import Attributes, Operation
from apiserver.admission.chain import AdmissionChain
from apiserver.admission.interfaces import Handler
from apiserver.auth.user import UserInfo, reset_current_user, set_current_user
from apiserver.registry.generic.managed_fields import Manager
from apiserver.registry.generic.options import DeleteOptions
from apiserver.registry.generic.store import Store
from apiserver.registry.pod.eviction import Evictions
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.strategy import STRATEGIES
from apiserver.registry.uncached import Uncached
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from tests.unit.apiserver.fake_etcd import FakeEtcd

JANE = UserInfo("jane", frozenset({"system:authenticated"}))


class Seen:
    """What each phase was told: (phase, attributes, the object's uid and data as then)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Attributes, str, dict[str, str]]] = []

    def note(self, phase: str, attrs: Attributes) -> None:
        obj = attrs.object if attrs.object is not None else attrs.old_object
        assert isinstance(obj, core_pb2.ConfigMap | core_pb2.Node)
        data = dict(obj.data) if isinstance(obj, core_pb2.ConfigMap) else {}
        self.calls.append((phase, attrs, obj.metadata.uid, data))

    def phases(self) -> list[str]:
        return [f"{phase} {attrs.operation}" for phase, attrs, _, _ in self.calls]


class Fixer(Handler):
    """A mutating plugin that renames a data key validation refuses, and notes what it saw."""

    def __init__(self, seen: Seen, *operations: Operation) -> None:
        super().__init__(*operations)
        self.seen = seen

    async def admit(self, attrs: Attributes) -> None:
        self.seen.note("admit", attrs)
        obj = attrs.object
        if isinstance(obj, core_pb2.ConfigMap) and "bad key" in obj.data:
            obj.data["good-key"] = obj.data.pop("bad key")


class Checker(Handler):
    def __init__(self, seen: Seen, *operations: Operation) -> None:
        super().__init__(*operations)
        self.seen = seen

    async def validate(self, attrs: Attributes) -> None:
        self.seen.note("validate", attrs)


def _store(plural: str, seen: Seen) -> tuple[Store[Any], FakeEtcd]:
    etcd = FakeEtcd()
    fake: Any = etcd
    store: Store[Any] = Store(fake, STRATEGIES[plural])
    every: tuple[Operation, ...] = ("CREATE", "UPDATE", "DELETE")
    store.admission = AdmissionChain(Fixer(seen, *every), Checker(seen, *every))
    return store, etcd


def configmap(data: dict[str, str]) -> core_pb2.ConfigMap:
    return core_pb2.ConfigMap(
        metadata=meta_pb2.ObjectMeta(name="settings", namespace="team"), data=data
    )


@pytest.fixture
def as_jane() -> Iterator[None]:
    token = set_current_user(JANE)
    yield
    reset_current_user(token)


@pytest.mark.usefixtures("as_jane")
async def test_a_create_is_mutated_before_validation_and_validated_after() -> None:
    seen = Seen()
    store, _ = _store("configmaps", seen)
    stored = await store.create(configmap({"bad key": "1"}), manager=Manager("editor"))
    assert dict(stored.data) == {"good-key": "1"}
    (admit, attrs, uid_then, data_then), (validate, later, uid_later, data_later) = seen.calls
    assert (admit, validate) == ("admit", "validate")
    assert uid_then == "" and data_then == {"bad key": "1"}  # before the strategy's preparation
    assert uid_later == stored.metadata.uid and data_later == {"good-key": "1"}
    assert later == attrs
    assert (attrs.operation, attrs.resource.plural, attrs.subresource) == (
        "CREATE",
        "configmaps",
        "",
    )
    assert (attrs.name, attrs.namespace, attrs.old_object) == ("settings", "team", None)
    assert attrs.user_info == JANE
    assert (attrs.options.kind, attrs.options.field_manager) == ("CreateOptions", "editor")
    assert not attrs.dry_run


async def test_validating_admission_sees_the_generated_name() -> None:
    seen = Seen()
    store, _ = _store("configmaps", seen)
    obj = configmap({"a": "1"})
    obj.metadata.name, obj.metadata.generate_name = "", "settings-"
    stored = await store.create(obj)
    names = [attrs.name for _, attrs, _, _ in seen.calls]
    assert names == ["", stored.metadata.name]
    assert stored.metadata.name.startswith("settings-")


async def test_a_dry_run_create_is_admitted_as_a_dry_run() -> None:
    seen = Seen()
    store, etcd = _store("configmaps", seen)
    await store.create(configmap({"a": "1"}), dry_run=True)
    assert seen.phases() == ["admit CREATE", "validate CREATE"]
    attrs = seen.calls[0][1]
    assert attrs.dry_run and attrs.options.dry_run
    assert attrs.user_info is None  # no request's user: the apiserver's own write
    assert not etcd.data


async def test_an_object_refused_by_validation_reaches_no_validating_plugin() -> None:
    seen = Seen()
    store, _ = _store("configmaps", seen)
    with pytest.raises(errors.APIError) as refused:
        await store.create(configmap({"bad/key": "1"}))
    assert refused.value.reason == "Invalid"
    assert seen.phases() == ["admit CREATE"]


async def test_an_update_is_admitted_on_every_try_with_the_stored_object_as_old() -> None:
    seen = Seen()
    store, _ = _store("configmaps", seen)
    first = await store.create(configmap({"a": "1"}))
    stale = core_pb2.ConfigMap()
    stale.CopyFrom(first)
    latest = configmap({"a": "2"})
    latest.metadata.resource_version = first.metadata.resource_version
    await store.update(latest)
    seen.calls.clear()

    # From the cache's stale copy: the compare-and-swap fails and the update is tried again
    # from etcd's, admitted again.
    request = configmap({"a": "3", "bad key": "x"})
    stored = await store.update(request, cached=stale, dry_run=False)
    assert dict(stored.data) == {"a": "3", "good-key": "x"}
    assert seen.phases() == ["admit UPDATE", "validate UPDATE"] * 2
    olds = [attrs.old_object for _, attrs, _, _ in seen.calls]
    assert [dict(o.data) for o in olds if isinstance(o, core_pb2.ConfigMap)] == [
        {"a": "1"},
        {"a": "1"},
        {"a": "2"},
        {"a": "2"},
    ]
    attrs = seen.calls[-1][1]
    assert (attrs.subresource, attrs.options.kind, attrs.dry_run) == ("", "UpdateOptions", False)


async def test_a_status_update_is_admitted_as_its_subresource() -> None:
    seen = Seen()
    store, _ = _store("nodes", seen)
    node = await store.create(core_pb2.Node(metadata=meta_pb2.ObjectMeta(name="node-1")))
    seen.calls.clear()
    node.status.phase = "Running"
    await store.update_status(node, dry_run=True)
    assert seen.phases() == ["admit UPDATE", "validate UPDATE"]
    attrs = seen.calls[0][1]
    assert (attrs.subresource, attrs.name, attrs.namespace) == ("status", "node-1", "")
    assert attrs.dry_run


async def test_a_delete_runs_both_phases_with_the_stored_object_as_old() -> None:
    seen = Seen()
    store, etcd = _store("configmaps", seen)
    await store.create(configmap({"a": "1"}))
    seen.calls.clear()
    options = DeleteOptions(grace_period_seconds=0, propagation_policy="Background")
    await store.delete("team", "settings", options)
    assert seen.phases() == ["admit DELETE", "validate DELETE"]
    attrs = seen.calls[0][1]
    assert attrs.object is None
    assert isinstance(attrs.old_object, core_pb2.ConfigMap)
    assert dict(attrs.old_object.data) == {"a": "1"}
    assert attrs.options.kind == "DeleteOptions"
    assert (attrs.options.grace_period_seconds, attrs.options.propagation_policy) == (
        0,
        "Background",
    )
    assert not etcd.data


async def test_an_eviction_is_admitted_as_a_create_of_pods_eviction_and_its_delete_is_not() -> None:
    seen: list[Attributes] = []

    class Recorder(Handler):
        async def admit(self, attrs: Attributes) -> None:
            seen.append(attrs)

        async def validate(self, attrs: Attributes) -> None:
            seen.append(attrs)

    etcd: Any = FakeEtcd()
    pods: Store[core_pb2.Pod] = Store(etcd, STRATEGIES["pods"])
    budgets: Store[policy_pb2.PodDisruptionBudget] = Store(etcd, STRATEGIES["poddisruptionbudgets"])
    pods.admission = AdmissionChain(Recorder("CREATE", "UPDATE", "DELETE"))
    pod = core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name="web", namespace="team"))
    pod.spec.containers.add(name="main", image="busybox")
    await pods.create(pod)
    seen.clear()
    evictions = Evictions(
        ResourceAPI(pods, Uncached(pods)), ResourceAPI(budgets, Uncached(budgets))
    )
    eviction = policy_pb2.Eviction(metadata=meta_pb2.ObjectMeta(name="web", namespace="team"))

    await evictions.evict("team", "web", eviction)

    assert [(a.operation, a.resource.plural, a.subresource) for a in seen] == [
        ("CREATE", "pods", "eviction"),
        ("CREATE", "pods", "eviction"),
    ]
    attrs = seen[0]
    assert (attrs.name, attrs.namespace, attrs.object, attrs.old_object) == (
        "web",
        "team",
        eviction,
        None,
    )
    with pytest.raises(errors.APIError, match="not found"):
        await pods.get("team", "web")  # a pending pod is deleted at once
