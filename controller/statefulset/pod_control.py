"""How the StatefulSet controller writes pods and their claims (kubernetes 1.31
stateful_pod_control.go StatefulPodControl): a pod's claims are created before the pod and never
with it deleted; a pod whose identity or storage has drifted is put back; the claims' owner
references follow the retention policy. Claims are read from the shared informer's cache, and
each write is recorded as an event on the set, in Kubernetes' words."""

from __future__ import annotations

import logging

from controller.statefulset import identity, retention
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_already_exists, is_conflict, is_not_found
from podplane.client.conflicts import DEFAULT_ATTEMPTS
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import Informer

log = logging.getLogger(__name__)


class ClaimsError(RuntimeError):
    """Some of a pod's claims could not be made ready (errorutils.NewAggregate)."""


def error_text(err: BaseException) -> str:
    """The message of an API error (its details), else the exception's text."""
    details = getattr(err, "details", None)
    text = details() if callable(details) else None
    return str(text) if text else str(err)


class StatefulPodControl:
    def __init__(
        self,
        client: Client,
        claims: Informer[core_pb2.PersistentVolumeClaim],
        events: EventRecorder,
    ) -> None:
        self.client = client
        self.claims = claims
        self.events = events

    # ------------------------------------------------------------------ events
    def _pod_event(
        self, verb: str, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod, err: BaseException | None
    ) -> None:
        name, set_name = pod.metadata.name, sts.metadata.name
        if err is None:
            self.events.record(
                sts,
                NORMAL,
                f"Successful{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {set_name} successful",
            )
        else:
            self.events.record(
                sts,
                WARNING,
                f"Failed{verb.title()}",
                f"{verb} Pod {name} in StatefulSet {set_name} failed error: {error_text(err)}",
            )

    def _claim_event(
        self,
        sts: apps_pb2.StatefulSet,
        pod: core_pb2.Pod,
        claim: core_pb2.PersistentVolumeClaim,
        err: BaseException | None,
    ) -> None:
        names = (claim.metadata.name, pod.metadata.name, sts.metadata.name)
        if err is None:
            self.events.record(
                sts,
                NORMAL,
                "SuccessfulCreate",
                "create Claim {} Pod {} in StatefulSet {} success".format(*names),
            )
        else:
            self.events.record(
                sts,
                WARNING,
                "FailedCreate",
                "create Claim {} for Pod {} in StatefulSet {} failed error: {}".format(
                    *names, error_text(err)
                ),
            )

    # ------------------------------------------------------------------ claims
    def _cached_claim(self, namespace: str, name: str) -> core_pb2.PersistentVolumeClaim | None:
        return self.claims.get(f"{namespace}/{name}")

    async def create_claims(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
        """createPersistentVolumeClaims: each missing claim of the pod's ordinal is created; a
        claim being deleted is an error (the pod must wait for it to go)."""
        errors: list[str] = []
        for claim in identity.claims_for(sts, identity.ordinal_of(pod)):
            meta = claim.metadata
            existing = self._cached_claim(meta.namespace, meta.name)
            if existing is None:
                try:
                    await self.client.persistentvolumeclaims.create(claim)
                except Exception as e:  # noqa: BLE001 - collected, raised after the others
                    errors.append(f"failed to create PVC {meta.name}: {error_text(e)}")
                    if not is_already_exists(e):
                        self._claim_event(sts, pod, claim, e)
                else:
                    self._claim_event(sts, pod, claim, None)
            elif existing.metadata.deletion_timestamp:
                errors.append(f"pvc {meta.name} is being deleted")
        if errors:
            raise ClaimsError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")

    async def create_missing_claims(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
        """createMissingPersistentVolumeClaims: for a pending pod whose claims went away."""
        await self.create_claims(sts, pod)
        try:
            await self.update_claims_for_retention(sts, pod)
        except Exception as e:
            self._pod_event("update", sts, pod, e)
            raise

    def claims_match_retention(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> bool:
        """ClaimsMatchRetentionPolicy: the pod's existing claims carry the owners the policy asks
        for (a missing claim is picked up by a later pass)."""
        ordinal = identity.ordinal_of(pod)
        for template in sts.spec.volume_claim_templates:
            claim = self._cached_claim(
                sts.metadata.namespace, identity.claim_name(sts, template, ordinal)
            )
            if claim is not None and not retention.claim_owners_match(claim, sts, pod):
                return False
        return True

    async def update_claims_for_retention(
        self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod
    ) -> None:
        """UpdatePodClaimForRetentionPolicy: the pod's claims get the owners the policy asks for."""
        ordinal = identity.ordinal_of(pod)
        for template in sts.spec.volume_claim_templates:
            name = identity.claim_name(sts, template, ordinal)
            cached = self._cached_claim(sts.metadata.namespace, name)
            if cached is None or retention.claim_owners_match(cached, sts, pod):
                continue
            claim = core_pb2.PersistentVolumeClaim()
            claim.CopyFrom(cached)
            if not retention.update_claim_owners(claim, sts, pod):
                continue
            try:
                await self.client.persistentvolumeclaims.update(claim)
            except Exception as e:
                raise ClaimsError(
                    f"Could not update claim {name} for delete policy ownerRefs: {error_text(e)}"
                ) from e

    def claim_is_stale(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> bool:
        """PodClaimIsStale: while claims are deleted on scale-down, a claim still referring to an
        earlier pod of this name blocks the pod's creation (the garbage collector deletes it)."""
        if retention.retention_policy(sts).when_scaled == retention.RETAIN:
            return False
        for claim in identity.claims_for(sts, identity.ordinal_of(pod)):
            cached = self._cached_claim(claim.metadata.namespace, claim.metadata.name)
            if cached is not None and retention.has_stale_owner_ref(cached, pod):
                return True
        return False

    # ------------------------------------------------------------------ pods
    async def create_pod(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
        """CreateStatefulPod: the claims first, then the pod, then the claims' owners. A pod that
        exists already is an error without an event (the cache was behind)."""
        try:
            await self.create_claims(sts, pod)
        except Exception as e:
            self._pod_event("create", sts, pod, e)
            raise
        try:
            created = await self.client.pods.create(pod)
        except Exception as e:
            if not is_already_exists(e):
                self._pod_event("create", sts, pod, e)
            raise
        try:
            await self.update_claims_for_retention(sts, created)
        except Exception as e:
            self._pod_event("update", sts, pod, e)
            raise
        self._pod_event("create", sts, pod, None)

    async def update_pod(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
        """UpdateStatefulPod: puts back the pod's identity, its claims' volumes (creating missing
        claims) and its claims' owners; retried on a conflict against the pod as now cached.
        `pod` is a copy the caller gives away."""
        attempted = False
        error: BaseException | None = None
        current: core_pb2.Pod | None = pod
        for _ in range(DEFAULT_ATTEMPTS):
            if current is None:
                break
            consistent = True
            if not identity.identity_matches(sts, current):
                identity.update_identity(sts, current)
                consistent = False
            try:
                if not identity.storage_matches(sts, current):
                    identity.update_storage(sts, current)
                    consistent = False
                    await self.create_claims(sts, current)
                if not self.claims_match_retention(sts, current):
                    await self.update_claims_for_retention(sts, current)
                    consistent = False
            except Exception as e:
                self._pod_event("update", sts, current, e)
                raise
            if consistent:
                return
            attempted = True
            try:
                await self.client.pods.update(current)
                error = None
                break
            except Exception as e:  # noqa: BLE001 - recorded as an event, then raised
                error = e
                if not is_conflict(e):
                    break
            current = await self._fresh_copy(current)
        if attempted:
            self._pod_event("update", sts, pod, error)
        if error is not None:
            raise error

    async def _fresh_copy(self, pod: core_pb2.Pod) -> core_pb2.Pod | None:
        try:
            fresh = await self.client.pods.get(pod.metadata.name, pod.metadata.namespace)
        except Exception as e:
            if is_not_found(e):
                return None
            raise
        return fresh

    async def delete_pod(self, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
        """DeleteStatefulPod, of this pod (its uid): one already gone is no error."""
        meta = pod.metadata
        try:
            await self.client.pods.delete(meta.name, meta.namespace, uid=meta.uid)
        except Exception as e:
            if is_not_found(e) or is_conflict(e):
                log.info("pod %s/%s is gone already", meta.namespace, meta.name)
                return
            self._pod_event("delete", sts, pod, e)
            raise
        self._pod_event("delete", sts, pod, None)
