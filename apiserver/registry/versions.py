"""The other served versions of built-in kinds (resources.OTHER_VERSIONS: autoscaling/v1
HorizontalPodAutoscaler beside the stored autoscaling/v2, events.k8s.io/v1 Event beside the
stored core v1 Event): each is a ResourceAPI of its own message over a store that reads and
writes the storage version's keys and bytes through a converting codec, with its own watch cache
over the same keys (none for a kind kept out of the watch cache, as events are), so a watch at
either version sees the writes made at the other. Admission is the storage version's store's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Generic

from google.protobuf.message import Message

from apiserver.objects import T
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic.codec import ConvertingCodec, S
from apiserver.registry.generic.store import Store
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import ResourceKey, key_of
from apiserver.registry.strategies import autoscaling, events
from apiserver.registry.strategies.base import Strategy
from apiserver.registry.uncached import UNCACHED_RESOURCES, Uncached
from apiserver.storage.etcd import EtcdClient
from podplane.apimachinery import events as event_conversion
from podplane.apimachinery.autoscaling import conversion


@dataclass(frozen=True)
class ServedVersion(Generic[T, S]):
    """A version's strategy and its conversions to and from the storage version's message."""

    strategy: Strategy[T]
    to_storage: Callable[[T], S]
    to_served: Callable[[S], T]


VERSIONS: tuple[ServedVersion[Any, Any], ...] = (
    ServedVersion(autoscaling.OTHER_VERSIONS[0], conversion.to_v2, conversion.to_v1),
    ServedVersion(events.OTHER_VERSIONS[0], event_conversion.to_core, event_conversion.to_events),
)


def cache_name(key: ResourceKey) -> str:
    """A version's watch cache's name beside the storage version's: <plural>.<version>.<group>."""
    group, version, plural = key
    return f"{plural}.{version}.{group}"


def served_versions(
    etcd: EtcdClient,
    stores: Mapping[str, Store[Message]],
    new_cacher: Callable[[Store[Message], str], Cacher[Message]],
    cachers: MutableMapping[str, Cacher[Message]],
) -> dict[ResourceKey, ResourceAPI[Message]]:
    """Every other version's verbs; their watch caches join `cachers` (started and stopped with
    the rest) under cache_name."""
    apis: dict[ResourceKey, ResourceAPI[Message]] = {}
    for v in VERSIONS:
        resource = v.strategy.resource
        storage = stores[resource.plural]
        codec = ConvertingCodec(storage.strategy.new, v.to_storage, v.to_served)
        store: Store[Message] = Store(etcd, v.strategy, codec=codec)
        store.admission = storage.admission
        key = key_of(resource)
        if resource.plural in UNCACHED_RESOURCES:
            apis[key] = ResourceAPI(store, Uncached(store))
            continue
        cachers[cache_name(key)] = cacher = new_cacher(store, cache_name(key))
        apis[key] = ResourceAPI(store, cacher)
    return apis
