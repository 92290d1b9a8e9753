"""Which ReplicaSets a Deployment controls (kubernetes controller_ref_manager.go
ClaimReplicaSets): its own that its selector still matches; matching orphans, which it adopts
(unless it is being deleted, checked with a live read before the first adoption); its own that
no longer match are released. Adoption and release are updates with the ReplicaSet's
resourceVersion: a conflict fails the pass, which is retried against the ReplicaSet as it then
is."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from controller.framework.controller_ref import controller_of, new_controller_ref
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import LabelSelector
from podplane.client.clientset import Client, is_not_found

log = logging.getLogger(__name__)


async def claim_replica_sets(
    client: Client,
    d: apps_pb2.Deployment,
    selector: LabelSelector,
    replica_sets: Iterable[apps_pb2.ReplicaSet],
) -> list[apps_pb2.ReplicaSet]:
    """The replica sets of the deployment's namespace that it controls after the pass."""
    uid, deleting = d.metadata.uid, bool(d.metadata.deletion_timestamp)
    claimed: list[apps_pb2.ReplicaSet] = []
    may_adopt: bool | None = None
    for rs in replica_sets:
        ref = controller_of(rs)
        matches = not selector.empty and selector.matches(rs.metadata.labels)
        if ref is not None:
            if ref.uid == uid and matches:
                claimed.append(rs)
            elif ref.uid == uid and not deleting:
                await _set_owner(client, rs, d, own=False)
            continue
        if deleting or rs.metadata.deletion_timestamp or not matches:
            continue
        if may_adopt is None:
            may_adopt = await _may_adopt(client, d)
        if may_adopt and (adopted := await _set_owner(client, rs, d, own=True)) is not None:
            claimed.append(adopted)
    return claimed


async def _may_adopt(client: Client, d: apps_pb2.Deployment) -> bool:
    """A deployment that is gone, replaced or being deleted adopts nothing."""
    try:
        fresh = await client.deployments.get(d.metadata.name, d.metadata.namespace)
    except Exception as e:
        if is_not_found(e):
            return False
        raise
    return bool(fresh.metadata.uid == d.metadata.uid and not fresh.metadata.deletion_timestamp)


async def _set_owner(
    client: Client, rs: apps_pb2.ReplicaSet, d: apps_pb2.Deployment, *, own: bool
) -> apps_pb2.ReplicaSet | None:
    updated = apps_pb2.ReplicaSet()
    updated.CopyFrom(rs)
    refs = [r for r in updated.metadata.owner_references if r.uid != d.metadata.uid]
    del updated.metadata.owner_references[:]
    updated.metadata.owner_references.extend(refs)
    if own:
        updated.metadata.owner_references.append(new_controller_ref(d, resources.DEPLOYMENT))
    try:
        result = await client.replicasets.update(updated)
    except Exception as e:
        if is_not_found(e):
            return None
        raise
    log.info(
        "deployment %s/%s %s replica set %s",
        d.metadata.namespace,
        d.metadata.name,
        "adopted" if own else "released",
        rs.metadata.name,
    )
    return result
