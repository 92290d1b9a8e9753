"""The newest copy of each object the controller has seen: the informer's, or the one its own
write returned while the informer has not caught up with it. Binding writes four objects in a row
(volume, volume status, claim, claim status); a sync that read the informer's older copies in
between would write them again and fail on a conflict (kubernetes' PV controller keeps its own
volume and claim caches for the same reason)."""

from __future__ import annotations

from typing import Generic, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.meta import object_meta
from podplane.client.informer import Informer, object_key

T = TypeVar("T", bound=Message)


def _version(obj: Message) -> int:
    try:
        return int(object_meta(obj).resource_version)
    except ValueError:
        return 0


class NewestObjects(Generic[T]):
    def __init__(self, informer: Informer[T]) -> None:
        self.informer = informer
        self._written: dict[str, T] = {}

    def wrote(self, obj: T) -> T:
        """Remembers what a write returned; returns it."""
        self._written[object_key(obj)] = obj
        return obj

    def get(self, key: str) -> T | None:
        """Read-only: copy before changing it. None once the informer no longer has it (deleted),
        whatever was written before."""
        cached = self.informer.get(key)
        written = self._written.get(key)
        if written is None:
            return cached
        if cached is None or _version(cached) >= _version(written):
            del self._written[key]
            return cached
        return written

    def list(self) -> list[T]:
        return [obj for key in self.informer.keys() if (obj := self.get(key)) is not None]
