"""The flowcontrol.apiserver.k8s.io group's kinds (kubernetes pkg/registry/flowcontrol/flowschema,
prioritylevelconfiguration): created without status, an update keeps the stored status and a
status update the stored spec (the apiserver's API Priority and Fairness controller writes a
FlowSchema's Dangling condition); a spec change moves the generation."""

from __future__ import annotations

from google.protobuf.message import Message

from apiserver.defaulting import flowcontrol as defaulting
from apiserver.registry.strategies.base import StatusWrite, Strategy, clear_status, copy_status
from apiserver.validation import flowcontrol as validation
from podplane.api.flowcontrol.v1 import flowcontrol_pb2 as fc
from podplane.apimachinery import resources


def _keep_nothing(new: Message, stored: Message) -> None:
    return None


STRATEGIES: tuple[Strategy[fc.FlowSchema] | Strategy[fc.PriorityLevelConfiguration], ...] = (
    Strategy(
        resources.FLOW_SCHEMA,
        validation.flow_schema,
        validation.flow_schema_update,
        default=defaulting.flow_schema,
        prepare_for_create=clear_status,
        status_writes={
            "status": StatusWrite(copy_status, _keep_nothing, validation.flow_schema_status_update)
        },
    ),
    Strategy(
        resources.PRIORITY_LEVEL_CONFIGURATION,
        validation.priority_level,
        validation.priority_level_update,
        default=defaulting.priority_level,
        prepare_for_create=clear_status,
        status_writes={
            "status": StatusWrite(
                copy_status, _keep_nothing, validation.priority_level_status_update
            )
        },
    ),
)
