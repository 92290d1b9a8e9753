"""The DaemonSet controller's writes of pods (kubernetes pkg/controller/daemon syncNodes,
util.CreatePodTemplate, and controller.RealPodControl): pods created for nodes in slow-start
batches and pods deleted, at most a burst of each a pass, with the expectations that keep the
DaemonSet from being acted on again before its informer shows them, and an event for each."""

from __future__ import annotations

import asyncio
import itertools

import grpc

from controller.daemon import nodes as eligibility
from controller.daemon import placement
from controller.framework.controller_ref import new_controller_ref, pod_key
from controller.framework.expectations import Expectations
from controller.framework.slow_start import slow_start_batch
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import (
    Client,
    is_conflict,
    is_namespace_terminating,
    is_not_found,
)
from podplane.client.events import NORMAL, WARNING, EventRecorder

# The most pods created or deleted for one DaemonSet in one pass (BurstReplicas).
BURST_REPLICAS = 250

DaemonSet = apps_pb2.DaemonSet
Pod = core_pb2.Pod


def error_message(err: BaseException) -> str:
    if isinstance(err, grpc.aio.AioRpcError):
        return str(err.details() or err.code())
    return str(err)


def pod_template(ds: DaemonSet, hash_: str) -> core_pb2.PodTemplateSpec:
    """CreatePodTemplate: the template with the daemon tolerations, the template generation
    and the revision's hash."""
    template = core_pb2.PodTemplateSpec()
    template.CopyFrom(ds.spec.template)
    eligibility.add_daemon_tolerations(template.spec)
    generation = placement.template_generation(ds)
    if generation is not None:
        template.metadata.labels[placement.TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash_:
        template.metadata.labels[placement.REVISION_HASH_LABEL] = hash_
    return template


def new_pod(ds: DaemonSet, template: core_pb2.PodTemplateSpec, node: str) -> Pod:
    """A pod from the template for `node`, controlled by the DaemonSet."""
    pod = Pod()
    meta = pod.metadata
    meta.namespace = ds.metadata.namespace
    meta.generate_name = f"{ds.metadata.name}-"
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.finalizers.extend(template.metadata.finalizers)
    meta.owner_references.append(new_controller_ref(ds, resources.DAEMON_SET))
    pod.spec.CopyFrom(template.spec)
    eligibility.set_node_affinity(pod.spec, node)
    return pod


class DaemonPodControl:
    def __init__(
        self,
        client: Client,
        expectations: Expectations,
        events: EventRecorder,
        *,
        burst_replicas: int = BURST_REPLICAS,
    ) -> None:
        self.client = client
        self.expectations = expectations
        self.events = events
        self.burst_replicas = burst_replicas

    async def sync_nodes(
        self, key: str, ds: DaemonSet, delete: list[Pod], create_on: list[str], hash_: str
    ) -> None:
        """syncNodes: creates a pod for each node of `create_on` (in slow-start batches) and
        deletes `delete`, at most the burst of each, expecting to see every write."""
        create_on, delete = create_on[: self.burst_replicas], delete[: self.burst_replicas]
        self.expectations.expect(key, len(create_on), [pod_key(p) for p in delete])
        if not create_on and not delete:
            return
        template = pod_template(ds, hash_)
        targets = iter(create_on)
        created, error = await slow_start_batch(
            len(create_on), lambda: self._create_pod(ds, template, next(targets))
        )
        # Creations that failed or never ran will not be observed.
        for _ in range(len(create_on) - created):
            self.expectations.creation_observed(key)
        results = await asyncio.gather(
            *(self._delete_pod(key, ds, p) for p in delete), return_exceptions=True
        )
        for r in itertools.chain([error], results):
            if isinstance(r, BaseException):
                raise r

    async def _create_pod(
        self, ds: DaemonSet, template: core_pb2.PodTemplateSpec, node: str
    ) -> None:
        try:
            pod = await self.client.pods.create(new_pod(ds, template, node))
        except Exception as e:
            if is_namespace_terminating(e):
                return  # every create would fail; the namespace controller deletes the set
            self.events.record(ds, WARNING, "FailedCreate", f"Error creating: {error_message(e)}")
            raise
        self.events.record(ds, NORMAL, "SuccessfulCreate", f"Created pod: {pod.metadata.name}")

    async def _delete_pod(self, key: str, ds: DaemonSet, pod: Pod) -> None:
        meta = pod.metadata
        try:
            await self.client.pods.delete(meta.name, meta.namespace, uid=meta.uid)
        except Exception as e:
            # Its deletion will not be observed: do not wait for it.
            self.expectations.deletion_observed(key, pod_key(pod))
            if is_not_found(e) or is_conflict(e):
                return
            self.events.record(ds, WARNING, "FailedDelete", f"Error deleting: {error_message(e)}")
            raise
        self.events.record(ds, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta.name}")
