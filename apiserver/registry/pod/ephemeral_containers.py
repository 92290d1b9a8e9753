"""The pods/ephemeralcontainers subresource (kubernetes pkg/registry/core/pod/storage
EphemeralContainersREST with podEphemeralContainersStrategy): of the request, only
spec.ephemeralContainers is taken; the rest of the pod stays as stored."""

from __future__ import annotations

from apiserver.defaulting import pod as pod_defaulting
from apiserver.defaulting.disabled_features import drop_disabled_pod_fields
from apiserver.registry.generic.managed_fields import SERVER, Manager
from apiserver.registry.generic.store import Store
from apiserver.registry.generic.update import admitted_update
from apiserver.validation import pod_update as pod_update_validation
from podplane.api.core.v1 import core_pb2


async def update_ephemeral_containers(
    pods: Store[core_pb2.Pod], request: core_pb2.Pod, manager: Manager = SERVER
) -> core_pb2.Pod:
    meta = request.metadata
    namespace = meta.namespace or "default"

    async def apply(current: core_pb2.Pod) -> core_pb2.Pod:
        new = core_pb2.Pod()
        new.CopyFrom(current)
        del new.spec.ephemeral_containers[:]
        new.spec.ephemeral_containers.extend(request.spec.ephemeral_containers)
        for container in new.spec.ephemeral_containers:
            pod_defaulting.container(container)
        pods.managed_fields.updated(new, current, manager, "ephemeralcontainers")
        drop_disabled_pod_fields(new, current)
        if new.spec != current.spec:
            new.metadata.generation = current.metadata.generation + 1
        # Admitted as an update of the subresource (Pod Security checks the pod with its new
        # containers), around the subresource's own validation.
        await admitted_update(
            pods,
            new,
            current,
            "ephemeralcontainers",
            manager,
            dry_run=False,
            validate_update=pod_update_validation.pod_ephemeral_containers_update,
        )
        return new

    return await pods.guaranteed_update(
        namespace, meta.name, apply, expected_rv=meta.resource_version, expected_uid=meta.uid
    )
