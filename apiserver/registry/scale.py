"""The scale subresource (autoscaling/v1 Scale) of the kinds that have one: the workloads
(Deployments, ReplicaSets, ReplicationControllers, StatefulSets) and the custom resources whose
definition asks for it (apiserver/registry/customresource/scale.py). A door reads an object's
Scale and writes a new replica count through the kind's Scaler."""

from __future__ import annotations

from typing import Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import object_meta
from apiserver.validation.fields import invalid, invalid_error
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.fieldmanager.manager import group_version_kind
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.printers.labels import label_selector_string

SCALABLE_WORKLOADS = frozenset(
    {"deployments", "replicasets", "replicationcontrollers", "statefulsets"}
)
# Their messages, which WorkloadScaler reads and writes.
WORKLOADS = (
    apps_pb2.Deployment,
    apps_pb2.ReplicaSet,
    core_pb2.ReplicationController,
    apps_pb2.StatefulSet,
)

# The kind a Scaler writes the replicas of: with_replicas answers a copy of the same kind.
M = TypeVar("M", bound=Message)


class Scaler(Protocol):
    def scale_of(self, obj: Message) -> JSONObject:
        """The object's autoscaling/v1 Scale."""
        ...

    def with_replicas(self, obj: M, replicas: int) -> M:
        """A copy of the object asking for `replicas`."""
        ...

    def replicas_path(self) -> list[str]:
        """Where the object asks for its replicas (the Scale's spec.replicas)."""
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
        assert isinstance(obj, WORKLOADS)
        spec, status = obj.spec, obj.status
        selector = spec.selector
        if isinstance(selector, meta_pb2.LabelSelector):  # apps/v1
            text = label_selector_string(selector)
        else:  # ReplicationController: a map
            text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return scale(object_meta(obj), spec.replicas, status.replicas, text)

    def with_replicas(self, obj: M, replicas: int) -> M:
        updated = type(obj)()
        updated.CopyFrom(obj)
        assert isinstance(updated, WORKLOADS)
        updated.spec.replicas = replicas
        return updated

    def replicas_path(self) -> list[str]:
        return ["spec", "replicas"]


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


def applied_to_parent(
    scaler: Scaler, api_version: str, kind: str, config: JSONObject, name: str
) -> JSONObject:
    """An autoscaling/v1 Scale applied to the scale subresource, as the configuration of its
    object (k8s.io/apiserver's ScaleHandler: the Scale's spec.replicas is the object's replicas
    path, and what the applier owns there is recorded on the object, subresource `scale`): its
    name, the resourceVersion it names, and its replicas when it gives them. A configuration
    that is not a Scale is a 400, negative replicas a 422."""
    gvk = group_version_kind(config.get("apiVersion"), config.get("kind"))
    if gvk != "autoscaling/v1, Kind=Scale":
        raise errors.bad_request(f"invalid object type: {gvk}")
    replicas, resource_version = replicas_of(config, name)
    meta = config.get("metadata")
    given = meta.get("name") if isinstance(meta, dict) else None
    metadata: JSONObject = {"name": given if isinstance(given, str) and given else name}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    parent: JSONObject = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    spec = config.get("spec")
    if isinstance(spec, dict) and "replicas" in spec:
        *parents, last = scaler.replicas_path()
        node = parent
        for part in parents:
            child: JSONObject = {}
            node[part] = child
            node = child
        node[last] = replicas
    return parent
