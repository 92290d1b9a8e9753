"""Deployment rollouts as kubectl's rollout verbs see them (polymorphichelpers rollout_status.go,
rollback.go, history.go): the status line of a rollout and when it is done, the replica sets that
are its revisions, a rollback's new deployment (client side, as kubectl does it now: the pod
template and annotations of the revision's ReplicaSet, which the controller rolls out as a new
revision), and the revision history table."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

import grpc

from podctl.errors import CommandError
from podctl.printers.tabwriter import describe_writer
from podctl.workloads.owners import controller_of, label_query, template_without_hash
from podplane.api.apps.v1 import apps_pb2
from podplane.client.clientset import Client, ResourceClient, status_code

# The kinds whose rollouts podctl follows.
W = TypeVar("W", apps_pb2.Deployment, apps_pb2.DaemonSet, apps_pb2.StatefulSet)

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
# The deployment's own annotations, kept through a rollback rather than taken from the revision.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def revision_of(obj: apps_pb2.Deployment | apps_pb2.ReplicaSet) -> int | None:
    try:
        return int(obj.metadata.annotations[REVISION_ANNOTATION])
    except (KeyError, ValueError):
        return None


def rollout_status(d: apps_pb2.Deployment, revision: int = 0) -> tuple[str, bool]:
    """kubectl's DeploymentStatusViewer: the line to print and whether the rollout is done."""
    name = d.metadata.name
    if revision > 0:
        current = revision_of(d)
        if current is None:
            raise CommandError(f'error: cannot get the revision of deployment "{name}"')
        if current != revision:
            raise CommandError(
                f"error: desired revision ({revision}) is different from the "
                f"running revision ({current})"
            )
    status = d.status
    if d.metadata.generation > status.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    for c in status.conditions:
        if c.type == "Progressing" and c.reason == TIMED_OUT_REASON:
            raise CommandError(f'error: deployment "{name}" exceeded its progress deadline')
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if d.spec.HasField("replicas") and status.updated_replicas < d.spec.replicas:
        return (
            f"{waiting}{status.updated_replicas} out of {d.spec.replicas} new replicas have "
            "been updated..."
        ), False
    if status.replicas > status.updated_replicas:
        return (
            f"{waiting}{status.replicas - status.updated_replicas} old replicas are pending "
            "termination..."
        ), False
    if status.available_replicas < status.updated_replicas:
        return (
            f"{waiting}{status.available_replicas} of {status.updated_replicas} updated "
            "replicas are available..."
        ), False
    return f'deployment "{name}" successfully rolled out', True


async def follow_rollout(
    api: ResourceClient[W],
    namespace: str,
    name: str,
    show: Callable[[W], bool],
    obj: W,
) -> None:
    """Watches the deployment, daemon set or stateful set until its rollout is done (`show` of
    its status says so), resuming a watch that ends."""
    version = obj.metadata.resource_version
    while True:
        try:
            async for event in api.watch(
                namespace, resource_version=version, field_selector=f"metadata.name={name}"
            ):
                if event.type == "BOOKMARK":
                    version = event.object.metadata.resource_version
                    continue
                if event.type == "DELETED":
                    raise CommandError("error: object has been deleted")
                version = event.object.metadata.resource_version
                if show(event.object):
                    return
        except grpc.aio.AioRpcError as e:
            if status_code(e) != grpc.StatusCode.OUT_OF_RANGE:
                raise
            obj = await api.get(name, namespace)
            version = obj.metadata.resource_version
            if show(obj):
                return


async def owned_replica_sets(client: Client, d: apps_pb2.Deployment) -> list[apps_pb2.ReplicaSet]:
    """The deployment's replica sets: those its selector matches that it controls."""
    items, _ = await client.replicasets.list_all(
        d.metadata.namespace, label_selector=label_query(d)
    )
    return [
        rs for rs in items if (ref := controller_of(rs)) is not None and ref.uid == d.metadata.uid
    ]


def replica_set_for_revision(
    d: apps_pb2.Deployment, rss: list[apps_pb2.ReplicaSet], to_revision: int
) -> apps_pb2.ReplicaSet:
    """The replica set of `to_revision`, or of the one before the latest when 0."""
    if to_revision < 0:
        raise CommandError(f"error: unable to find specified revision {to_revision} in history")
    if to_revision > 0:
        for rs in rss:
            if revision_of(rs) == to_revision:
                return rs
        raise CommandError(f"error: unable to find specified revision {to_revision} in history")
    ranked = sorted((r, rs) for rs in rss if (r := revision_of(rs)) is not None)
    if len(ranked) < 2:
        raise CommandError(f'error: no rollout history found for deployment "{d.metadata.name}"')
    return ranked[-2][1]


def rolled_back(d: apps_pb2.Deployment, rs: apps_pb2.ReplicaSet) -> apps_pb2.Deployment | None:
    """The deployment with the replica set's template and annotations; None if it already has
    that template."""
    template = template_without_hash(rs.spec.template)
    if template == template_without_hash(d.spec.template):
        return None
    out = apps_pb2.Deployment()
    out.CopyFrom(d)
    out.spec.template.CopyFrom(template)
    annotations = {k: v for k, v in d.metadata.annotations.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update(
        {k: v for k, v in rs.metadata.annotations.items() if k not in ANNOTATIONS_TO_SKIP}
    )
    out.metadata.annotations.clear()
    out.metadata.annotations.update(annotations)
    return out


def history_table(rss: list[apps_pb2.ReplicaSet]) -> str:
    """REVISION and CHANGE-CAUSE of each of a deployment's revisions, oldest first."""
    causes: dict[int, str] = {}
    for rs in rss:
        if (r := revision_of(rs)) is not None:
            causes[r] = rs.metadata.annotations.get(CHANGE_CAUSE_ANNOTATION, "")
    return revisions_table(causes)


def revisions_table(causes: dict[int, str]) -> str:
    """printHistory's table: each revision and its change cause, oldest first."""
    if not causes:
        return "No rollout history found."
    out = io.StringIO()
    w = describe_writer(out)
    w.write("REVISION\tCHANGE-CAUSE\n")
    for r in sorted(causes):
        w.write(f"{r}\t{causes[r] or '<none>'}\n")
    w.flush()
    return out.getvalue()
