"""Graceful deletion and finalizers (kubernetes staging/src/k8s.io/apiserver/pkg/registry/rest/
delete.go BeforeDelete, generic/registry/store.go, pkg/registry/core/pod/strategy.go
CheckGracefulDelete).

Deleting an object that has finalizers, or a pod running on a node, only marks it: it gets
metadata.deletionTimestamp (now + grace period) and deletionGracePeriodSeconds, and stays until its
finalizers are removed and, for a pod, its kubelet has stopped it and deletes it with grace 0."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic

from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import T, object_meta
from podplane.api.apiextensions.v1 import apiextensions_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import priority, resources, timeutil
from podplane.apimachinery.apiextensions import definitions as crds
from podplane.apimachinery.resources import Resource

DEFAULT_POD_GRACE_PERIOD = 30
PROPAGATION_POLICIES = ("", "Orphan", "Background", "Foreground")
# The finalizers through which the garbage collector carries out Orphan and Foreground deletion.
ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
_POLICY_FINALIZERS = {"Orphan": ORPHAN_FINALIZER, "Foreground": FOREGROUND_FINALIZER}
# Namespaces every cluster needs (kube-apiserver refuses to delete them).
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
# A mirror pod is the API's copy of a kubelet's static pod: no containers hang on it.
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


@dataclass(frozen=True)
class Decision(Generic[T]):
    """What a delete request does to the object as stored."""

    delete_now: bool
    # The object with its deletion marks set or shortened; None if it is left as it is.
    marked: T | None = None


def check_request(resource: Resource, name: str, propagation_policy: str) -> None:
    if propagation_policy not in PROPAGATION_POLICIES:
        raise errors.bad_request(
            f'propagationPolicy: Unsupported value: "{propagation_policy}": supported values: '
            f'"Orphan", "Background", "Foreground"'
        )
    refusal = undeletable(resource, name)
    if refusal is not None:
        raise errors.forbidden(resource, name, refusal)


def undeletable(resource: Resource, name: str) -> str | None:
    """Why the server keeps this object whoever asks (the namespaces and priority classes every
    cluster has), or None."""
    if resource is resources.NAMESPACE and name in IMMORTAL_NAMESPACES:
        return "this namespace may not be deleted"
    if resource is resources.PRIORITY_CLASS and name in priority.SYSTEM_PRIORITY_CLASS_NAMES:
        return "this is a system priority class and cannot be deleted"
    return None


def grace_period(resource: Resource, obj: Message, requested: int | None) -> int:
    """The grace period this deletion gets: pods use theirs unless not running on a node or
    mirror pods (deleting one stops nothing); every other kind is deleted at once (or held by
    its finalizers)."""
    if resource is not resources.POD or not isinstance(obj, core_pb2.Pod):
        return 0
    if requested is not None:
        period = requested
    elif obj.spec.HasField("termination_grace_period_seconds"):
        period = obj.spec.termination_grace_period_seconds
    else:
        period = DEFAULT_POD_GRACE_PERIOD
    if (
        not obj.spec.node_name
        or obj.status.phase in ("Succeeded", "Failed")
        or MIRROR_POD_ANNOTATION in obj.metadata.annotations
    ):
        period = 0
    return 1 if period < 0 else int(period)


def has_pending_finalizers(resource: Resource, obj: Message) -> bool:
    if object_meta(obj).finalizers:
        return True
    # A namespace is held by spec.finalizers ("kubernetes") until its content is deleted.
    return (
        resource is resources.NAMESPACE
        and isinstance(obj, core_pb2.Namespace)
        and bool(obj.spec.finalizers)
    )


def decide(
    resource: Resource, obj: T, requested: int | None, propagation_policy: str = ""
) -> Decision[T]:
    meta = object_meta(obj)
    policy_finalizer = _POLICY_FINALIZERS.get(propagation_policy)
    if policy_finalizer and not meta.deletion_timestamp and policy_finalizer not in meta.finalizers:
        # Orphan or Foreground: the garbage collector finishes the deletion (store.go
        # deletionFinalizersForGarbageCollection).
        obj = _copy(obj)
        meta = object_meta(obj)
        meta.finalizers.append(policy_finalizer)
    if (
        resource is resources.CUSTOM_RESOURCE_DEFINITION
        and isinstance(obj, apiextensions_pb2.CustomResourceDefinition)
        and not meta.deletion_timestamp
    ):
        # Its objects go first: the apiserver's finalizer deletes them (crd_finalizer.go).
        obj = _copy(obj)
        meta = object_meta(obj)
        crds.mark_terminating(obj)
    pending = has_pending_finalizers(resource, obj)
    grace = grace_period(resource, obj, requested)
    if meta.deletion_timestamp:
        current = meta.deletion_grace_period_seconds
        if current == 0:
            # Already due: only finalizers still hold it.
            return Decision(delete_now=not pending)
        if requested is None or grace >= current:
            return Decision(delete_now=False)  # graceful deletion is already pending
        # Only a shorter grace period may be given.
        if grace == 0 and not pending:
            return Decision(delete_now=True)
        marked = _copy(obj)
        started = (timeutil.parse(meta.deletion_timestamp) or datetime.now(UTC)) - timedelta(
            seconds=current
        )
        marked_meta = object_meta(marked)
        marked_meta.deletion_timestamp = timeutil.format_time(started + timedelta(seconds=grace))
        marked_meta.deletion_grace_period_seconds = grace
        return Decision(delete_now=False, marked=marked)
    if grace == 0 and not pending:
        return Decision(delete_now=True)
    marked = _copy(obj)
    m = object_meta(marked)
    m.deletion_timestamp = timeutil.format_time(datetime.now(UTC) + timedelta(seconds=grace))
    m.deletion_grace_period_seconds = grace
    if m.generation > 0:
        m.generation += 1  # controllers of an object being deleted act differently
    if resource is resources.NAMESPACE and isinstance(marked, core_pb2.Namespace):
        marked.status.phase = "Terminating"
    return Decision(delete_now=False, marked=marked)


def due_for_removal(resource: Resource, obj: Message) -> bool:
    """An update that removed the last finalizer of an object whose grace period is over deletes
    it (store.go shouldDeleteDuringUpdate)."""
    meta = object_meta(obj)
    return (
        bool(meta.deletion_timestamp)
        and meta.deletion_grace_period_seconds == 0
        and not has_pending_finalizers(resource, obj)
    )


def _copy(obj: T) -> T:
    out = type(obj)()
    out.CopyFrom(obj)
    return out
