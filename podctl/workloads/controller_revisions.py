"""The ControllerRevision histories of DaemonSets and StatefulSets as kubectl's rollout verbs read
them (polymorphichelpers history.go controlledHistoryV1, applyDaemonSetHistory,
applyStatefulSetHistory; rollback.go findHistory and the two rollbackers): the revisions an
owner's selector matches that it controls, a revision's pod template (its data, a strategic merge
patch, applied to the owner), the revision a rollback goes back to, and the owner it writes."""

from __future__ import annotations

import json
from typing import TypeVar

from podctl.errors import CommandError
from podctl.workloads.owners import controlled_by
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.patch.schema import proto_schema
from podplane.apimachinery.patch.strategic import strategic_merge_patch
from podplane.client.clientset import Client
from podplane.printers.labels import format_label_selector

Revision = apps_pb2.ControllerRevision
# The kinds whose revisions are ControllerRevisions.
H = TypeVar("H", apps_pb2.DaemonSet, apps_pb2.StatefulSet)


async def owned_revisions(client: Client, owner: H) -> list[Revision]:
    """controlledHistory: the revisions the owner's selector matches that it controls."""
    selector = format_label_selector(owner.spec.selector)
    items, _ = await client.controllerrevisions.list_all(
        owner.metadata.namespace, label_selector="" if selector == "<none>" else selector
    )
    return [r for r in items if controlled_by(r, owner.metadata.uid)]


def applied(owner: H, revision: Revision) -> H:
    """The owner with the revision's patch applied."""
    try:
        patch = json.loads(revision.data)
    except ValueError as e:
        raise CommandError(f"error: revision {revision.revision} holds no JSON: {e}") from None
    kind = type(owner)
    patched = strategic_merge_patch(codec.encode(owner), patch, proto_schema(kind.DESCRIPTOR))
    out, _ = codec.decode(kind, patched, codec.FieldValidation.IGNORE)
    return out


def revision_template(owner: H, revision: Revision) -> core_pb2.PodTemplateSpec:
    return applied(owner, revision).spec.template


def revision_to_roll_back_to(revisions: list[Revision], to_revision: int) -> Revision:
    """findHistory: the given revision, or for 0 the one before the latest."""
    if to_revision == 0 and len(revisions) <= 1:
        raise CommandError("error: no last revision to roll back to")
    if to_revision == 0:
        return sorted(revisions, key=lambda r: r.revision)[-2]
    for r in revisions:
        if r.revision == to_revision:
            return r
    raise CommandError(f"error: unable to find specified revision {to_revision} in history")


def rolled_back(owner: H, revision: Revision) -> H | None:
    """The owner with the revision's template; None if it has that template already."""
    out = applied(owner, revision)
    return None if out.spec.template == owner.spec.template else out
