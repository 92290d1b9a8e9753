"""The API's messages as the controller's calculations take them: a Pod as a PodInfo (its phase,
deletion, Ready condition, start time, and the requests of its containers and sidecars), an
HPA's behavior as rules, a milli-value as a Quantity's text."""

from __future__ import annotations

import math
from decimal import Decimal

from controller.podautoscaler.pods import ContainerRequests, PodInfo, ReadyCondition
from controller.podautoscaler.rules import Behavior, ScalingPolicy, ScalingRules
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity, timeutil
from podplane.apimachinery.sidecars import is_sidecar


def _seconds(text: str) -> float | None:
    moment = timeutil.parse(text)
    return moment.timestamp() if moment else None


def milli_value(text: str) -> int:
    """Quantity.MilliValue: rounded up."""
    return math.ceil(quantity.parse(text) * 1000)


def milli_quantity(milli: int) -> str:
    """resource.NewMilliQuantity(milli, DecimalSI).String()."""
    return quantity.canonical(Decimal(milli) / 1000)


def _requests(container: core_pb2.Container) -> dict[str, int]:
    out = {}
    for name, text in container.resources.requests.items():
        try:
            out[name] = milli_value(text)
        except quantity.QuantityError:
            continue  # the apiserver validated it; a bad one counts as missing
    return out


def pod_info(pod: core_pb2.Pod) -> PodInfo:
    ready = next((c for c in pod.status.conditions if c.type == "Ready"), None)
    containers = [*pod.spec.containers, *(c for c in pod.spec.init_containers if is_sidecar(c))]
    return PodInfo(
        name=pod.metadata.name,
        phase=pod.status.phase,
        deleted=bool(pod.metadata.deletion_timestamp),
        ready=(
            None
            if ready is None
            else ReadyCondition(ready.status, _seconds(ready.last_transition_time) or 0.0)
        ),
        start_time=_seconds(pod.status.start_time),
        containers=tuple(ContainerRequests(c.name, _requests(c)) for c in containers),
    )


def _rules(msg: autoscaling_pb2.HPAScalingRules) -> ScalingRules:
    return ScalingRules(
        stabilization_window_seconds=(
            msg.stabilization_window_seconds
            if msg.HasField("stabilization_window_seconds")
            else None
        ),
        select_policy=msg.select_policy if msg.HasField("select_policy") else None,
        policies=(
            tuple(ScalingPolicy(p.type, p.value, p.period_seconds) for p in msg.policies)
            if msg.policies
            else None
        ),
    )


def behavior_of(spec: autoscaling_pb2.HorizontalPodAutoscalerSpec) -> Behavior | None:
    if not spec.HasField("behavior"):
        return None
    b = spec.behavior
    return Behavior(
        scale_up=_rules(b.scale_up) if b.HasField("scale_up") else None,
        scale_down=_rules(b.scale_down) if b.HasField("scale_down") else None,
    )
