"""DaemonSet rollouts as kubectl's rollout verbs see them (polymorphichelpers
rollout_status.go DaemonSetStatusViewer, history.go DaemonSetHistoryViewer, rollback.go
DaemonSetRollbacker): the status line and when the rollout is done, the ControllerRevisions that
are its revisions (those its selector matches that it controls), a revision's pod template (its
data, a strategic merge patch, applied to the DaemonSet), and the DaemonSet a rollback writes."""

from __future__ import annotations

import json

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
ROLLING_UPDATE = "RollingUpdate"


def rollout_status(ds: apps_pb2.DaemonSet) -> tuple[str, bool]:
    """DaemonSetStatusViewer: the line to print and whether the rollout is done."""
    if ds.spec.update_strategy.type != ROLLING_UPDATE:
        raise CommandError(
            "error: rollout status is only available for RollingUpdate strategy type"
        )
    if ds.metadata.generation > ds.status.observed_generation:
        return "Waiting for daemon set spec update to be observed...", False
    name, status = ds.metadata.name, ds.status
    waiting = f'Waiting for daemon set "{name}" rollout to finish: '
    if status.updated_number_scheduled < status.desired_number_scheduled:
        return (
            f"{waiting}{status.updated_number_scheduled} out of "
            f"{status.desired_number_scheduled} new pods have been updated..."
        ), False
    if status.number_available < status.desired_number_scheduled:
        return (
            f"{waiting}{status.number_available} of {status.desired_number_scheduled} updated "
            "pods are available..."
        ), False
    return f'daemon set "{name}" successfully rolled out', True


async def owned_revisions(client: Client, ds: apps_pb2.DaemonSet) -> list[Revision]:
    """controlledHistory: the revisions the DaemonSet's selector matches that it controls."""
    selector = format_label_selector(ds.spec.selector)
    items, _ = await client.controllerrevisions.list_all(
        ds.metadata.namespace, label_selector="" if selector == "<none>" else selector
    )
    return [r for r in items if controlled_by(r, ds.metadata.uid)]


def applied(ds: apps_pb2.DaemonSet, revision: Revision) -> apps_pb2.DaemonSet:
    """applyDaemonSetHistory: the DaemonSet with the revision's patch applied."""
    try:
        patch = json.loads(revision.data)
    except ValueError as e:
        raise CommandError(f"error: revision {revision.revision} holds no JSON: {e}") from None
    schema = proto_schema(apps_pb2.DaemonSet.DESCRIPTOR)
    patched = strategic_merge_patch(codec.encode(ds), patch, schema)
    out, _ = codec.decode(apps_pb2.DaemonSet, patched, codec.FieldValidation.IGNORE)
    return out


def revision_template(ds: apps_pb2.DaemonSet, revision: Revision) -> core_pb2.PodTemplateSpec:
    return applied(ds, revision).spec.template


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


def rolled_back(ds: apps_pb2.DaemonSet, revision: Revision) -> apps_pb2.DaemonSet | None:
    """The DaemonSet with the revision's template; None if it has that template already."""
    out = applied(ds, revision)
    return None if out.spec.template == ds.spec.template else out
