"""The EndpointSlice tracker (controller/endpointslice/tracker.py), as Kubernetes'
endpointslice_tracker_test.go checks it: a cache behind the controller's own writes is stale; a
slice someone else deleted or changed is not (it is news, a reason to sync); a Service of the
same name with a new UID starts afresh. Tables of cases."""

from __future__ import annotations

import pytest

from controller.endpointslice.tracker import EndpointSliceTracker
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.service import SERVICE_NAME_LABEL

KEY = "ns/web"
SVC_UID = "svc-1"


def eps(
    uid: str, generation: int, *, service: str = "web", deleting: bool = False
) -> discovery_pb2.EndpointSlice:
    meta = meta_pb2.ObjectMeta(
        name=f"web-{uid}",
        namespace="ns",
        uid=uid,
        generation=generation,
        labels={SERVICE_NAME_LABEL: service},
    )
    if deleting:
        meta.deletion_timestamp = "2026-11-25T20:00:00Z"
    return discovery_pb2.EndpointSlice(metadata=meta)


def tracker_with(*written: discovery_pb2.EndpointSlice) -> EndpointSliceTracker:
    tracker = EndpointSliceTracker()
    tracker.stale_slices(KEY, SVC_UID, [])  # the Service the writes are for
    for s in written:
        tracker.update(s)
    return tracker


@pytest.mark.parametrize(
    ("written", "deleted", "cached", "stale"),
    [
        # Nothing written: whatever the cache holds is news.
        ([], [], [eps("a", 3)], False),
        # The cache shows the writes, or later changes by someone else.
        ([eps("a", 1)], [], [eps("a", 1)], False),
        ([eps("a", 1)], [], [eps("a", 2)], False),
        # A write not in the cache yet: created, or updated.
        ([eps("a", 1)], [], [], True),
        ([eps("a", 2)], [], [eps("a", 1)], True),
        # A slice it deleted still cached; gone; being deleted.
        ([], [eps("a", 1)], [eps("a", 1)], True),
        ([], [eps("a", 1)], [], False),
        ([], [eps("a", 1)], [eps("a", 1, deleting=True)], False),
        # A slice it wrote being deleted (by someone else) is there, at any generation.
        ([eps("a", 2)], [], [eps("a", 1, deleting=True)], False),
        # Slices it does not track do not matter.
        ([eps("a", 1)], [], [eps("a", 1), eps("b", 1)], False),
    ],
)
def test_a_cache_is_stale_while_it_misses_the_controllers_writes(
    written: list[discovery_pb2.EndpointSlice],
    deleted: list[discovery_pb2.EndpointSlice],
    cached: list[discovery_pb2.EndpointSlice],
    stale: bool,
) -> None:
    tracker = tracker_with(*written)
    for s in deleted:
        tracker.expect_deletion(s)
    assert tracker.stale_slices(KEY, SVC_UID, cached) is stale


def test_a_slice_someone_else_deleted_is_news_and_stops_holding_the_service() -> None:
    tracker = tracker_with(eps("a", 1), eps("b", 1))
    assert tracker.handle_deletion(eps("a", 1)) is False  # not this controller's deletion
    assert not tracker.has(eps("a", 1))
    # Only "b" is left to wait for: the cache without "a" is up to date.
    assert tracker.stale_slices(KEY, SVC_UID, [eps("b", 1)]) is False


def test_a_slice_the_controller_deleted_is_expected() -> None:
    tracker = tracker_with(eps("a", 1))
    tracker.expect_deletion(eps("a", 1))
    assert tracker.handle_deletion(eps("a", 1)) is True
    assert tracker.stale_slices(KEY, SVC_UID, []) is False


def test_an_untracked_deletion_is_news() -> None:
    """A slice written before a restart (or by the other controller-manager) was deleted:
    Kubernetes' tracker ignores it; this one has the Service synced."""
    assert EndpointSliceTracker().handle_deletion(eps("a", 1)) is False


def test_a_failed_delete_is_no_longer_expected() -> None:
    tracker = tracker_with(eps("a", 1))
    tracker.expect_deletion(eps("a", 1))
    tracker.forget_slice(eps("a", 1))
    assert tracker.stale_slices(KEY, SVC_UID, [eps("a", 1)]) is False


@pytest.mark.parametrize(
    ("slice_", "should_sync"),
    [
        (eps("a", 1), False),  # its own write coming back
        (eps("a", 2), True),  # changed by someone else since
        (eps("b", 1), True),  # not one it wrote
        (eps("c", 1, service="other"), True),  # another Service's
    ],
)
def test_only_a_slice_the_controller_did_not_write_as_it_is_needs_a_sync(
    slice_: discovery_pb2.EndpointSlice, should_sync: bool
) -> None:
    tracker = tracker_with(eps("a", 1))
    assert tracker.should_sync(slice_) is should_sync


def test_a_service_created_again_under_the_same_name_starts_afresh() -> None:
    tracker = tracker_with(eps("a", 1))
    tracker.expect_deletion(eps("b", 1))
    # The old Service's slices are not cached any more, nor written: a new UID drops them.
    assert tracker.stale_slices(KEY, "svc-2", []) is False
    assert not tracker.has(eps("a", 1))
    # Writes for the new Service are tracked as before.
    tracker.update(eps("c", 1))
    assert tracker.stale_slices(KEY, "svc-2", []) is True


def test_a_deleted_service_is_forgotten() -> None:
    tracker = tracker_with(eps("a", 1))
    tracker.delete_service(KEY)
    assert tracker.stale_slices(KEY, "svc-2", []) is False
    assert tracker.should_sync(eps("a", 1))
