"""Controller references (kubernetes pkg/controller/controller_ref_manager.go): which object
controls a pod, and how a controller claims pods: it keeps those it controls that its selector
still matches, adopts matching orphans and releases those it controls that no longer match.
Adoption and release are updates with the pod's resourceVersion, redone on a conflict against
the pod as it now is."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from controller.framework.objects import Object
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.meta import controller_of as controller_of
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.selectors import LabelSelector
from podplane.client.clientset import ResourceClient, is_not_found
from podplane.client.conflicts import get_same, update_on_conflict

log = logging.getLogger(__name__)


def new_controller_ref(owner: Object, resource: Resource) -> meta_pb2.OwnerReference:
    """metav1.NewControllerRef: the owner controls the dependent and blocks its foreground
    deletion until the dependent is gone."""
    return meta_pb2.OwnerReference(
        api_version=resource.api_version,
        kind=resource.kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


def pod_key(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class PodClaim:
    """One claim pass of an owner over the active pods of its namespace (ClaimPods)."""

    def __init__(
        self,
        pods: ResourceClient[core_pb2.Pod],
        owner: Object,
        resource: Resource,
        selector: LabelSelector,
        fresh_owner: Callable[[], Awaitable[Object]],
        *,
        member: Callable[[core_pb2.Pod], bool] = lambda _pod: True,
        finalizers: tuple[str, ...] = (),
    ) -> None:
        """`member` narrows the selector further (a StatefulSet claims only pods named for it):
        a pod it refuses is released or not adopted, as one the selector does not match."""
        self._pods = pods
        # Given to the pods it adopts (the Job controller's tracking finalizer).
        self._finalizers = finalizers
        self._owner = owner
        self._resource = resource
        self._selector = selector
        self._member = member
        # A live read of the owner, made once before the first adoption (#42639): an owner that
        # is being deleted, or was replaced, adopts nothing.
        self._fresh_owner = fresh_owner
        self._may_adopt: bool | None = None

    def _matches(self, pod: core_pb2.Pod) -> bool:
        return (
            not self._selector.empty
            and self._selector.matches(pod.metadata.labels)
            and self._member(pod)
        )

    async def claim(self, pods: Iterable[core_pb2.Pod]) -> list[core_pb2.Pod]:
        """The pods this owner controls after the pass."""
        uid = self._owner.metadata.uid
        deleting = bool(self._owner.metadata.deletion_timestamp)
        claimed: list[core_pb2.Pod] = []
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
            fresh: Object | None
            try:
                fresh = await self._fresh_owner()
            except Exception as e:
                if is_not_found(e):
                    fresh = None
                else:
                    raise
            meta = self._owner.metadata
            self._may_adopt = (
                fresh is not None
                and fresh.metadata.uid == meta.uid
                and not fresh.metadata.deletion_timestamp
            )
            if not self._may_adopt:
                log.info(
                    "%s %s/%s is gone or being deleted: adopting nothing",
                    self._resource.kind,
                    meta.namespace,
                    meta.name,
                )
        return self._may_adopt

    async def _adopt(self, pod: core_pb2.Pod) -> core_pb2.Pod | None:
        """Adds the controller reference to an orphan; returns the updated pod, or None if it is
        not ours to take (gone, adopted by another, no longer matching)."""
        if not await self._can_adopt():
            return None
        owner_uid = self._owner.metadata.uid

        def add_reference(p: core_pb2.Pod) -> bool:
            if (
                controller_of(p) is not None
                or not self._matches(p)
                or p.metadata.deletion_timestamp
            ):
                return False
            p.metadata.owner_references.append(new_controller_ref(self._owner, self._resource))
            p.metadata.finalizers.extend(
                f for f in self._finalizers if f not in p.metadata.finalizers
            )
            return True

        result = await update_on_conflict(
            pod,
            add_reference,
            self._pods.update,
            self._refetch,
            what=f"adopting pod {pod_key(pod)}",
        )
        ref = controller_of(result) if result is not None else None
        if ref is None or ref.uid != owner_uid:
            return None
        log.info(
            "%s %s adopted pod %s", self._resource.kind, self._owner.metadata.name, pod_key(pod)
        )
        return result

    async def _release(self, pod: core_pb2.Pod) -> None:
        """Removes this owner's reference from a pod it controls but no longer selects."""
        uid = self._owner.metadata.uid

        def drop_reference(p: core_pb2.Pod) -> bool:
            keep = [r for r in p.metadata.owner_references if r.uid != uid]
            if self._matches(p) or len(keep) == len(p.metadata.owner_references):
                return False
            del p.metadata.owner_references[:]
            p.metadata.owner_references.extend(keep)
            return True

        released = await update_on_conflict(
            pod,
            drop_reference,
            self._pods.update,
            self._refetch,
            what=f"releasing pod {pod_key(pod)}",
        )
        if released is not None and not any(
            r.uid == uid for r in released.metadata.owner_references
        ):
            log.info(
                "%s %s released pod %s",
                self._resource.kind,
                self._owner.metadata.name,
                pod_key(pod),
            )

    async def _refetch(self, pod: core_pb2.Pod) -> core_pb2.Pod | None:
        return await get_same(self._pods, pod)
