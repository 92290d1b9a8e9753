"""An informer's indexes follow its cache: an object is found under the values its index function
gives for what is cached now (an update moves it, one that leaves the values alone keeps it, a
delete drops it), the function runs once per event, and an index added late covers what was
cached."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.informer import Informer, object_key
from tests.unit.controller.fake_api import FakeCluster

INDEX = "claims"


def pod(name: str, *claims: str, resource_version: str = "1") -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = name, "default"
    p.metadata.resource_version = resource_version
    for claim in claims:
        p.spec.volumes.add(name=claim).persistent_volume_claim.claim_name = claim
    return p


calls: list[str] = []


def claims_of(p: core_pb2.Pod) -> list[str]:
    calls.append(p.metadata.name)
    return [v.persistent_volume_claim.claim_name for v in p.spec.volumes]


def informer() -> Informer[core_pb2.Pod]:
    return Informer(FakeCluster().for_resource(resources.POD))  # type: ignore[arg-type]


def names(i: Informer[core_pb2.Pod], value: str) -> list[str]:
    return sorted(p.metadata.name for p in i.by_index(INDEX, value))


def test_an_update_moves_the_object_to_its_new_values() -> None:
    i = informer()
    i.add_index(INDEX, claims_of)
    i._store(pod("a", "data", "logs"))
    i._store(pod("b", "data"))
    assert names(i, "data") == ["a", "b"] and names(i, "logs") == ["a"]

    i._store(pod("a", "cache", resource_version="2"))  # replaced: other claims
    assert names(i, "data") == ["b"] and names(i, "logs") == [] and names(i, "cache") == ["a"]

    i._store(pod("a", resource_version="3"))  # no claims any more
    assert names(i, "cache") == []

    i._remove(object_key(pod("b")))
    assert names(i, "data") == []


def test_the_function_runs_once_per_event_for_the_new_object_only() -> None:
    i = informer()
    i.add_index(INDEX, claims_of)
    calls.clear()
    i._store(pod("a", "data"))
    i._store(pod("a", "data", resource_version="2"))
    i._remove("default/a")
    assert calls == ["a", "a"]  # the delete reads the values filed, not the function
    assert names(i, "data") == []


def test_an_index_added_late_covers_what_is_cached() -> None:
    i = informer()
    i._store(pod("a", "data"))
    i.add_index(INDEX, claims_of)
    assert names(i, "data") == ["a"]


def test_by_namespace_indexes_on_first_ask_and_follows_the_cache() -> None:
    """The namespaced lister the scheduler's default spread reads the Services of a pod's
    namespace from: the index is made the first time it is asked for, over what is cached,
    and then kept as objects come and go."""
    i = informer()
    i._store(pod("a"))
    other = pod("b")
    other.metadata.namespace = "other"
    i._store(other)
    assert [p.metadata.name for p in i.by_namespace("default")] == ["a"]
    i._store(pod("c"))
    i._remove(object_key(pod("a")))
    assert [p.metadata.name for p in i.by_namespace("default")] == ["c"]
    assert [p.metadata.name for p in i.by_namespace("other")] == ["b"]
    assert i.by_namespace("none") == []
