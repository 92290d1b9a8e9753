"""The autoregister loop's decisions (kube-aggregator's checkAPIService table) against a fake
watch cache and store: a built-in group/version's APIService created with Kubernetes'
priorities and the onstart label, its spec set once at start, created again when deleted; a
user's APIService left alone; a definition's served version registered while it is served and
deleted after; the races a cache behind its own writes meets are no error."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.registry.apiregistration.autoregister import AutoRegister
from apiserver.registry.generic.options import DeleteOptions
from podplane.apimachinery import apiservices, resources
from podplane.apimachinery.apiextensions.definitions import CRD
from podplane.apimachinery.apiservices import APIService

LABEL = apiservices.AUTOMANAGED_LABEL


class FakeCache:
    def __init__(self) -> None:
        self.objects: dict[bytes, APIService] = {}

    def put(self, obj: APIService) -> None:
        self.objects[obj.metadata.name.encode()] = obj

    def peek(self, namespace: str, name: str) -> APIService | None:
        return self.objects.get(name.encode())


class FakeDefinitions:
    def __init__(self) -> None:
        self.objects: dict[bytes, CRD] = {}

    def peek(self, namespace: str, name: str) -> CRD | None:
        return self.objects.get(name.encode())


class FakeStore:
    """Records the writes; the cache sees them when the test says (put)."""

    def __init__(self) -> None:
        self.created: list[APIService] = []
        self.updated: list[APIService] = []
        self.deleted: list[tuple[str, str]] = []
        self.refuse: errors.APIError | None = None

    async def create(self, obj: APIService) -> APIService:
        if self.refuse:
            raise self.refuse
        self.created.append(obj)
        return obj

    async def update(self, obj: APIService) -> APIService:
        self.updated.append(obj)
        return obj

    async def delete(self, namespace: str, name: str, options: DeleteOptions) -> APIService:
        self.deleted.append((name, options.preconditions.uid))
        return APIService()


def stored(
    name: str, group: str, labels: dict[str, str], priorities: tuple[int, int]
) -> APIService:
    obj = apiservices.local(group, "v1", priorities, "")
    obj.metadata.labels.clear()
    obj.metadata.labels.update(labels)
    obj.metadata.uid = f"uid-{name}"
    obj.metadata.resource_version = "7"
    return obj


def definition(group: str, served: dict[str, bool]) -> CRD:
    crd = CRD()
    crd.metadata.name = f"widgets.{group}"
    crd.spec.group = group
    for version, is_served in served.items():
        crd.spec.versions.add(name=version, served=is_served, storage=version == "v1")
    return crd


def loop(
    cache: FakeCache, store: FakeStore, definitions: FakeDefinitions | None = None
) -> AutoRegister:
    return AutoRegister(cache, store, definitions or FakeDefinitions())


async def test_every_built_in_group_version_is_created_local_with_kubernetes_priorities() -> None:
    cache, store = FakeCache(), FakeStore()
    auto = loop(cache, store)
    for name in sorted(auto.start()):
        await auto.reconcile(name)
    by_name = {o.metadata.name: o for o in store.created}
    served = {r.api_version.rpartition("/")[0] for r in resources.SERVED}
    assert {o.spec.group for o in store.created} == served - {"apiregistration.k8s.io"}
    core, apps = by_name["v1."], by_name["v1.apps"]
    assert (core.spec.group, core.spec.version) == ("", "v1")
    assert (core.spec.group_priority_minimum, core.spec.version_priority) == (18000, 1)
    assert (apps.spec.group_priority_minimum, apps.spec.version_priority) == (17800, 15)
    assert dict(apps.metadata.labels) == {LABEL: "onstart"}
    assert not apps.spec.HasField("service")


async def test_a_users_api_service_of_a_built_in_name_is_left_alone() -> None:
    cache, store = FakeCache(), FakeStore()
    cache.put(stored("v1.apps", "apps", {}, (1, 1)))
    auto = loop(cache, store)
    auto.start()
    await auto.reconcile("v1.apps")
    assert (store.created, store.updated, store.deleted) == ([], [], [])


async def test_an_onstart_spec_is_set_once_and_a_deleted_one_comes_back() -> None:
    cache, store = FakeCache(), FakeStore()
    cache.put(stored("v1.batch", "batch", {LABEL: "onstart"}, (1, 1)))
    auto = loop(cache, store)
    auto.start()
    await auto.reconcile("v1.batch")
    [fixed] = store.updated
    assert (fixed.spec.group_priority_minimum, fixed.spec.version_priority) == (17400, 15)
    # Changed again after start: left as it is (the spec is set once).
    await auto.reconcile("v1.batch")
    assert len(store.updated) == 1
    # Deleted: created again at once.
    cache.objects.clear()
    await auto.reconcile("v1.batch")
    [again] = store.created
    assert (again.metadata.name, dict(again.metadata.labels)) == ("v1.batch", {LABEL: "onstart"})


async def test_a_definitions_served_versions_are_registered_while_served() -> None:
    cache, store, definitions = FakeCache(), FakeStore(), FakeDefinitions()
    auto = loop(cache, store, definitions)
    auto.start()
    crd = definition("widgets.example.com", {"v1": True, "v2": False})
    definitions.objects[crd.metadata.name.encode()] = crd
    auto.definitions_changed()
    await auto.reconcile("v1.widgets.example.com")
    await auto.reconcile("v2.widgets.example.com")
    [created] = store.created
    assert created.metadata.name == "v1.widgets.example.com"
    assert dict(created.metadata.labels) == {LABEL: "true"}
    assert (created.spec.group_priority_minimum, created.spec.version_priority) == (1000, 100)
    cache.put(stored("v1.widgets.example.com", "widgets.example.com", {LABEL: "true"}, (1000, 100)))
    # The definition goes: so does its APIService, only as the object the cache held.
    definitions.objects.clear()
    auto.definitions_changed()
    await auto.reconcile("v1.widgets.example.com")
    assert store.deleted == [("v1.widgets.example.com", "uid-v1.widgets.example.com")]


@pytest.mark.parametrize("reason", ["AlreadyExists", "Conflict", "NotFound"])
async def test_races_with_other_writers_are_no_error(reason: str) -> None:
    cache, store = FakeCache(), FakeStore()
    store.refuse = errors.APIError(grpc.StatusCode.ABORTED, reason, reason)
    auto = loop(cache, store)
    auto.start()
    assert await auto.reconcile("v1.apps") is None


async def test_other_errors_are_raised_for_the_loop_to_retry() -> None:
    cache, store = FakeCache(), FakeStore()
    store.refuse = errors.APIError(
        grpc.StatusCode.UNAVAILABLE, "ServiceUnavailable", "etcd is down"
    )
    auto = loop(cache, store)
    auto.start()
    with pytest.raises(errors.APIError):
        await auto.reconcile("v1.apps")
    assert store.created == []
