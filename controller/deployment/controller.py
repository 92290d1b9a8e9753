"""The Deployment controller (kubernetes pkg/controller/deployment): one ReplicaSet per pod
template, named <deployment>-<pod-template-hash>; a template change creates a new one and shifts
the replicas to it, RollingUpdate within maxSurge and maxUnavailable, Recreate after every old
pod is gone. Revisions are annotations on the ReplicaSets; the oldest ones beyond
revisionHistoryLimit with no replicas are deleted. The ReplicaSet controller makes the pods; this
one only sizes ReplicaSets and reads their status back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from google.protobuf.message import Message

from controller.deployment import revision as revisions
from controller.deployment import rollout
from controller.deployment import status as ds
from controller.deployment.claim import claim_replica_sets
from controller.framework.controller_ref import controller_of, new_controller_ref
from controller.framework.reconciler import ReconcileLoop
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import SelectorError, from_label_selector_message
from podplane.client.clientset import Client, is_already_exists, is_conflict, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# kube-controller-manager's --concurrent-deployment-syncs default.
DEFAULT_WORKERS = 5


M = TypeVar("M", bound=Message)


def _copy(obj: M) -> M:
    out = type(obj)()
    out.CopyFrom(obj)
    return out


def _replace(
    rss: Sequence[apps_pb2.ReplicaSet], updated: apps_pb2.ReplicaSet
) -> list[apps_pb2.ReplicaSet]:
    return [updated if rs.metadata.uid == updated.metadata.uid else rs for rs in rss]


class DeploymentController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = DEFAULT_WORKERS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._clock = clock
        self.deployments: Informer[apps_pb2.Deployment] = informers.informer_for(
            resources.DEPLOYMENT
        )
        self.replicasets: Informer[apps_pb2.ReplicaSet] = informers.informer_for(
            resources.REPLICA_SET
        )
        # Recreate waits for the old pods to be gone, not only for their ReplicaSets to be 0.
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        for informer in (self.deployments, self.replicasets, self.pods):
            informer.add_index(NAMESPACE_INDEX, namespace_of)
        self.recorder = EventRecorder(client, "deployment-controller")
        self.loop = ReconcileLoop(
            "deployment",
            self.reconcile,
            informers,
            [self.deployments, self.replicasets, self.pods],
            workers=workers,
        )
        self.deployments.add_handler(
            on_add=self._enqueue,
            on_update=lambda _old, new: self._enqueue(new),
            on_delete=self._enqueue,
        )
        self.replicasets.add_handler(
            on_add=self._rs_added, on_update=self._rs_updated, on_delete=self._rs_deleted
        )
        self.pods.add_handler(on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: keys only
    def _enqueue(self, d: apps_pb2.Deployment) -> None:
        self.loop.enqueue(object_key(d))

    def _owner_key(self, rs: apps_pb2.ReplicaSet) -> str | None:
        ref = controller_of(rs)
        if ref is None or ref.kind != "Deployment":
            return None
        key = f"{rs.metadata.namespace}/{ref.name}"
        d = self.deployments.get(key)
        return key if d is not None and d.metadata.uid == ref.uid else None

    def _enqueue_selecting(self, rs: apps_pb2.ReplicaSet) -> None:
        """An orphan replica set: the deployments that would adopt it."""
        for d in self.deployments.by_index(NAMESPACE_INDEX, rs.metadata.namespace):
            try:
                selector = from_label_selector_message(d.spec.selector)
            except SelectorError:
                continue
            if not selector.empty and selector.matches(rs.metadata.labels):
                self._enqueue(d)

    def _rs_added(self, rs: apps_pb2.ReplicaSet) -> None:
        if (key := self._owner_key(rs)) is not None:
            self.loop.enqueue(key)
        elif controller_of(rs) is None and not rs.metadata.deletion_timestamp:
            self._enqueue_selecting(rs)

    def _rs_updated(self, old: apps_pb2.ReplicaSet, new: apps_pb2.ReplicaSet) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        for key in {self._owner_key(old), self._owner_key(new)}:
            if key is not None:
                self.loop.enqueue(key)
        if controller_of(new) is None and (
            old.metadata.labels != new.metadata.labels or controller_of(old) is not None
        ):
            self._enqueue_selecting(new)

    def _rs_deleted(self, rs: apps_pb2.ReplicaSet) -> None:
        if (key := self._owner_key(rs)) is not None:
            self.loop.enqueue(key)

    def _pod_deleted(self, pod: core_pb2.Pod) -> None:
        ref = controller_of(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.replicasets.get(f"{pod.metadata.namespace}/{ref.name}")
        key = self._owner_key(rs) if rs is not None else None
        d = self.deployments.get(key) if key is not None else None
        if d is not None and d.spec.strategy.type == "Recreate":
            self.loop.enqueue(str(key))

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        cached = self.deployments.get(key)
        if cached is None:
            return None
        d = _copy(cached)
        try:
            selector = from_label_selector_message(d.spec.selector)
        except SelectorError as e:
            log.warning("deployment %s: invalid selector: %s", key, e)
            return None
        if selector.empty:
            self.recorder.record(
                d,
                WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            return None
        rss = await claim_replica_sets(
            self.client,
            d,
            selector,
            self.replicasets.by_index(NAMESPACE_INDEX, d.metadata.namespace),
        )
        if d.metadata.deletion_timestamp:
            new_rs, old_rss, d = await self._new_and_old(d, rss, create=False)
            return await self._sync_status(d, [*old_rss, new_rs], new_rs)
        d = await self._check_paused_conditions(d)
        if d.spec.paused or rollout.is_scaling_event(d, rss):
            return await self._sync(d, rss)
        if d.spec.strategy.type == "Recreate":
            return await self._rollout_recreate(d, rss)
        return await self._rollout_rolling(d, rss)

    async def _new_and_old(
        self, d: apps_pb2.Deployment, rss: list[apps_pb2.ReplicaSet], create: bool
    ) -> tuple[apps_pb2.ReplicaSet | None, list[apps_pb2.ReplicaSet], apps_pb2.Deployment]:
        """The new replica set (its revision brought up to date, created if asked and missing),
        the old ones, and the deployment as last written (getAllReplicaSetsAndSyncRevision)."""
        existing = revisions.find_new_rs(d, rss)
        old_rss = [rs for rs in rss if rs is not existing]
        new_revision = revisions.max_revision(old_rss) + 1
        now = ds.stamp_of(self._clock())
        if existing is not None:
            rs = _copy(existing)
            if (
                revisions.set_new_rs_annotations(d, rs, new_revision, exists=True)
                or rs.spec.min_ready_seconds != d.spec.min_ready_seconds
            ):
                rs.spec.min_ready_seconds = d.spec.min_ready_seconds
                return await self.client.replicasets.update(rs), old_rss, d
            meta_changed = revisions.set_deployment_revision(
                d, rs.metadata.annotations.get(revisions.REVISION_ANNOTATION, "")
            )
            status_changed = False
            if ds.has_progress_deadline(d) and ds.get_condition(d.status, ds.PROGRESSING) is None:
                ds.set_condition(
                    d.status,
                    ds.new_condition(
                        ds.PROGRESSING,
                        "True",
                        ds.FOUND_NEW_RS,
                        f'Found new replica set "{rs.metadata.name}"',
                        now,
                    ),
                )
                status_changed = True
            return rs, old_rss, await self._persist(d, meta_changed, status_changed)
        if not create:
            return None, old_rss, d

        rs = self._replica_set_for(d)
        rs.spec.replicas = rollout.new_rs_new_replicas(d, [*old_rss, rs], rs)
        revisions.set_new_rs_annotations(d, rs, new_revision, exists=False)
        name = rs.metadata.name
        try:
            created = await self.client.replicasets.create(rs)
            already_existed = False
        except Exception as e:
            if not is_already_exists(e):
                message = f'Failed to create new replica set "{name}": {e}'
                if ds.has_progress_deadline(d):
                    ds.set_condition(
                        d.status,
                        ds.new_condition(
                            ds.PROGRESSING, "False", ds.FAILED_RS_CREATE, message, now
                        ),
                    )
                    await self.client.deployments.update_status(d)
                self.recorder.record(d, WARNING, ds.FAILED_RS_CREATE, message)
                raise
            created = await self._existing_new_rs(d, name)
            already_existed = True
        if not already_existed and rollout.size(created) > 0:
            self.recorder.record(
                d,
                NORMAL,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {rollout.size(created)}",
            )
        meta_changed = revisions.set_deployment_revision(d, str(new_revision))
        status_changed = not already_existed and ds.has_progress_deadline(d)
        if status_changed:
            ds.set_condition(
                d.status,
                ds.new_condition(
                    ds.PROGRESSING,
                    "True",
                    ds.NEW_RS_CREATED,
                    f'Created new replica set "{name}"',
                    now,
                ),
            )
        return created, old_rss, await self._persist(d, meta_changed, status_changed)

    def _replica_set_for(self, d: apps_pb2.Deployment) -> apps_pb2.ReplicaSet:
        """The replica set for the deployment's template, with 0 replicas."""
        collision = d.status.collision_count if d.status.HasField("collision_count") else None
        pod_hash = revisions.template_hash(d.spec.template, collision)
        rs = apps_pb2.ReplicaSet()
        rs.metadata.name = f"{d.metadata.name}-{pod_hash}"
        rs.metadata.namespace = d.metadata.namespace
        rs.metadata.owner_references.append(new_controller_ref(d, resources.DEPLOYMENT))
        rs.spec.template.CopyFrom(d.spec.template)
        rs.spec.template.metadata.labels[revisions.POD_TEMPLATE_HASH_LABEL] = pod_hash
        rs.metadata.labels.update(rs.spec.template.metadata.labels)
        rs.spec.selector.CopyFrom(d.spec.selector)
        rs.spec.selector.match_labels[revisions.POD_TEMPLATE_HASH_LABEL] = pod_hash
        rs.spec.min_ready_seconds = d.spec.min_ready_seconds
        rs.spec.replicas = 0
        return rs

    async def _existing_new_rs(self, d: apps_pb2.Deployment, name: str) -> apps_pb2.ReplicaSet:
        """The replica set already stored under the new one's name: ours (created by an earlier
        pass our cache has not caught up with), or a hash collision, which bumps
        status.collisionCount so the next pass hashes to another name."""
        rs = self.replicasets.get(f"{d.metadata.namespace}/{name}")
        if rs is None:
            rs = await self.client.replicasets.get(name, d.metadata.namespace)
        ref = controller_of(rs)
        if (
            ref is not None
            and ref.uid == d.metadata.uid
            and revisions.equal_ignore_hash(rs.spec.template, d.spec.template)
        ):
            return rs
        count = (d.status.collision_count if d.status.HasField("collision_count") else 0) + 1
        d.status.collision_count = count
        await self.client.deployments.update_status(d)
        raise RuntimeError(
            f"replica set {name} exists with another template: hash collision; "
            f"collisionCount is now {count}"
        )

    async def _persist(
        self, d: apps_pb2.Deployment, meta_changed: bool, status_changed: bool
    ) -> apps_pb2.Deployment:
        """Writes the revision annotation (Update) and the status (UpdateStatus) as needed;
        returns the deployment as stored."""
        if meta_changed:
            status = _copy(d.status)
            d = await self.client.deployments.update(d)
            d.status.CopyFrom(status)
        if status_changed:
            d = await self.client.deployments.update_status(d)
        return d

    # ------------------------------------------------------------------ strategies
    async def _rollout_rolling(
        self, d: apps_pb2.Deployment, rss: list[apps_pb2.ReplicaSet]
    ) -> float | None:
        new_rs, old_rss, d = await self._new_and_old(d, rss, create=True)
        replicas = rollout.desired_replicas(d)
        if new_rs is not None and rollout.size(new_rs) != replicas:
            target = (
                replicas
                if rollout.size(new_rs) > replicas
                else rollout.new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
            )
            scaled, new_rs = await self._scale(new_rs, target, d)
            if scaled:
                return await self._sync_rollout_status(d, [*old_rss, new_rs], new_rs)
        sizes = rollout.old_rs_sizes(d, new_rs, old_rss)
        if sizes:
            for rs in list(old_rss):
                if rs.metadata.name in sizes:
                    _, updated = await self._scale(rs, sizes[rs.metadata.name], d)
                    old_rss = _replace(old_rss, updated)
            return await self._sync_rollout_status(d, [*old_rss, new_rs], new_rs)
        if ds.deployment_complete(d, d.status):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(d, [*old_rss, new_rs], new_rs)

    async def _rollout_recreate(
        self, d: apps_pb2.Deployment, rss: list[apps_pb2.ReplicaSet]
    ) -> float | None:
        new_rs, old_rss, d = await self._new_and_old(d, rss, create=False)
        scaled_down = False
        for rs in rollout.active(old_rss):
            scaled, updated = await self._scale(rs, 0, d)
            old_rss = _replace(old_rss, updated)
            scaled_down = scaled_down or scaled
        if scaled_down or self._old_pods_running(new_rs, old_rss):
            return await self._sync_rollout_status(d, [*old_rss, new_rs], new_rs)
        if new_rs is None:
            new_rs, old_rss, d = await self._new_and_old(d, rss, create=True)
        if new_rs is not None:
            _, new_rs = await self._scale(new_rs, rollout.desired_replicas(d), d)
        if ds.deployment_complete(d, d.status):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(d, [*old_rss, new_rs], new_rs)

    def _old_pods_running(
        self, new_rs: apps_pb2.ReplicaSet | None, old_rss: Sequence[apps_pb2.ReplicaSet]
    ) -> bool:
        if rollout.total_status(old_rss, "replicas") > 0:
            return True
        old_uids = {rs.metadata.uid for rs in old_rss} - (
            {new_rs.metadata.uid} if new_rs is not None else set()
        )
        for pod in self.pods.by_index(
            NAMESPACE_INDEX, old_rss[0].metadata.namespace if old_rss else ""
        ):
            ref = controller_of(pod)
            if (
                ref is not None
                and ref.uid in old_uids
                and pod.status.phase not in ("Succeeded", "Failed")
            ):
                return True
        return False

    async def _sync(self, d: apps_pb2.Deployment, rss: list[apps_pb2.ReplicaSet]) -> float | None:
        """A paused deployment, or one whose replicas changed: resize without rolling."""
        new_rs, old_rss, d = await self._new_and_old(d, rss, create=False)
        sizes = rollout.scale_sizes(d, new_rs, old_rss)
        for rs in [new_rs, *old_rss]:
            if rs is not None and rs.metadata.name in sizes:
                _, updated = await self._scale(rs, sizes[rs.metadata.name], d, annotate=True)
                if rs is new_rs:
                    new_rs = updated
                else:
                    old_rss = _replace(old_rss, updated)
        if d.spec.paused:
            await self._cleanup(d, old_rss)
        return await self._sync_status(d, [*old_rss, new_rs], new_rs)

    async def _scale(
        self, rs: apps_pb2.ReplicaSet, size: int, d: apps_pb2.Deployment, *, annotate: bool = False
    ) -> tuple[bool, apps_pb2.ReplicaSet]:
        """Resizes the replica set (and records its replicas annotations); with annotate, also
        when only the annotations are out of date. Returns (resized, the replica set)."""
        resize = rollout.size(rs) != size
        if not resize and not (annotate and rollout.replicas_annotations_need_update(rs, d)):
            return False, rs
        updated = _copy(rs)
        updated.spec.replicas = size
        rollout.set_replicas_annotations(updated, d)
        updated = await self.client.replicasets.update(updated)
        if resize:
            direction = "up" if size > rollout.size(rs) else "down"
            self.recorder.record(
                d,
                NORMAL,
                "ScalingReplicaSet",
                f"Scaled {direction} replica set {rs.metadata.name} from "
                f"{rollout.size(rs)} to {size}",
            )
        return resize, updated

    async def _cleanup(
        self, d: apps_pb2.Deployment, old_rss: Sequence[apps_pb2.ReplicaSet]
    ) -> None:
        """Deletes the oldest replica sets beyond revisionHistoryLimit that have no pods."""
        if not d.spec.HasField("revision_history_limit"):
            return
        alive = [rs for rs in old_rss if not rs.metadata.deletion_timestamp]
        excess = len(alive) - d.spec.revision_history_limit
        for rs in revisions.by_revision(alive)[: max(excess, 0)]:
            if (
                rs.status.replicas
                or rollout.size(rs)
                or rs.metadata.generation > rs.status.observed_generation
            ):
                continue
            try:
                await self.client.replicasets.delete(
                    rs.metadata.name, rs.metadata.namespace, uid=rs.metadata.uid
                )
                log.info(
                    "deployment %s: deleted old replica set %s", d.metadata.name, rs.metadata.name
                )
            except Exception as e:
                if not (is_not_found(e) or is_conflict(e)):
                    raise

    # ------------------------------------------------------------------ status
    async def _check_paused_conditions(self, d: apps_pb2.Deployment) -> apps_pb2.Deployment:
        """Progressing=Unknown with DeploymentPaused or DeploymentResumed as the deployment is
        paused or resumed (so that a pause does not count against the progress deadline)."""
        if not ds.has_progress_deadline(d):
            return d
        cond = ds.get_condition(d.status, ds.PROGRESSING)
        if cond is not None and cond.reason == ds.TIMED_OUT:
            return d
        paused = cond is not None and cond.reason == ds.PAUSED
        now = ds.stamp_of(self._clock())
        if d.spec.paused and not paused:
            condition = ds.new_condition(
                ds.PROGRESSING, "Unknown", ds.PAUSED, "Deployment is paused", now
            )
        elif not d.spec.paused and paused:
            condition = ds.new_condition(
                ds.PROGRESSING, "Unknown", ds.RESUMED, "Deployment is resumed", now
            )
        else:
            return d
        ds.set_condition(d.status, condition)
        return await self.client.deployments.update_status(d)

    async def _sync_status(
        self,
        d: apps_pb2.Deployment,
        all_rss: Sequence[apps_pb2.ReplicaSet | None],
        new_rs: apps_pb2.ReplicaSet | None,
    ) -> float | None:
        """The counts and Available only (syncDeploymentStatus); Progressing is left as is."""
        status = ds.calculate_status(all_rss, new_rs, d, ds.stamp_of(self._clock()))
        if status != d.status:
            d.status.CopyFrom(status)
            await self.client.deployments.update_status(d)
        return None

    async def _sync_rollout_status(
        self,
        d: apps_pb2.Deployment,
        all_rss: Sequence[apps_pb2.ReplicaSet | None],
        new_rs: apps_pb2.ReplicaSet | None,
    ) -> float | None:
        now = self._clock()
        status = ds.rollout_status(all_rss, new_rs, d, now)
        if status == d.status:
            return ds.stuck_recheck(d, status, now)
        d.status.CopyFrom(status)
        await self.client.deployments.update_status(d)
        return None
