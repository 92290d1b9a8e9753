"""The scale subresource (autoscaling/v1 Scale) of the kinds that have one: the workloads
(Deployments, ReplicaSets, ReplicationControllers, StatefulSets) and the custom resources whose
definition asks for it (apiserver/registry/customresource/scale.py). A door reads an object's
Scale and writes a new replica count through the kind's Scaler."""

from __future__ import annotations

from typing import Any, Protocol

from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import object_meta
from apiserver.validation.fields import invalid, invalid_error
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.printers.labels import label_selector_string

SCALABLE_WORKLOADS = frozenset(
    {"deployments", "replicasets", "replicationcontrollers", "statefulsets"}
)


class Scaler(Protocol):
    def scale_of(self, obj: Message) -> JSONObject:
        """The object's autoscaling/v1 Scale."""
        ...

    def with_replicas(self, obj: Message, replicas: int) -> Message:
        """A copy of the object asking for `replicas`."""
        ...


def scale(meta: meta_pb2.ObjectMeta, replicas: int, current: int, selector: str) -> JSONObject:
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
            "resourceVersion": meta.resource_version,
            "creationTimestamp": meta.creation_timestamp or None,
        },
        "spec": {"replicas": replicas},
        "status": {"replicas": current, "selector": selector},
    }


class WorkloadScaler:
    """A workload's spec.replicas, status.replicas and selector."""

    def scale_of(self, obj: Message) -> JSONObject:
        workload: Any = obj  # a Deployment, ReplicaSet, ReplicationController or StatefulSet
        spec, status = workload.spec, workload.status
        selector = spec.selector
        if isinstance(selector, meta_pb2.LabelSelector):  # apps/v1
            text = label_selector_string(selector)
        else:  # ReplicationController: a map
            text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return scale(object_meta(obj), spec.replicas, status.replicas, text)

    def with_replicas(self, obj: Message, replicas: int) -> Message:
        updated = type(obj)()
        updated.CopyFrom(obj)
        workload: Any = updated
        workload.spec.replicas = replicas
        return updated


def replicas_of(wanted: JSONValue, name: str) -> tuple[int, str]:
    """The replicas a Scale asks for and the resourceVersion it names; a 400 for a Scale that is
    not one, a 422 for negative replicas."""
    if not isinstance(wanted, dict):
        raise errors.bad_request("Scale: expected an object")
    spec = wanted.get("spec") or {}
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else None
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise errors.bad_request(f"spec.replicas: Invalid value: {replicas!r}: must be an integer")
    if not -(2**31) <= replicas < 2**31:  # an int32 (autoscaling/v1 ScaleSpec)
        raise errors.bad_request(
            f"spec.replicas: Invalid value: {replicas}: out of range for a 32-bit integer"
        )
    if replicas < 0:
        raise invalid_error(
            "Scale",
            name,
            [invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
            "autoscaling",
        )
    meta = wanted.get("metadata") or {}
    return replicas, str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""
