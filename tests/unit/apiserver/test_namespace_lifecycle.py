"""NamespaceLifecycle reads a namespace from the watch cache, but not a cached copy that may be
behind a deletion it has just admitted (kubernetes' forceLiveLookupCache): a create right after the
namespace's delete is refused even while the cache still shows the namespace Active."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.namespace_lifecycle import NamespaceLifecycle
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from tests.unit.apiserver.admission_calls import admit_create, admit_delete


def namespace(name: str, terminating: bool = False) -> core_pb2.Namespace:
    ns = core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=name))
    ns.status.phase = "Terminating" if terminating else "Active"
    return ns


class Stored:
    """The namespaces Store's get and key, over a dict standing for etcd."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}
        self.gets = 0

    def key(self, namespace: str, name: str) -> bytes:
        return f"/registry/namespaces/{name}".encode()

    async def get(self, namespace: str, name: str) -> Any:
        self.gets += 1
        if name not in self.objects:
            raise errors.not_found(resources.NAMESPACE, name)
        return self.objects[name]


class Cache:
    """The namespaces watch cache's peek, over a dict of what it has seen."""

    def __init__(self) -> None:
        self.objects: dict[bytes, Any] = {}

    def peek(self, namespace: str, name: str) -> Any:
        return self.objects.get(f"/registry/namespaces/{name}".encode())


async def test_a_create_right_after_the_namespace_delete_is_refused_though_the_cache_lags() -> None:
    store, cache = Stored(), Cache()
    active = namespace("web")
    store.objects["web"] = active
    cache.objects[store.key("", "web")] = active
    lifecycle = NamespaceLifecycle(store, cache)
    pod = core_pb2.Pod(kind="Pod", metadata=meta_pb2.ObjectMeta(name="p", namespace="web"))

    await admit_create(lifecycle, pod)  # Active in the cache: no etcd read
    assert store.gets == 0

    await admit_delete(lifecycle, active)
    store.objects["web"] = namespace("web", terminating=True)  # etcd has it; the cache not yet
    with pytest.raises(errors.APIError) as err:
        await admit_create(lifecycle, pod)
    assert "because it is being terminated" in err.value.message
    assert store.gets == 1
