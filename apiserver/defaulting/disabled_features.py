"""Fields of features Kubernetes 1.31 ships disabled, dropped from what a client writes as its
registry's PrepareForCreate and PrepareForUpdate drop them (kubernetes pkg/api/pod/util.go
dropDisabledFields, dropDisabledPodStatusFields): a new object loses them; an update keeps them
only where the stored object already used them, so nothing once accepted becomes unwritable.

The gates, at their 1.31 defaults: DynamicResourceAllocation (off: spec.resourceClaims,
containers' resources.claims, status.resourceClaimStatuses), InPlacePodVerticalScaling (off:
containers' resizePolicy, status.resize and containers' allocatedResources and resources),
UserNamespacesSupport (off: spec.hostUsers), SupplementalGroupsPolicy (off:
securityContext.supplementalGroupsPolicy, containers' status user), ProcMountType (off: a
procMount is forced to Default), ImageVolume (off: image volumes and their mounts),
ClusterTrustBundleProjection (off: clusterTrustBundle projections), ResourceHealthStatus (off:
containers' allocatedResourcesStatus). RecursiveReadOnlyMounts, PodLifecycleSleepAction,
MatchLabelKeysInPodAffinity, MatchLabelKeysInPodTopologySpread and
NodeInclusionPolicyInPodTopologySpread are on: their fields are kept."""

from __future__ import annotations

from apiserver.objects import pod_containers
from podplane.api.core.v1 import core_pb2


def _containers_use(spec: core_pb2.PodSpec | None, field: str) -> bool:
    return spec is not None and any(
        getattr(c, field) for c in (*spec.containers, *spec.init_containers)
    )


def _non_default_proc_mount(spec: core_pb2.PodSpec | None) -> bool:
    return spec is not None and any(
        c.security_context.HasField("proc_mount") and c.security_context.proc_mount != "Default"
        for c in pod_containers(spec)
    )


def _image_volumes(spec: core_pb2.PodSpec | None) -> bool:
    return spec is not None and any(v.HasField("image") for v in spec.volumes)


def _trust_bundles(spec: core_pb2.PodSpec | None) -> bool:
    return spec is not None and any(
        s.HasField("cluster_trust_bundle") for v in spec.volumes for s in v.projected.sources
    )


def _drop_image_volumes(spec: core_pb2.PodSpec) -> None:
    names = {v.name for v in spec.volumes if v.HasField("image")}
    if not names:
        return
    kept = [v for v in spec.volumes if not v.HasField("image")]
    del spec.volumes[:]
    spec.volumes.extend(kept)
    for c in pod_containers(spec):
        mounts = [m for m in c.volume_mounts if m.name not in names]
        del c.volume_mounts[:]
        c.volume_mounts.extend(mounts)


def drop_disabled_spec_fields(spec: core_pb2.PodSpec, old: core_pb2.PodSpec | None) -> None:
    """dropDisabledFields, for a pod's or a template's spec."""
    if old is None or not old.HasField("host_users"):
        spec.ClearField("host_users")
    if spec.HasField("security_context") and (
        old is None or not old.security_context.HasField("supplemental_groups_policy")
    ):
        spec.security_context.ClearField("supplemental_groups_policy")
    drop_claims = old is None or not old.resource_claims
    if drop_claims:
        del spec.resource_claims[:]
    # The containers' parts, in one pass over them (each a field of its own, so in any order).
    keep_proc_mount = _non_default_proc_mount(old)
    keep_resize_policy = _containers_use(old, "resize_policy")
    for c in pod_containers(spec):
        if c.HasField("security_context"):
            if not keep_proc_mount and c.security_context.HasField("proc_mount"):
                c.security_context.proc_mount = "Default"
        if drop_claims and c.HasField("resources") and c.resources.claims:
            del c.resources.claims[:]
        if not keep_resize_policy and c.resize_policy:
            del c.resize_policy[:]
    if not _trust_bundles(old):
        for v in spec.volumes:
            if v.HasField("projected"):
                for source in v.projected.sources:
                    source.ClearField("cluster_trust_bundle")
    if not _image_volumes(old):
        _drop_image_volumes(spec)


def drop_disabled_status_fields(pod: core_pb2.Pod, old: core_pb2.Pod | None) -> None:
    """dropDisabledPodStatusFields."""
    old_spec = old.spec if old is not None else None
    status = pod.status
    statuses = (
        *status.init_container_statuses,
        *status.container_statuses,
        *status.ephemeral_container_statuses,
    )
    if not _containers_use(old_spec, "resize_policy"):
        status.resize = ""
        for s in statuses:
            s.allocated_resources.clear()
            s.ClearField(
                "resources"
            )  # a scalar map and a field of the status itself: no side effect
    if old_spec is None or not old_spec.resource_claims:
        del status.resource_claim_statuses[:]
    for s in statuses:
        del s.allocated_resources_status[:]
    if old_spec is None or not old_spec.security_context.HasField("supplemental_groups_policy"):
        for s in statuses:
            s.ClearField("user")


def drop_disabled_pod_fields(pod: core_pb2.Pod, old: core_pb2.Pod | None) -> None:
    """DropDisabledPodFields."""
    drop_disabled_spec_fields(pod.spec, old.spec if old is not None else None)
    drop_disabled_status_fields(pod, old)


def drop_disabled_template_fields(
    template: core_pb2.PodTemplateSpec, old: core_pb2.PodTemplateSpec | None
) -> None:
    """DropDisabledTemplateFields, for the pod templates of workloads."""
    drop_disabled_spec_fields(template.spec, old.spec if old is not None else None)
