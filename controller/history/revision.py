"""ControllerRevisions as values (kubernetes pkg/controller/history/controller_history.go): the
hash of a revision's data, the name it gives the revision, a new revision of a parent, the order
of a parent's revisions, which of them hold the same data, and which old ones a history limit
lets go."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence

from controller.framework.controller_ref import new_controller_ref
from controller.framework.hashing import fnv32, safe_encode
from controller.framework.objects import Object
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery.resources import Resource

# The label holding the hash of a revision's data (history.ControllerRevisionHashLabel).
CONTROLLER_REVISION_HASH_LABEL = "controller.kubernetes.io/hash"
# The longest prefix of a revision's name, so that prefix-hash fits in 253 characters.
MAX_PREFIX = 223


def controller_revision_name(prefix: str, hash_: str) -> str:
    """ControllerRevisionName: prefix-hash, the prefix cut to 223 characters."""
    return f"{prefix[:MAX_PREFIX]}-{hash_}"


def hash_controller_revision(revision: apps_pb2.ControllerRevision, probe: int | None) -> str:
    """HashControllerRevision: FNV-32 (Go's fnv.New32, FNV-1) over the data's JSON and, when
    given, the decimal of `probe` (the collision count), SafeEncodeString of the hash's
    decimal."""
    data = revision.data.encode()
    if probe is not None:
        data += str(probe).encode()
    return safe_encode(str(fnv32(data)))


def new_controller_revision(
    parent: Object,
    parent_resource: Resource,
    template_labels: Mapping[str, str],
    data: str,
    revision: int,
    collision_count: int | None,
) -> apps_pb2.ControllerRevision:
    """NewControllerRevision: a revision of `parent` (which controls it), labelled with the
    template's labels and its hash, named <parent>-<hash>."""
    cr = apps_pb2.ControllerRevision(data=data, revision=revision)
    cr.metadata.namespace = parent.metadata.namespace
    cr.metadata.labels.update(template_labels)
    cr.metadata.owner_references.append(new_controller_ref(parent, parent_resource))
    hash_ = hash_controller_revision(cr, collision_count)
    cr.metadata.name = controller_revision_name(parent.metadata.name, hash_)
    cr.metadata.labels[CONTROLLER_REVISION_HASH_LABEL] = hash_
    return cr


def sort_controller_revisions(
    revisions: Iterable[apps_pb2.ControllerRevision],
) -> list[apps_pb2.ControllerRevision]:
    """SortControllerRevisions: by revision, then creation, then name (oldest first)."""
    return sorted(
        revisions,
        key=lambda r: (r.revision, r.metadata.creation_timestamp, r.metadata.name),
    )


def same_data(a: str, b: str) -> bool:
    """Whether two revisions' data are the same JSON, whatever the spacing they were sent with."""
    if a == b:
        return True
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False


def equal_revision(
    lhs: apps_pb2.ControllerRevision | None, rhs: apps_pb2.ControllerRevision | None
) -> bool:
    """EqualRevision: both absent, or the same data (different hash labels say no at once)."""
    if lhs is None or rhs is None:
        return lhs is rhs
    a = lhs.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL)
    b = rhs.metadata.labels.get(CONTROLLER_REVISION_HASH_LABEL)
    if a is not None and b is not None and a != b:
        return False
    return same_data(lhs.data, rhs.data)


def find_equal_revisions(
    revisions: Iterable[apps_pb2.ControllerRevision], needle: apps_pb2.ControllerRevision
) -> list[apps_pb2.ControllerRevision]:
    """FindEqualRevisions, in the order given."""
    return [r for r in revisions if equal_revision(r, needle)]


def next_revision(revisions: Iterable[apps_pb2.ControllerRevision]) -> int:
    """One more than the highest revision number (1 for none)."""
    return max((r.revision for r in revisions), default=0) + 1


def revisions_to_prune(
    old: Sequence[apps_pb2.ControllerRevision],
    limit: int,
    live: Callable[[apps_pb2.ControllerRevision], bool],
) -> list[apps_pb2.ControllerRevision]:
    """The revisions of `old` beyond `limit` to delete, oldest first, skipping those `live` keeps
    (those its pods still run). The DaemonSet controller (cleanupHistory) counts all its old
    revisions against the limit and keeps the live ones; the StatefulSet controller
    (truncateHistory) counts only the others: it passes those, with `live` always false."""
    excess = len(old) - limit
    doomed: list[apps_pb2.ControllerRevision] = []
    for r in sort_controller_revisions(old):
        if excess <= 0:
            break
        if live(r):
            continue
        doomed.append(r)
        excess -= 1
    return doomed
