"""Controllers and what they own: an object's controller reference, a controller's selector as
the label query that finds what it may own (kubectl's polymorphichelpers SelectorsForObject), and
a pod template without the hash label a deployment's controller adds to tell its replica sets
apart."""

from __future__ import annotations

from google.protobuf.message import Message

from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.meta import object_meta
from podplane.printers.labels import format_label_selector, format_labels

# The kinds whose controllers own pods (or replica sets) through a selector.
Workload = (
    core_pb2.ReplicationController
    | apps_pb2.ReplicaSet
    | apps_pb2.Deployment
    | apps_pb2.DaemonSet
    | apps_pb2.StatefulSet
    | batch_pb2.Job
)

# The label a deployment's controller adds to tell its replica sets' templates apart.
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"


def controller_of(obj: Message) -> meta_pb2.OwnerReference | None:
    """The owner reference marked as the object's controller, if any."""
    for ref in object_meta(obj).owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def controlled_by(obj: Message, owner_uid: str) -> bool:
    """Whether the object's controller is the owner with this uid."""
    ref = controller_of(obj)
    return ref is not None and ref.uid == owner_uid


def label_query(obj: Workload) -> str:
    """The controller's selector as a list request's labelSelector ("" for none): what to list to
    find the pods (or replica sets) it may control."""
    selector = obj.spec.selector
    if isinstance(selector, meta_pb2.LabelSelector):  # a ReplicationController's is a map
        text = format_label_selector(selector)
    else:
        text = format_labels(selector)
    return "" if text == "<none>" else text


def template_without_hash(template: core_pb2.PodTemplateSpec) -> core_pb2.PodTemplateSpec:
    copy = core_pb2.PodTemplateSpec()
    copy.CopyFrom(template)
    copy.metadata.labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return copy
