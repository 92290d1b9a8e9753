"""The EndpointSliceTracker (kubernetes staging/src/k8s.io/endpointslice/util
endpointslice_tracker.go): the generation of each slice this controller wrote, by Service and
slice UID, and the slices it deleted. It tells a cache that lags behind the controller's own
writes (try later) from a change someone else made (sync now): a slice someone else deleted is
forgotten when its deletion is seen, and one someone else changed has a generation above the
one written, so neither holds the Service back; both bring it to a sync that repairs them.

A Service deleted and created again under the same name is a new Service (a new UID): what was
tracked for the old one is dropped, and the old one's slices are the new one's to delete.

Unlike Kubernetes', a deletion the controller did not ask for syncs the Service even when the
slice was never tracked (written before a restart, or by the other controller-manager that led
before): such a slice is recreated at once, not at the next change of the Service or its pods."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery.service import SERVICE_NAME_LABEL

DELETION_EXPECTED = -1


def service_key_of(eps: discovery_pb2.EndpointSlice) -> str:
    """The namespace/name of the Service a slice says it belongs to."""
    return f"{eps.metadata.namespace}/{eps.metadata.labels.get(SERVICE_NAME_LABEL, '')}"


class EndpointSliceTracker:
    """Read and written by the controller's handlers and workers, all on one event loop: no
    lock is needed between awaits."""

    def __init__(self) -> None:
        # Service key -> slice UID -> the generation written, or DELETION_EXPECTED.
        self._generations: dict[str, dict[str, int]] = {}
        # Service key -> the UID of the Service the generations were written for.
        self._service_uids: dict[str, str] = {}

    def has(self, eps: discovery_pb2.EndpointSlice) -> bool:
        return eps.metadata.uid in self._generations.get(service_key_of(eps), {})

    def should_sync(self, eps: discovery_pb2.EndpointSlice) -> bool:
        """Whether an added or changed slice is news: not one this controller wrote, or
        changed since (its generation moved past the one written)."""
        written = self._generations.get(service_key_of(eps), {}).get(eps.metadata.uid)
        return written is None or eps.metadata.generation > written

    def stale_slices(
        self, service_key: str, service_uid: str, cached: Iterable[discovery_pb2.EndpointSlice]
    ) -> bool:
        """Whether the cached slices of a Service miss a write of this controller: one older
        than written, one it deleted still there, or one it wrote not there yet. A slice being
        deleted (deletionTimestamp set) is there, whatever its generation."""
        tracked_uid = self._service_uids.get(service_key)
        if tracked_uid and service_uid and tracked_uid != service_uid:
            # The writes were for a Service of the same name that is gone.
            self._generations.pop(service_key, None)
        self._service_uids[service_key] = service_uid
        written = self._generations.get(service_key)
        if not written:
            return False
        seen: set[str] = set()
        for eps in cached:
            seen.add(eps.metadata.uid)
            if eps.metadata.deletion_timestamp:
                continue
            generation = written.get(eps.metadata.uid)
            if generation is not None and (
                generation == DELETION_EXPECTED or generation > eps.metadata.generation
            ):
                return True
        return any(
            generation != DELETION_EXPECTED and uid not in seen
            for uid, generation in written.items()
        )

    def update(self, eps: discovery_pb2.EndpointSlice) -> None:
        """The controller created or updated the slice: its answer's generation."""
        self._generations.setdefault(service_key_of(eps), {})[eps.metadata.uid] = (
            eps.metadata.generation
        )

    def expect_deletion(self, eps: discovery_pb2.EndpointSlice) -> None:
        self._generations.setdefault(service_key_of(eps), {})[eps.metadata.uid] = DELETION_EXPECTED

    def forget_slice(self, eps: discovery_pb2.EndpointSlice) -> None:
        """A delete that failed: the slice is there, as whatever the cache shows."""
        self._generations.get(service_key_of(eps), {}).pop(eps.metadata.uid, None)

    def handle_deletion(self, eps: discovery_pb2.EndpointSlice) -> bool:
        """A slice's deletion was seen: forgets it; whether this controller deleted it."""
        written = self._generations.get(service_key_of(eps), {}).pop(eps.metadata.uid, None)
        return written == DELETION_EXPECTED

    def delete_service(self, service_key: str) -> None:
        self._generations.pop(service_key, None)
        self._service_uids.pop(service_key, None)
