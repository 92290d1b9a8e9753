"""The values an object takes from a shared pool (a Service's cluster IPs and node ports): keys
claimed and released in the same etcd transaction as the object's write."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from google.protobuf.message import Message

# An object an Allocator is given (a Protocol's type parameter only taken is contravariant).
Taken = TypeVar("Taken", bound=Message, contravariant=True)
# How often a write tries again when a value it chose was taken meanwhile: each failure is
# another write's success, so only a range nearly full under heavy contention gets that far.
MAX_CLAIM_ATTEMPTS = 100
CLAIMS_CONTENDED = (
    "the values it claims kept being taken by other writes; please apply your changes again"
)


@dataclass(frozen=True)
class Claims:
    """Keys written in the same etcd transaction as an object: those it claims (created; each
    must be absent, or the whole write fails) and those it releases (deleted). They hold the
    values an object takes from a shared pool, as a Service's cluster IPs and node ports."""

    claim: Mapping[bytes, bytes] = dataclasses.field(default_factory=dict)
    release: tuple[bytes, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.claim or self.release)


class Allocator(Protocol[Taken]):
    """What a kind whose objects take values from a shared pool adds to its writes."""

    def prepare(self, new: Taken, old: Taken | None) -> None:
        """Before validation: settles the fields allocation depends on (a Service's IP
        families), or raises the APIError of a request that cannot be served."""

    async def allocate(self, new: Taken, old: Taken | None, *, dry_run: bool) -> Claims:
        """After validation: fills the values left to the pool, checks those asked for (raises
        APIError when taken or out of range) and names the keys the write claims and releases.
        Called again, from the request, when a claimed key was taken meanwhile."""
        ...

    def release(self, old: Taken) -> Claims:
        """The keys removing `old` from storage releases."""
        ...
