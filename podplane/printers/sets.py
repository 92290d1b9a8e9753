"""The daemon set, stateful set and controller revision tables, as printDaemonSet,
printStatefulSet and printControllerRevision."""

from __future__ import annotations

from datetime import datetime

from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.labels import format_label_selector, format_labels
from podplane.printers.spec import (
    CONTAINERS_DOC,
    IMAGES_DOC,
    Cell,
    Column,
    TableSpec,
    age_column,
    name_column,
)
from podplane.printers.workloads import containers_images


def daemon_set_row(ds: apps_pb2.DaemonSet, now: datetime) -> list[Cell]:
    s = ds.status
    return [
        ds.metadata.name,
        s.desired_number_scheduled,
        s.current_number_scheduled,
        s.number_ready,
        s.updated_number_scheduled,
        s.number_available,
        format_labels(ds.spec.template.spec.node_selector),
        human_age(ds.metadata.creation_timestamp, now),
        *containers_images(ds.spec.template),
        format_label_selector(ds.spec.selector),
    ]


def stateful_set_row(sts: apps_pb2.StatefulSet, now: datetime) -> list[Cell]:
    replicas = sts.spec.replicas if sts.spec.HasField("replicas") else 1
    return [
        sts.metadata.name,
        f"{sts.status.ready_replicas}/{replicas}",
        human_age(sts.metadata.creation_timestamp, now),
        *containers_images(sts.spec.template),
    ]


def controller_name(revision: apps_pb2.ControllerRevision) -> str:
    """The revision's controller as kubectl names a resource: daemonset.apps/fluentd."""
    ref = next((r for r in revision.metadata.owner_references if r.controller), None)
    if ref is None:
        return "<none>"
    group = ref.api_version.rpartition("/")[0]
    kind = ref.kind.lower()
    return f"{kind}.{group}/{ref.name}" if group else f"{kind}/{ref.name}"


def controller_revision_row(revision: apps_pb2.ControllerRevision, now: datetime) -> list[Cell]:
    return [
        revision.metadata.name,
        controller_name(revision),
        revision.revision,
        human_age(revision.metadata.creation_timestamp, now),
    ]


DAEMON_SET_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Desired",
            "integer",
            "The total number of nodes that should be running the daemon pod (including nodes "
            "correctly running the daemon pod). More info: "
            "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
        ),
        Column(
            "Current",
            "integer",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run "
            "the daemon pod. More info: "
            "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
        ),
        Column(
            "Ready",
            "integer",
            "numberReady is the number of nodes that should be running the daemon pod and have "
            "one or more of the daemon pod running with a Ready Condition.",
        ),
        Column(
            "Up-to-date",
            "integer",
            "The total number of nodes that are running updated daemon pod",
        ),
        Column(
            "Available",
            "integer",
            "The number of nodes that should be running the daemon pod and have one or more of "
            "the daemon pod running and available (ready for at least spec.minReadySeconds)",
        ),
        Column(
            "Node Selector",
            "string",
            "NodeSelector is a selector which must be true for the pod to fit on a node. Selector "
            "which must match a node's labels for the pod to be scheduled on that node. More "
            "info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
        ),
        age_column(),
        Column("Containers", "string", CONTAINERS_DOC, priority=1),
        Column("Images", "string", IMAGES_DOC, priority=1),
        Column(
            "Selector",
            "string",
            "A label query over pods that are managed by the daemon set. Must match in order to "
            "be controlled. It must match the pod template's labels. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
            "#label-selectors",
            priority=1,
        ),
    ),
    row=daemon_set_row,
)
STATEFUL_SET_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Ready", "string", "Number of the pod with ready state"),
        age_column(),
        Column("Containers", "string", CONTAINERS_DOC, priority=1),
        Column("Images", "string", IMAGES_DOC, priority=1),
    ),
    row=stateful_set_row,
)
CONTROLLER_REVISION_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Controller", "string", "Controller of the object"),
        Column(
            "Revision",
            "string",
            "Revision indicates the revision of the state represented by Data.",
        ),
        age_column(),
    ),
    row=controller_revision_row,
)
