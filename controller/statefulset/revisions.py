"""A StatefulSet's revisions (kubernetes 1.31 stateful_set_utils.go getPatch, newRevision,
ApplyRevision; stateful_set_control.go getStatefulSetRevisions, truncateHistory) over
controller/history.

A revision's data is a strategic merge patch that puts back the set's pod template:
{"spec":{"template":{...,"$patch":"replace"}}}, keys sorted, as Go's encoding/json writes a map
(`kubectl rollout undo` sends that data as a patch of the set). Its name is <set>-<hash>, and the
pods made from it carry that name in their controller-revision-hash label."""

from __future__ import annotations

import json
from dataclasses import dataclass

from controller.history.history import History
from controller.history.revision import (
    equal_revision,
    find_equal_revisions,
    new_controller_revision,
    next_revision,
    revisions_to_prune,
    sort_controller_revisions,
)
from controller.statefulset.identity import pod_revision
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.patch.schema import proto_schema
from podplane.apimachinery.patch.strategic import strategic_merge_patch

Revision = apps_pb2.ControllerRevision


def revision_data(sts: apps_pb2.StatefulSet) -> str:
    """getPatch: the patch that restores the set's pod template."""
    spec = codec.encode(sts).get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    body = dict(template) if isinstance(template, dict) else {}
    body["$patch"] = "replace"
    return json.dumps({"spec": {"template": body}}, sort_keys=True, separators=(",", ":"))


def new_revision(sts: apps_pb2.StatefulSet, number: int, collision_count: int) -> Revision:
    """newRevision: controlled by the set, labelled with its template's labels, annotated with
    the set's annotations."""
    revision = new_controller_revision(
        sts,
        resources.STATEFUL_SET,
        sts.spec.template.metadata.labels,
        revision_data(sts),
        number,
        collision_count,
    )
    revision.metadata.annotations.update(sts.metadata.annotations)
    return revision


def apply_revision(sts: apps_pb2.StatefulSet, revision: Revision) -> apps_pb2.StatefulSet:
    """ApplyRevision: the set with the revision's patch applied (its template as it was)."""
    patched = strategic_merge_patch(
        codec.encode(sts), json.loads(revision.data), proto_schema(apps_pb2.StatefulSet.DESCRIPTOR)
    )
    restored, _ = codec.decode(apps_pb2.StatefulSet, patched, codec.FieldValidation.IGNORE)
    return restored


@dataclass(frozen=True)
class Revisions:
    """The set's current revision (what its pods below the update run), its update revision (the
    template it asks for now) and the collision count its status records."""

    current: Revision
    update: Revision
    collision_count: int


async def set_revisions(
    history: History, sts: apps_pb2.StatefulSet, revisions: list[Revision]
) -> Revisions:
    """getStatefulSetRevisions: the update revision is the latest one if it holds the set's
    template, an earlier equal one renumbered as the latest (a rollback), or a new one; the
    current revision is the one the status names, else the update revision. `revisions` sorted."""
    collision_count = sts.status.collision_count
    update = new_revision(sts, next_revision(revisions), collision_count)
    equal = find_equal_revisions(revisions, update)
    if equal and equal_revision(revisions[-1], equal[-1]):
        update = revisions[-1]
    elif equal:
        update = await history.update_revision(equal[-1], update.revision)
    else:
        update, collision_count = await history.create_revision(sts, update, collision_count)
    current = next((r for r in revisions if r.metadata.name == sts.status.current_revision), update)
    return Revisions(current, update, collision_count)


async def truncate_history(
    history: History,
    sts: apps_pb2.StatefulSet,
    pods: list[core_pb2.Pod],
    revisions: list[Revision],
    live: Revisions | None,
) -> None:
    """truncateHistory: beyond revisionHistoryLimit, the oldest revisions that neither the status
    nor a pod uses are deleted."""
    names = {pod_revision(p) for p in pods}
    if live is not None:
        names |= {live.current.metadata.name, live.update.metadata.name}
    old = [r for r in sort_controller_revisions(revisions) if r.metadata.name not in names]
    for r in revisions_to_prune(old, sts.spec.revision_history_limit, lambda _r: False):
        await history.delete_revision(r)
