"""VolumeBinding (kubernetes pkg/scheduler/framework/plugins/volumebinding): a pod with persistent
volume claims goes only where its volumes can be: a bound claim's volume must be reachable from the
node (its node affinity: a local volume's node), an unbound claim of a WaitForFirstConsumer class
needs an Available volume reachable from the node, or a provisioner that can make one there.

PreFilter sorts the pod's claims (and refuses one missing, being deleted, lost, or an unbound claim
the PV controller should have bound: "pod has unbound immediate PersistentVolumeClaims"); Filter
judges each node ("node(s) didn't find available persistent volumes to bind", "node(s) had volume
node affinity conflict"); Reserve assumes the chosen volumes bound and the claims to provision
annotated with the node, so the next pods see them taken; PreBind writes that to the API (a
volume's claimRef, a claim's volume.kubernetes.io/selected-node) and waits until the PV controller
has bound every claim, provisioned volumes included, before the pod is bound to the node."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from podplane.volume import constants as c
from podplane.volume import helpers
from scheduler.framework import cluster_events
from scheduler.framework.interfaces import Handle, Lister, PluginArgs, WithHandle
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.volumebinding.assume_cache import AssumeCache, newer_or_same
from scheduler.plugins.volumebinding.binder import (
    Binder,
    BindError,
    ClaimError,
    PodVolumeClaims,
    PodVolumes,
    claim_names,
    volume_reachable,
)

NAME = "VolumeBinding"
# VolumeBindingArgs.bindTimeoutSeconds: how long PreBind waits for the claims to be bound.
DEFAULT_BIND_TIMEOUT_SECONDS = 600
# How often PreBind looks at the claims while it waits (Kubernetes: every second).
POLL_SECONDS = 0.25
_STATE_KEY = "PreFilter" + NAME


class BindingFailed(Exception):
    """The binding cannot finish: the pod is scheduled again."""


@dataclass
class _State:
    claims: PodVolumeClaims | None = None
    # What Filter found each feasible node needs.
    by_node: dict[str, PodVolumes] = field(default_factory=dict)
    # What Reserve assumed for the chosen node (None: nothing to bind).
    assumed: PodVolumes | None = None


def _copy(obj: core_pb2.PersistentVolume) -> core_pb2.PersistentVolume:
    out = core_pb2.PersistentVolume()
    out.CopyFrom(obj)
    return out


def _claim_copy(obj: core_pb2.PersistentVolumeClaim) -> core_pb2.PersistentVolumeClaim:
    out = core_pb2.PersistentVolumeClaim()
    out.CopyFrom(obj)
    return out


def prebound(
    volume: core_pb2.PersistentVolume, claim: core_pb2.PersistentVolumeClaim
) -> core_pb2.PersistentVolume:
    """GetBindVolumeToClaim: the volume with its claimRef on the claim, marked bound by the
    controller; the PV controller finishes the binding."""
    bound = _copy(volume)
    meta = claim.metadata
    bound.spec.claim_ref.CopyFrom(
        core_pb2.ObjectReference(
            kind="PersistentVolumeClaim",
            api_version="v1",
            namespace=meta.namespace,
            name=meta.name,
            uid=meta.uid,
            resource_version=meta.resource_version,
        )
    )
    bound.metadata.annotations.setdefault(c.ANN_BOUND_BY_CONTROLLER, "yes")
    return bound


class VolumeBinding:
    name = NAME

    def __init__(self, handle: Handle, bind_timeout: float = DEFAULT_BIND_TIMEOUT_SECONDS) -> None:
        self.claims = AssumeCache(handle.lister(resources.PERSISTENT_VOLUME_CLAIM))
        self.volumes = AssumeCache(handle.lister(resources.PERSISTENT_VOLUME))
        classes = handle.lister(resources.STORAGE_CLASS)
        self._pods: Lister[core_pb2.Pod] = handle.lister(resources.POD)
        self._nodes: Lister[core_pb2.Node] = handle.lister(resources.NODE)
        self._client: Client | None = handle.client
        self.binder = Binder(self.claims, self.volumes, classes.get)
        self.bind_timeout = bind_timeout

    def events_to_register(self) -> tuple[cluster_events.ClusterEventWithHint, ...]:
        events = (
            cluster_events.PVC_ADD,
            cluster_events.PVC_UPDATE,
            cluster_events.PV_ADD,
            cluster_events.PV_UPDATE,
            cluster_events.STORAGE_CLASS_ADD,
            cluster_events.STORAGE_CLASS_UPDATE,
            cluster_events.NODE_ADD,
            cluster_events.NODE_UPDATE,
        )
        return tuple(cluster_events.queue_always(event) for event in events)

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        if not claim_names(pod):
            state.write(_STATE_KEY, _State())
            return Status.skip()
        try:
            claims = self.binder.pod_claims(pod)
        except ClaimError as e:
            return Status.unresolvable(str(e))
        state.write(_STATE_KEY, _State(claims))
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        data = state.read(_STATE_KEY, _State)
        if data is None or data.claims is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        try:
            volumes, reasons = self.binder.find_pod_volumes(data.claims, node.labels, node.name)
        except BindError as e:
            return Status.error(str(e))
        if reasons:
            return Status.unresolvable(*reasons)
        data.by_node[node.name] = volumes
        return SUCCESS

    # ------------------------------------------------------------------ binding cycle
    def reserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """AssumePodVolumes."""
        data = state.read(_STATE_KEY, _State)
        if data is None:
            return SUCCESS
        needed = data.by_node.get(node_name)
        if needed is None or needed.empty:
            data.assumed = None  # every claim is bound already
            return SUCCESS
        assumed = PodVolumes()
        for volume, claim in needed.static_bindings:
            bound = prebound(volume, claim)
            self.volumes.assume(bound)
            assumed.static_bindings.append((bound, claim))
        for claim in needed.dynamic_provisions:
            annotated = _claim_copy(claim)
            annotated.metadata.annotations[c.ANN_SELECTED_NODE] = node_name
            self.claims.assume(annotated)
            assumed.dynamic_provisions.append(annotated)
        data.assumed = assumed
        return SUCCESS

    def unreserve(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> None:
        data = state.read(_STATE_KEY, _State)
        if data is not None and data.assumed is not None:
            self._forget(data.assumed)

    def _forget(self, assumed: PodVolumes) -> None:
        for volume, _ in assumed.static_bindings:
            self.volumes.restore(volume.metadata.name)
        for claim in assumed.dynamic_provisions:
            self.claims.restore(helpers.claim_key(claim))

    async def pre_bind(self, state: CycleState, pod: core_pb2.Pod, node_name: str) -> Status:
        """BindPodVolumes: the API writes, then the wait for the PV controller."""
        data = state.read(_STATE_KEY, _State)
        if data is None or data.assumed is None:
            return SUCCESS
        if self._client is None:
            return Status.error("binding volumes: no apiserver to write to")
        assumed = data.assumed
        try:
            written = await self._write(self._client, assumed)
            await self._wait_bound(pod, node_name, written)
        except BindingFailed as e:
            return Status.error(f"binding volumes: {e}")
        except Exception as e:  # noqa: BLE001 - the apiserver refused a write: schedule again
            details = e.details() if hasattr(e, "details") else str(e)
            return Status.error(str(details))
        finally:
            self._forget(assumed)
        return SUCCESS

    async def _write(self, client: Client, assumed: PodVolumes) -> PodVolumes:
        """bindAPIUpdate: the volumes prebound, the claims annotated; what the apiserver
        returned."""
        written = PodVolumes()
        for volume, claim in assumed.static_bindings:
            stored = await client.persistentvolumes.update(volume)
            written.static_bindings.append((stored, claim))
        for claim in assumed.dynamic_provisions:
            written.dynamic_provisions.append(await client.persistentvolumeclaims.update(claim))
        return written

    async def _wait_bound(self, pod: core_pb2.Pod, node_name: str, written: PodVolumes) -> None:
        deadline = asyncio.get_running_loop().time() + self.bind_timeout
        while not self._bound(pod, node_name, written):
            if asyncio.get_running_loop().time() >= deadline:
                raise BindingFailed("timed out waiting for the condition")
            await asyncio.sleep(POLL_SECONDS)

    def _bound(self, pod: core_pb2.Pod, node_name: str, written: PodVolumes) -> bool:
        """checkBindings, on what the apiserver said last (the listers): True once every claim
        is bound; BindingFailed when the binding was undone and the pod must be scheduled again."""
        current = self._pods.get(f"{pod.metadata.namespace}/{pod.metadata.name}")
        if current is None or current.metadata.uid != pod.metadata.uid:
            raise BindingFailed("pod does not exist any more")
        node = self._nodes.get(node_name)
        if node is None:
            raise BindingFailed(f'failed to get node "{node_name}"')
        labels = dict(node.metadata.labels)
        for volume_written, claim in written.static_bindings:
            volume = self.volumes.get_api(volume_written.metadata.name)
            claim_now = self.claims.get_api(helpers.claim_key(claim))
            if volume is None or claim_now is None:
                raise BindingFailed("failed to check binding: the volume or the claim is gone")
            if not newer_or_same(volume, volume_written):
                return False  # the informer has not seen the write yet
            self._check_reachable(volume, labels, node_name)
            if not volume.spec.HasField("claim_ref") or not volume.spec.claim_ref.uid:
                raise BindingFailed(f'ClaimRef got reset for pv "{volume.metadata.name}"')
            if not helpers.is_claim_fully_bound(claim_now):
                return False
        for claim_written in written.dynamic_provisions:
            claim_now = self.claims.get_api(helpers.claim_key(claim_written))
            if claim_now is None:
                raise BindingFailed("failed to check provisioning pvc: it is gone")
            if not newer_or_same(claim_now, claim_written):
                return False
            if claim_now.metadata.annotations.get(c.ANN_SELECTED_NODE) != node_name:
                # A provisioner that fails removes the annotation to ask for another node.
                raise BindingFailed(f'provisioning failed for PVC "{claim_now.metadata.name}"')
            if claim_now.spec.volume_name:
                volume = self.volumes.get_api(claim_now.spec.volume_name)
                if volume is None:
                    return False  # not seen yet
                self._check_reachable(volume, labels, node_name)
            if not helpers.is_claim_fully_bound(claim_now):
                return False
        return True

    @staticmethod
    def _check_reachable(
        volume: core_pb2.PersistentVolume, labels: Mapping[str, str], node_name: str
    ) -> None:
        if not volume_reachable(volume, labels, node_name):
            raise BindingFailed(
                f'pv "{volume.metadata.name}" node affinity doesn\'t match node "{node_name}": '
                f"no matching NodeSelectorTerms"
            )


def _new(args: PluginArgs, handle: Handle) -> VolumeBinding:
    timeout = args.get("bindTimeoutSeconds", DEFAULT_BIND_TIMEOUT_SECONDS)
    if not isinstance(timeout, int) or timeout < 0:
        raise ValueError(f"bindTimeoutSeconds: must be a non-negative integer, got {timeout!r}")
    return VolumeBinding(handle, float(timeout))


new = WithHandle(_new)
