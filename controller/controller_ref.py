"""Controller references (kubernetes pkg/controller/controller_ref_manager.go): which object
controls a pod, and how a controller claims pods: it keeps those it controls that its selector
still matches, adopts matching orphans and releases those it controls that no longer match.
Adoption and release are updates with the pod's resourceVersion, redone on a conflict against
the pod as it now is."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import ResourceClient, is_conflict, is_not_found
from podplane.resources import Resource
from podplane.selectors import LabelSelector

log = logging.getLogger(__name__)

# Updates of one pod redone after a conflict before the claim fails (and its owner is requeued).
UPDATE_ATTEMPTS = 5


def controller_of(obj: Any) -> Any | None:
    """The ownerReference with controller: true, if any (metav1.GetControllerOf)."""
    for ref in obj.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def new_controller_ref(owner: Any, resource: Resource) -> meta_pb2.OwnerReference:
    """metav1.NewControllerRef: the owner controls the dependent and blocks its foreground
    deletion until the dependent is gone."""
    return meta_pb2.OwnerReference(api_version=resource.api_version, kind=resource.kind,
                                   name=owner.metadata.name, uid=owner.metadata.uid,
                                   controller=True, block_owner_deletion=True)


def pod_key(pod: Any) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class PodClaim:
    """One claim pass of an owner over the active pods of its namespace (ClaimPods)."""

    def __init__(self, pods: ResourceClient[core_pb2.Pod], owner: Any, resource: Resource,
                 selector: LabelSelector, fresh_owner: Callable[[], Awaitable[Any]]) -> None:
        self._pods = pods
        self._owner = owner
        self._resource = resource
        self._selector = selector
        # A live read of the owner, made once before the first adoption (#42639): an owner that
        # is being deleted, or was replaced, adopts nothing.
        self._fresh_owner = fresh_owner
        self._may_adopt: bool | None = None

    def _matches(self, pod: Any) -> bool:
        return not self._selector.empty and self._selector.matches(pod.metadata.labels)

    async def claim(self, pods: list[Any]) -> list[Any]:
        """The pods this owner controls after the pass."""
        uid = self._owner.metadata.uid
        deleting = bool(self._owner.metadata.deletion_timestamp)
        claimed: list[Any] = []
        for pod in pods:
            ref = controller_of(pod)
            if ref is not None:
                if ref.uid != uid:
                    continue  # another controller's
                if self._matches(pod):
                    claimed.append(pod)
                elif not deleting:
                    await self._release(pod)
                continue
            if deleting or not self._matches(pod) or pod.metadata.deletion_timestamp:
                continue
            adopted = await self._adopt(pod)
            if adopted is not None:
                claimed.append(adopted)
        return claimed

    async def _can_adopt(self) -> bool:
        if self._may_adopt is None:
            try:
                fresh = await self._fresh_owner()
            except Exception as e:
                if is_not_found(e):
                    fresh = None
                else:
                    raise
            meta = self._owner.metadata
            self._may_adopt = (fresh is not None and fresh.metadata.uid == meta.uid
                               and not fresh.metadata.deletion_timestamp)
            if not self._may_adopt:
                log.info("%s %s/%s is gone or being deleted: adopting nothing",
                         self._resource.kind, meta.namespace, meta.name)
        return self._may_adopt

    async def _adopt(self, pod: Any) -> Any | None:
        """Adds the controller reference to an orphan; returns the updated pod, or None if it is
        not ours to take (gone, adopted by another, no longer matching)."""
        if not await self._can_adopt():
            return None
        for _ in range(UPDATE_ATTEMPTS):
            updated = core_pb2.Pod()
            updated.CopyFrom(pod)
            updated.metadata.owner_references.append(
                new_controller_ref(self._owner, self._resource))
            try:
                result: Any = await self._pods.update(updated)
                log.info("%s %s adopted pod %s", self._resource.kind, self._owner.metadata.name,
                         pod_key(pod))
                return result
            except Exception as e:
                if is_not_found(e):
                    return None
                if not is_conflict(e):
                    raise
            pod = await self._refetch(pod)
            if pod is None:
                return None
            ref = controller_of(pod)
            if ref is not None:
                return pod if ref.uid == self._owner.metadata.uid else None
            if not self._matches(pod) or pod.metadata.deletion_timestamp:
                return None
        raise RuntimeError(f"could not adopt pod {pod_key(pod)}: it kept changing")

    async def _release(self, pod: Any) -> None:
        """Removes this owner's reference from a pod it controls but no longer selects."""
        uid = self._owner.metadata.uid
        for _ in range(UPDATE_ATTEMPTS):
            updated = core_pb2.Pod()
            updated.CopyFrom(pod)
            keep = [r for r in updated.metadata.owner_references if r.uid != uid]
            if len(keep) == len(updated.metadata.owner_references):
                return
            del updated.metadata.owner_references[:]
            updated.metadata.owner_references.extend(keep)
            try:
                await self._pods.update(updated)
                log.info("%s %s released pod %s", self._resource.kind, self._owner.metadata.name,
                         pod_key(pod))
                return
            except Exception as e:
                if is_not_found(e):
                    return
                if not is_conflict(e):
                    raise
            refetched = await self._refetch(pod)
            if refetched is None or self._matches(refetched):
                return
            pod = refetched
        raise RuntimeError(f"could not release pod {pod_key(pod)}: it kept changing")

    async def _refetch(self, pod: Any) -> Any | None:
        """The pod as stored now; None if it is gone or replaced by another of the same name."""
        try:
            fresh: Any = await self._pods.get(pod.metadata.name, pod.metadata.namespace)
        except Exception as e:
            if is_not_found(e):
                return None
            raise
        return fresh if fresh.metadata.uid == pod.metadata.uid else None
