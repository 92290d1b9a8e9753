"""The pod disruption budget, priority class and runtime class tables, as
printPodDisruptionBudget, printPriorityClass and printRuntimeClass."""

from __future__ import annotations

from datetime import datetime

from podplane.api.node.v1 import node_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column


def pod_disruption_budget_row(pdb: policy_pb2.PodDisruptionBudget, now: datetime) -> list[Cell]:
    spec = pdb.spec
    return [
        pdb.metadata.name,
        spec.min_available if spec.HasField("min_available") else "N/A",
        spec.max_unavailable if spec.HasField("max_unavailable") else "N/A",
        pdb.status.disruptions_allowed,
        human_age(pdb.metadata.creation_timestamp, now),
    ]


def priority_class_row(pc: scheduling_pb2.PriorityClass, now: datetime) -> list[Cell]:
    return [
        pc.metadata.name,
        pc.value,
        "true" if pc.global_default else "false",
        human_age(pc.metadata.creation_timestamp, now),
        pc.preemption_policy if pc.HasField("preemption_policy") else "<unset>",
    ]


def runtime_class_row(rc: node_pb2.RuntimeClass, now: datetime) -> list[Cell]:
    return [rc.metadata.name, rc.handler, human_age(rc.metadata.creation_timestamp, now)]


POD_DISRUPTION_BUDGET_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Min Available", "string", "The minimum number of pods that must be available."),
        Column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        Column(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        age_column(),
    ),
    row=pod_disruption_budget_row,
)
PRIORITY_CLASS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Value",
            "integer",
            "value represents the integer value of this priority class. This is the actual "
            "priority that pods receive when they have the name of this class in their pod spec.",
        ),
        Column(
            "Global-Default",
            "boolean",
            "globalDefault specifies whether this PriorityClass should be considered as the "
            "default priority for pods that do not have any priority class. Only one "
            "PriorityClass can be marked as `globalDefault`. However, if more than one "
            "PriorityClasses exists with their `globalDefault` field set to true, the smallest "
            "value of such global default PriorityClasses will be used as the default priority.",
        ),
        age_column(),
        Column(
            "PreemptionPolicy",
            "string",
            "preemptionPolicy is the Policy for preempting pods with lower priority. One of "
            "Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
        ),
    ),
    row=priority_class_row,
)
RUNTIME_CLASS_TABLE = TableSpec(
    # Kubernetes describes Handler with ObjectMeta's (missing) "handler" doc, so with nothing:
    # RuntimeClass's own is given instead.
    columns=(
        name_column(),
        Column(
            "Handler",
            "string",
            "handler specifies the underlying runtime and configuration that the CRI "
            "implementation will use to handle pods of this class.",
        ),
        age_column(),
    ),
    row=runtime_class_row,
)
