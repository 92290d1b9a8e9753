"""HorizontalPodAutoscalers (kubernetes pkg/registry/autoscaling/horizontalpodautoscaler): a create
starts with no status, an update keeps the stored status and a status update the stored spec; the
horizontal pod autoscaler controller writes the status.

Served at autoscaling/v2 (stored) and autoscaling/v1: the v1 strategy validates, and decides what
changed, on the object converted to v2 (as Kubernetes validates its internal type), and treats
the annotations that carry v2's status (current metrics, conditions) as part of the status."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from apiserver.defaulting import autoscaling as defaulting
from apiserver.registry.strategies.base import StatusWrite, Strategy, clear_status, copy_status
from apiserver.validation import autoscaling as validation
from apiserver.validation.fields import FieldError
from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.apimachinery import resources
from podplane.apimachinery.autoscaling import conversion, round_trip

V1Autoscaler = v1.HorizontalPodAutoscaler


def _keep_nothing(new: Message, stored: Message) -> None:
    return None


_V2 = Strategy(
    resources.HORIZONTAL_POD_AUTOSCALER,
    validation.horizontal_pod_autoscaler,
    validation.horizontal_pod_autoscaler_update,
    default=defaulting.horizontal_pod_autoscaler,
    prepare_for_create=clear_status,
    status_writes={
        "status": StatusWrite(
            copy_status, _keep_nothing, validation.horizontal_pod_autoscaler_status_update
        )
    },
)


# ------------------------------------------------------------------ autoscaling/v1
def _copy_status_annotations(dst: V1Autoscaler, src: V1Autoscaler) -> None:
    for key in round_trip.STATUS:
        if key in src.metadata.annotations:
            dst.metadata.annotations[key] = src.metadata.annotations[key]
        elif key in dst.metadata.annotations:
            del dst.metadata.annotations[key]


def _v1_copy_status(dst: V1Autoscaler, src: V1Autoscaler) -> None:
    copy_status(dst, src)
    _copy_status_annotations(dst, src)


def _v1_clear_status(obj: V1Autoscaler) -> None:
    clear_status(obj)
    for key in round_trip.STATUS:
        if key in obj.metadata.annotations:
            del obj.metadata.annotations[key]


def _v1_validate(obj: V1Autoscaler) -> list[FieldError]:
    return validation.horizontal_pod_autoscaler(conversion.to_v2(obj))


def _v1_validate_update(new: V1Autoscaler, old: V1Autoscaler) -> list[FieldError]:
    return validation.horizontal_pod_autoscaler_update(conversion.to_v2(new), conversion.to_v2(old))


def _v1_validate_status_update(new: V1Autoscaler, old: V1Autoscaler) -> list[FieldError]:
    return validation.horizontal_pod_autoscaler_status_update(
        conversion.to_v2(new), conversion.to_v2(old)
    )


def _v1_spec_changed(new: V1Autoscaler, old: V1Autoscaler) -> bool:
    return bool(conversion.to_v2(new).spec != conversion.to_v2(old).spec)


_V1 = Strategy(
    resources.HORIZONTAL_POD_AUTOSCALER_V1,
    _v1_validate,
    _v1_validate_update,
    default=defaulting.horizontal_pod_autoscaler_v1,
    prepare_for_create=_v1_clear_status,
    keep_status=_v1_copy_status,
    take_status=_v1_copy_status,
    generation_changed=_v1_spec_changed,
    status_writes={
        "status": StatusWrite(_v1_copy_status, _keep_nothing, _v1_validate_status_update)
    },
)

STRATEGIES: tuple[Strategy[Any], ...] = (_V2,)
# The other served versions' strategies (resources.OTHER_VERSIONS), by API version and plural.
OTHER_VERSIONS: tuple[Strategy[Any], ...] = (_V1,)
