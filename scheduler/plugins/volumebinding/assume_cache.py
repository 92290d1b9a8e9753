"""What the scheduler has decided about claims and volumes but not yet written (kubernetes
volumebinding/assume_cache.go): a volume assumed bound to a claim (its claimRef set), a claim
assumed annotated with the node chosen to provision it. Later decisions see the assumed copies,
so two pods scheduled one after the other do not take the same volume; an assumption is dropped
once its write is done and seen, or undone on unreserve."""

from __future__ import annotations

from typing import Generic, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.meta import object_meta
from podplane.client.informer import object_key
from scheduler.framework.interfaces import Lister

M = TypeVar("M", bound=Message)


class AssumeCache(Generic[M]):
    def __init__(self, lister: Lister[M]) -> None:
        self.lister = lister
        self._assumed: dict[str, M] = {}

    def get(self, key: str) -> M | None:
        """The assumed copy while there is one (and the object is still there), else the
        lister's."""
        stored = self.lister.get(key)
        if stored is None:
            self._assumed.pop(key, None)
            return None
        return self._assumed.get(key, stored)

    def get_api(self, key: str) -> M | None:
        """The lister's copy: what the apiserver has said last."""
        return self.lister.get(key)

    def list(self) -> list[M]:
        return [self._assumed.get(object_key(o), o) for o in self.lister.list()]

    def assume(self, obj: M) -> None:
        """`obj` is an updated copy of a stored object: later reads see it."""
        self._assumed[object_key(obj)] = obj

    def restore(self, key: str) -> None:
        self._assumed.pop(key, None)

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed


def newer_or_same(stored: Message, written: Message) -> bool:
    """Whether the lister's copy is at least as recent as what a write returned."""
    try:
        return int(object_meta(stored).resource_version) >= int(
            object_meta(written).resource_version
        )
    except ValueError:
        return False
